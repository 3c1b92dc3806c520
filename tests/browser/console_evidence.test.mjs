// The evidence panel of an incident page in headless Chromium (issue 19).
// Started by e2e_console_evidence.py, which registers one item (its file
// name is markup) on the incident and hands it from alice to bob, and
// passes in:
//   HIKESHI_URL          http://127.0.0.1:PORT
//   HIKESHI_USERS        {"analyst": {"name", "password"}, "viewer": {...}}
//   HIKESHI_INCIDENT     the incident's id
//   HIKESHI_ITEM         {"id", "name", "sha256"} of the item
//   HIKESHI_CHROMIUM     the browser (default /usr/bin/chromium)
//   HIKESHI_SCREENSHOTS  where the screenshots go
// Prints one "ok - ..." / "not ok - ..." line per check; exit 0 only if
// all pass.

import path from 'node:path';
import { check, finish, launch, ready, runMain, SHOTS, WAIT } from './lib.mjs';

const BASE = process.env.HIKESHI_URL;
const USERS = JSON.parse(process.env.HIKESHI_USERS || '{}');
const INCIDENT = Number(process.env.HIKESHI_INCIDENT);
const ITEM = JSON.parse(process.env.HIKESHI_ITEM || '{}');

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

async function main() {
  const browser = await launch();
  const problems = [];
  try {
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    ctx.setDefaultTimeout(WAIT);
    const page = await login(ctx, USERS.analyst);
    page.on('console', (msg) => { if (msg.type() === 'error') problems.push(msg.text()); });
    page.on('pageerror', (e) => problems.push(String(e)));
    const row = page.locator(`[data-testid=evidence] li[data-evidence-id="${ITEM.id}"]`);
    await row.waitFor({ timeout: WAIT });
    check(await page.locator('[data-testid=evidence] li.evidence-item').count() === 1,
          'the incident page lists its one evidence item');
    const text = await row.textContent();
    check(text.includes(ITEM.name) && text.includes(ITEM.sha256),
          'the item shows its file name (markup, as text) and its SHA-256', text);
    check(await page.evaluate(() => window.__xss === undefined) &&
          await row.locator('img').count() === 0,
          'the markup in the file name is not parsed');
    check((await row.locator('[data-testid=evidence-custodian]').textContent()).trim() === 'bob',
          'the custodian is bob, after the hand-over from alice');
    check(await row.locator('[data-testid=evidence-verified]').getAttribute('data-value') ===
          'never', 'it was never verified');
    await row.locator('button[data-action=custody]').click();
    const actions = await row.locator('[data-testid=custody] li')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-action')));
    check(JSON.stringify(actions) === JSON.stringify(['add', 'transfer']),
          'its custody log shows the add and the hand-over', actions);
    check(/alice → bob \(analysis\)/.test(await row.locator('[data-testid=custody]').textContent()),
          'the hand-over reads alice → bob with its reason');

    await row.locator('button[data-action=verify]').click();
    await page.locator(`li[data-evidence-id="${ITEM.id}"] [data-testid=evidence-verified]` +
                       '[data-value=ok]').waitFor({ timeout: WAIT });
    check(true, 'Verify in the console: the item shows intact');
    const r = await page.evaluate(async (n) => {
      const res = await fetch(`/api/v1/evidence/${n}/custody`, { credentials: 'same-origin' });
      return res.json();
    }, ITEM.id.replace(/^EV-/, ''));
    const last = (r.custody || []).slice(-1)[0] || {};
    check(last.action === 'verify' && last.actor === 'api:' + USERS.analyst.name,
          'the API\'s custody log ends with that verify, by the analyst', last);
    await page.screenshot({ path: path.join(SHOTS, 'incident-evidence.png'), fullPage: true });

    const vctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    vctx.setDefaultTimeout(WAIT);
    const vpage = await login(vctx, USERS.viewer);
    const vrow = vpage.locator(`[data-testid=evidence] li[data-evidence-id="${ITEM.id}"]`);
    await vrow.waitFor({ timeout: WAIT });
    check(await vrow.locator('button[data-action=verify]').count() === 0 &&
          await vrow.locator('[data-testid=evidence-verified]').getAttribute('data-value') === 'ok',
          'a viewer sees the item intact, without a Verify button');
    await vctx.close();
    await ctx.close();
  } finally {
    await browser.close();
  }
  check(problems.length === 0, 'no console errors or uncaught exceptions', problems);
  finish();
}

runMain(main);
