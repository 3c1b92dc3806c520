// The responsible person's approval queue in headless Chromium (issue 25).
// Started by e2e_console_lead.py, which runs the daemon, makes an analyst's
// request to declare Orange (a pending approval) and passes in:
//   HIKESHI_URL          http://127.0.0.1:PORT
//   HIKESHI_USERS        {"analyst"|"lead": {"name", "password"}}
//   HIKESHI_INCIDENT     the incident's id (in the emergency phase)
//   HIKESHI_APPROVAL     the pending approval's id
//   HIKESHI_CHROMIUM     the browser (default /usr/bin/chromium)
//   HIKESHI_SCREENSHOTS  where the screenshots go
// Prints one "ok - ..." / "not ok - ..." line per check; exit 0 only if all
// pass.

import { check, finish, launch, ready, runMain, shot, WAIT } from './lib.mjs';

const BASE = process.env.HIKESHI_URL;
const USERS = JSON.parse(process.env.HIKESHI_USERS || '{}');
const INCIDENT = Number(process.env.HIKESHI_INCIDENT);
const APPROVAL = Number(process.env.HIKESHI_APPROVAL);

// A fresh browser context logged in as `role` through the login form, on
// the dashboard.
async function login(browser, role, problems) {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  ctx.setDefaultTimeout(WAIT);
  const page = await ctx.newPage();
  page.on('console', (msg) => {
    // 4xx answers the test provokes are logged by the browser as errors.
    if (msg.type() === 'error' && !/status of (400|401|409)/.test(msg.text()))
      problems.push(msg.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  await page.goto(BASE + '/');
  await ready(page, 'login');
  const form = page.locator('form[data-testid=login-form]');
  await form.locator('input[name=name]').fill(USERS[role].name);
  await form.locator('input[name=password]').fill(USERS[role].password);
  await form.locator('button[type=submit]').click();
  await ready(page, 'dashboard');
  check(true, `${USERS[role].name} (${role}) logs in and lands on the dashboard`);
  return { ctx, page };
}

async function main() {
  const browser = await launch();
  const problems = [];
  try {
    // ---- the analyst: sees the queue, cannot answer it, asks by the UI ----
    const a = await login(browser, 'analyst', problems);
    const orangeA = a.page.locator(`[data-testid=approvals] li[data-approval-id="${APPROVAL}"]`);
    await orangeA.waitFor({ timeout: WAIT });
    const text = await orangeA.textContent();
    check(/declare Orange/.test(text) && text.includes(USERS.analyst.name) &&
          text.includes('#' + INCIDENT),
          'the dashboard lists the waiting decision: what, the incident, who asked', text);
    check(await a.page.locator('[data-testid=approvals] [data-testid=approval-approve]').count()
          === 0, 'an analyst gets no approve/reject controls');

    await a.page.goto(BASE + '/#/incidents/' + INCIDENT);
    await ready(a.page, 'incident');
    check((await a.page.locator('[data-testid=incident-responsible]').textContent())
          .includes('none'), 'the incident page says it has no responsible person yet');
    await a.page.locator('select[data-testid=phase-select]').selectOption('watch');
    await a.page.locator('input[data-testid=phase-reason]').fill('contained, beacon gone');
    await a.page.locator('button[data-testid=phase-apply]').click();
    const toast = a.page.locator('.toast', { hasText: 'waits for' }).first();
    await toast.waitFor({ timeout: WAIT });
    check(/Asked: close the emergency phase \(to watch\)/.test(await toast.textContent()),
          'asking to close the emergency phase: the page says it waits for approval',
          await toast.textContent());
    await a.page.waitForTimeout(500);
    check(await a.page.locator('[data-testid=incident-phase]').getAttribute('data-value') ===
          'emergency', 'the incident page still shows the emergency phase');
    await a.ctx.close();

    // ---- the lead: answers the queue ----
    const l = await login(browser, 'lead', problems);
    const items = l.page.locator('[data-testid=approvals] li[data-approval-id]');
    await items.nth(1).waitFor({ timeout: WAIT });
    check(await items.count() === 2, 'the lead sees both requests', await items.count());
    const orange = l.page.locator(`[data-testid=approvals] li[data-approval-id="${APPROVAL}"]`);
    const phase = items.filter({ hasText: 'close the emergency phase' });
    check(await orange.locator('[data-testid=approval-approve]').isVisible() &&
          await phase.locator('[data-testid=approval-reject]').isVisible(),
          'each request has approve and reject controls for the lead');
    await shot(l.page, 'dashboard-approval-queue');

    await orange.locator('[data-testid=approval-approve]').click();
    await l.page.locator('.toast', { hasText: `Request ${APPROVAL} approved` }).first()
      .waitFor({ timeout: WAIT });
    await orange.waitFor({ state: 'detached', timeout: WAIT });
    check(true, 'approving: a toast, and the request leaves the queue');
    const inc = await l.page.evaluate(async (id) =>
      (await fetch('/api/v1/incidents/' + id, { credentials: 'same-origin' })).json(), INCIDENT);
    check(inc.level === 'Orange', 'the approved Orange is applied', inc.level);

    await phase.locator('[data-testid=approval-reject]').click();
    const err = l.page.locator('[data-testid=approvals-error]');
    await l.page.locator('[data-testid=approvals-error].shown').waitFor({ timeout: WAIT });
    check(/needs a note/.test(await err.textContent()),
          'rejecting without a note shows the API\'s sentence', await err.textContent());
    check(await phase.count() === 1, 'and the request is still there');
    await phase.locator('[data-testid=approval-note]').fill('not yet: the beacon is still active');
    await phase.locator('[data-testid=approval-reject]').click();
    await phase.waitFor({ state: 'detached', timeout: WAIT });
    await l.page.locator('[data-testid=approvals] .empty').waitFor({ timeout: WAIT });
    check(true, 'rejected with a note: the queue is empty');
    await l.ctx.close();
  } finally {
    await browser.close();
  }
  check(problems.length === 0, 'no console errors or uncaught exceptions', problems);
  finish();
}

runMain(main);
