// A silent source on the dashboard in headless Chromium (issue 21).  Started
// by e2e_console_silence.py, which runs the daemon (inputs `beacon` with
// expect_every: 10s and `quiet` with expect_every: off) and passes in:
//   HIKESHI_URL          http://127.0.0.1:PORT
//   HIKESHI_USER         {"name", "password"} of a viewer
//   HIKESHI_BEACON_PORT  the JSON-lines port of `beacon`
//   HIKESHI_CHROMIUM     the browser (default /usr/bin/chromium)
//   HIKESHI_SCREENSHOTS  where the screenshots go
// This script is the sender too: it writes a record to `beacon` over TCP,
// stops, and writes again later.  Prints one "ok - ..." / "not ok - ..."
// line per check; exit 0 only if all pass.

import net from 'node:net';
import { check, finish, launch, ready, runMain, shot, WAIT } from './lib.mjs';

const BASE = process.env.HIKESHI_URL;
const USER = JSON.parse(process.env.HIKESHI_USER || '{}');
const PORT = Number(process.env.HIKESHI_BEACON_PORT);
// expect_every (10 s) + the daemon's look once a second + the dashboard's
// refresh every 5 s, with room to spare on a loaded machine.
const SILENCE_WAIT = 30000;

// One JSON line to `beacon`, the connection closed once it is written.
function beat(mark) {
  return new Promise((resolve, reject) => {
    const c = net.createConnection({ host: '127.0.0.1', port: PORT }, () => {
      c.end(JSON.stringify({ message: 'heartbeat ' + mark }) + '\n', resolve);
    });
    c.on('error', reject);
  });
}

async function health() {
  const r = await fetch(BASE + '/api/v1/health');
  const j = await r.json();
  return Object.fromEntries((j.inputs || []).map((i) => [i.name, i]));
}

async function main() {
  const browser = await launch();
  const problems = [];
  try {
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    ctx.setDefaultTimeout(WAIT);
    const page = await ctx.newPage();
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/status of 401/.test(msg.text()))
        problems.push(msg.text());
    });
    page.on('pageerror', (e) => problems.push(String(e)));

    await page.goto(BASE + '/');
    await ready(page, 'login');
    const form = page.locator('form[data-testid=login-form]');
    await form.locator('input[name=name]').fill(USER.name);
    await form.locator('input[name=password]').fill(USER.password);
    await form.locator('button[type=submit]').click();
    await ready(page, 'dashboard');
    check(true, `${USER.name} logs in and lands on the dashboard`);

    const list = page.locator('[data-testid=sources]');
    const beacon = list.locator('li.source[data-input="beacon"]');
    const quiet = list.locator('li.source[data-input="quiet"]');
    const summary = page.locator('[data-testid=sources-summary]');

    // Sending: listed, not silent, its sender with the configured interval.
    const sent = Date.now();
    await beat('one');
    const sender = beacon.locator('li.sender[data-sender="127.0.0.1"]');
    await sender.waitFor({ timeout: WAIT });
    check(await beacon.getAttribute('data-silent') === '0' &&
          await sender.getAttribute('data-silent') === '0' &&
          await beacon.locator('.silent-badge').count() === 0,
          'a source that just sent is listed on the dashboard, not silent');
    const stext = await sender.textContent();
    check(/expected every 10 s/.test(stext) && /last record/.test(stext),
          'its sender shows its last record and the configured interval', stext);
    check(/not watched/.test(await quiet.textContent()),
          'the input with expect_every: off shows as not watched', await quiet.textContent());
    check(await summary.locator('.sources-alarm').count() === 0,
          'no alarm line while every source sends');

    // Silent: marked on the dashboard without a reload.
    const t0 = Date.now();
    await page.locator('li.source[data-input="beacon"][data-silent="1"]')
      .waitFor({ timeout: SILENCE_WAIT });
    const after = (Date.now() - sent) / 1000;
    check(after >= 9.5, `the source falls silent: marked on the dashboard ${after.toFixed(1)} s ` +
          `after its record (not before its 10 s), ${((Date.now() - t0) / 1000).toFixed(1)} s ` +
          'into the wait, no reload');
    const badge = beacon.locator('.source-line .silent-badge');
    check(await badge.isVisible() && (await badge.textContent()).trim() === 'SILENT',
          'the silent source carries a visible SILENT badge');
    check(await sender.getAttribute('data-silent') === '1',
          'its sender 127.0.0.1 is marked silent');
    const bg = await sender.evaluate((el) => getComputedStyle(el).backgroundColor);
    check(bg === 'rgb(224, 49, 49)', 'the silent sender is drawn red', bg);
    const alarm = summary.locator('.sources-alarm');
    check(await alarm.isVisible() && /1 source is silent: beacon/.test(await alarm.textContent()),
          'an alarm line above the list names the silent source', await alarm.textContent());
    check(await list.locator('li.source').first().getAttribute('data-input') === 'beacon',
          'the silent source is listed first');
    const hs = await health();
    check(hs.beacon && hs.beacon.silent === true && hs.beacon.senders[0].silent === true,
          'the health API says the same', hs.beacon);
    await shot(page, 'dashboard-silent-source');

    // Back: sending again, normal again.
    await beat('two');
    await page.locator('li.source[data-input="beacon"][data-silent="0"]')
      .waitFor({ timeout: SILENCE_WAIT });
    check(await sender.getAttribute('data-silent') === '0' &&
          await beacon.locator('.silent-badge').count() === 0 &&
          await summary.locator('.sources-alarm').count() === 0,
          'it sends again: back to normal, the badge and the alarm gone');
    await ctx.close();
  } finally {
    await browser.close();
  }
  check(problems.length === 0, 'no console errors or uncaught exceptions', problems);
  finish();
}

runMain(main);
