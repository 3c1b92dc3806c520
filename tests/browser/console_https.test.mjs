// The web console over HTTPS in headless Chromium (issue 15): the daemon's
// self-signed certificate, HSTS, and a session cookie the browser keeps as
// Secure.  Started by e2e_console_https.py, which passes in the environment:
//   HIKESHI_URL          https://localhost:PORT
//   HIKESHI_USER         {"name", "password"} of an analyst
//   HIKESHI_CERT_CN      the common name of the certificate the daemon made
//   HIKESHI_CHROMIUM     the browser (default /usr/bin/chromium)
//   HIKESHI_SCREENSHOTS  where the screenshot goes
// The browser does not trust the self-signed certificate (ignoreHTTPSErrors);
// the checks confirm it is the daemon's own by its subject.  Prints one
// "ok - ..." / "not ok - ..." line per check; exit 0 only if all pass.

import fs from 'node:fs';
import path from 'node:path';
import { check, finish, launch, ready, runMain, SHOTS, WAIT } from './lib.mjs';

const BASE = process.env.HIKESHI_URL;
const USER = JSON.parse(process.env.HIKESHI_USER || '{}');
const CN = process.env.HIKESHI_CERT_CN;

async function main() {
  const browser = await launch();
  const problems = [];
  try {
    const ctx = await browser.newContext({ ignoreHTTPSErrors: true,
                                           viewport: { width: 1366, height: 900 } });
    ctx.setDefaultTimeout(WAIT);
    const page = await ctx.newPage();
    page.on('console', (msg) => {
      // The login page asks whether anyone is logged in: 401 is its answer.
      if (msg.type() === 'error' && !/status of 401/.test(msg.text()))
        problems.push(msg.text());
    });
    page.on('pageerror', (e) => problems.push(String(e)));

    const resp = await page.goto(BASE + '/');
    const sec = resp ? await resp.securityDetails() : null;
    check(resp && resp.status() === 200 && resp.url().startsWith('https://'),
          'GET / over HTTPS: 200', resp && [resp.status(), resp.url()]);
    check(sec && sec.subjectName === CN && /^TLS 1\.[23]$/.test(sec.protocol || ''),
          `the daemon's own certificate (CN ${CN}) over TLS 1.2 or 1.3`, sec);
    const hsts = resp ? (await resp.allHeaders())['strict-transport-security'] : undefined;
    check(/^max-age=\d+/.test(hsts || ''), 'HSTS on the console page', hsts);

    await ready(page, 'login');
    const form = page.locator('form[data-testid=login-form]');
    await form.locator('input[name=name]').fill(USER.name);
    await form.locator('input[name=password]').fill(USER.password);
    await form.locator('button[type=submit]').click();
    await ready(page, 'dashboard');
    check(true, `${USER.name} logs in through the form over HTTPS and lands on the dashboard`);

    const cookies = await ctx.cookies();
    const s = cookies.find((c) => c.name === 'hikeshi_session');
    check(s && s.secure === true && s.httpOnly === true && s.sameSite === 'Strict',
          'the browser holds the session cookie as Secure, HttpOnly, SameSite=Strict',
          s && { secure: s.secure, httpOnly: s.httpOnly, sameSite: s.sameSite });
    const st = await page.evaluate(async () => (await fetch('/api/v1/session')).status);
    check(st === 200, "the page's session works over HTTPS (GET /api/v1/session)", st);

    const file = path.join(SHOTS, 'dashboard-https.png');
    await page.screenshot({ path: file, fullPage: true });
    const size = fs.existsSync(file) ? fs.statSync(file).size : 0;
    check(size > 5000, `screenshot dashboard-https.png saved (${size} bytes)`);
    await ctx.close();
  } finally {
    await browser.close();
  }
  check(problems.length === 0, 'no console errors or uncaught exceptions', problems);
  finish();
}

runMain(main);
