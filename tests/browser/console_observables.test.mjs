// The observables panel of an incident page in headless Chromium (issue 20).
// Started by e2e_console_observables.py, which makes two incidents holding
// the same C2 address (taken from their alerts) and passes in:
//   HIKESHI_URL          http://127.0.0.1:PORT
//   HIKESHI_USERS        {"analyst": {"name", "password"}, "viewer": {...}}
//   HIKESHI_INCIDENT     the incident whose page is checked
//   HIKESHI_OTHER        the other incident holding the C2 address
//   HIKESHI_C2           the C2 address; HIKESHI_INSIDE the inside host's
//   HIKESHI_CHROMIUM     the browser (default /usr/bin/chromium)
//   HIKESHI_SCREENSHOTS  where the screenshots go
// Prints one "ok - ..." / "not ok - ..." line per check; exit 0 only if
// all pass.

import path from 'node:path';
import { check, finish, launch, ready, runMain, SHOTS, WAIT } from './lib.mjs';

const BASE = process.env.HIKESHI_URL;
const USERS = JSON.parse(process.env.HIKESHI_USERS || '{}');
const INCIDENT = Number(process.env.HIKESHI_INCIDENT);
const OTHER = Number(process.env.HIKESHI_OTHER);
const C2 = process.env.HIKESHI_C2;
const INSIDE = process.env.HIKESHI_INSIDE;

async function login(ctx, user) {
  const page = await ctx.newPage();
  await page.goto(BASE + '/');
  await ready(page, 'login');
  const form = page.locator('form[data-testid=login-form]');
  await form.locator('input[name=name]').fill(user.name);
  await form.locator('input[name=password]').fill(user.password);
  await form.locator('button[type=submit]').click();
  await ready(page, 'dashboard');
  await page.goto(BASE + `/#/incidents/${INCIDENT}`);
  await ready(page, 'incident');
  return page;
}

const row = (page, value) =>
  page.locator(`[data-testid=observables] li[data-testid=observable][data-value="${value}"]`);

async function main() {
  const browser = await launch();
  const problems = [];
  try {
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    ctx.setDefaultTimeout(WAIT);
    const page = await login(ctx, USERS.analyst);
    page.on('console', (msg) => { if (msg.type() === 'error') problems.push(msg.text()); });
    page.on('pageerror', (e) => problems.push(String(e)));

    const c2 = row(page, C2);
    await c2.waitFor({ timeout: WAIT });
    const c2text = await c2.textContent();
    check(c2text.includes('ipv4') && c2text.includes('from alert #'),
          'the C2 address is listed, taken from an alert', c2text);
    const also = c2.locator(`[data-testid=observable-also] a[href="#/incidents/${OTHER}"]`);
    check(await also.count() === 1, `its row says it is also in incident #${OTHER}, as a link`);
    const linked = await page.locator('[data-testid=linked-incident]').allTextContents();
    check(linked.length === 1 && linked[0].includes('#' + OTHER) && linked[0].includes('1 shared'),
          'the panel names the linked incident and how many observables it shares', linked);

    // An analyst's observable, through the form.
    const form = page.locator('form[data-testid=observable-form]');
    await form.locator('select[name=type]').selectOption('domain');
    await form.locator('input[name=value]').fill('Evil-Panel.Example.');
    await form.locator('input[name=note]').fill('seen in the proxy log');
    await form.locator('button[type=submit]').click();
    const dom = row(page, 'evil-panel.example');
    await dom.waitFor({ timeout: WAIT });
    const domText = await dom.textContent();
    check(domText.includes('added by ' + USERS.analyst.name) &&
          domText.includes('seen in the proxy log'),
          'the domain is listed canonical, added by the analyst, with its note', domText);

    // Made an indicator with TLP GREEN.
    await dom.locator('select[data-testid=observable-tlp]').selectOption('GREEN');
    await dom.locator('button[data-testid=observable-promote]').click();
    await row(page, 'evil-panel.example').locator('[data-testid=observable-indicator]')
      .waitFor({ timeout: WAIT });
    check(await row(page, 'evil-panel.example').locator('button[data-testid=observable-promote]')
      .count() === 0, 'once an indicator, the row names it and offers no promotion');

    // A removal.
    await row(page, INSIDE).locator('button[data-testid=observable-remove]').click();
    await row(page, INSIDE).waitFor({ state: 'detached', timeout: WAIT });
    check(await row(page, INSIDE).count() === 0, 'the inside host\'s address is removed');
    const tl = await page.locator('[data-testid=timeline]').textContent();
    check(tl.includes('observable'), 'the timeline records the observable changes');
    await page.screenshot({ path: path.join(SHOTS, 'incident-observables.png'), fullPage: true });

    const vctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    vctx.setDefaultTimeout(WAIT);
    const vpage = await login(vctx, USERS.viewer);
    await row(vpage, C2).waitFor({ timeout: WAIT });
    check(await vpage.locator('form[data-testid=observable-form]').count() === 0 &&
          await vpage.locator('button[data-testid=observable-remove]').count() === 0 &&
          await vpage.locator('button[data-testid=observable-promote]').count() === 0,
          'a viewer sees the observables without the form or the buttons');
    await vctx.close();
    await ctx.close();
  } finally {
    await browser.close();
  }
  check(problems.length === 0, 'no console errors or uncaught exceptions', problems);
  finish();
}

runMain(main);
