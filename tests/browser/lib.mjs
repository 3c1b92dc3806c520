// lib.mjs - what the console's browser tests share: one "ok - ..." or
// "not ok - ..." line per check, waiting for a page to say it is ready,
// screenshots, headless Chromium started the same way, and the end (exit 0
// only when every check passed).  Each test is started by its
// e2e_console_*.py, which passes the daemon's URL and its data in HIKESHI_*.
//   HIKESHI_CHROMIUM     the browser (default /usr/bin/chromium)
//   HIKESHI_SCREENSHOTS  where the screenshots go

import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const SHOTS = process.env.HIKESHI_SCREENSHOTS || 'console-screenshots';
export const WAIT = 15000;

let failures = 0;

export function check(cond, what, detail) {
  if (cond) {
    console.log('ok - ' + what);
  } else {
    failures++;
    console.log('not ok - ' + what + (detail === undefined ? '' : ' [' + JSON.stringify(detail) + ']'));
  }
  return !!cond;
}

// The console marks a page data-ready="1" once its data is drawn.
export const ready = (page, name) =>
  page.locator(`[data-page="${name}"][data-ready="1"]`).first().waitFor({ timeout: WAIT });

export async function shot(page, name) {
  const file = path.join(SHOTS, name + '.png');
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage: true });
  const size = fs.existsSync(file) ? fs.statSync(file).size : 0;
  check(size > 5000, `screenshot ${name}.png saved (${size} bytes)`);
}

// Headless Chromium that reaches nothing but the daemon under test.
export async function launch() {
  fs.mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.HIKESHI_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export function finish() {
  console.log(failures ? `${failures} browser checks failed` : 'all browser checks passed');
  process.exit(failures ? 1 : 0);
}

// Runs main(); an exception that escapes it is one more failed check.
export function runMain(main) {
  main().catch((e) => {
    console.log('not ok - the browser test ran to its end [' + String(e.stack || e) + ']');
    process.exit(1);
  });
}
