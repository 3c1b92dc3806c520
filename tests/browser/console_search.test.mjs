// The console's search page in headless Chromium (issue 17).  Started by
// e2e_console_search.py, which runs the daemon, sends the lines and passes
// in:
//   HIKESHI_URL          http://127.0.0.1:PORT
//   HIKESHI_USERS        {"viewer": {"name", "password"}, "analyst": {...}}
//   HIKESHI_INCIDENT     the incident the analyst adds the search to
//   HIKESHI_QUERY        the query to run
//   HIKESHI_EXPECT       {"count": matches hikeshi hunt found, "first": the
//                        first matching line as sent, "hostile": HTML text
//                        one matching line carries}
//   HIKESHI_CHROMIUM     the browser (default /usr/bin/chromium)
//   HIKESHI_SCREENSHOTS  where the screenshots go
// Prints one "ok - ..." / "not ok - ..." line per check; exit 0 only if all
// pass.

import path from 'node:path';
import { check, finish, launch, ready, runMain, SHOTS, WAIT } from './lib.mjs';

const BASE = process.env.HIKESHI_URL;
const USERS = JSON.parse(process.env.HIKESHI_USERS || '{}');
const INCIDENT = process.env.HIKESHI_INCIDENT;
const QUERY = process.env.HIKESHI_QUERY;
const EXPECT = JSON.parse(process.env.HIKESHI_EXPECT || '{}');

async function main() {
  const browser = await launch();
  const problems = [];
  try {
    const login = async (user) => {
      const c = await browser.newContext({ viewport: { width: 1366, height: 900 } });
      c.setDefaultTimeout(WAIT);
      const p = await c.newPage();
      p.on('console', (msg) => {
        if (msg.type() === 'error' && !/status of (401|400)/.test(msg.text()))
          problems.push(msg.text());
      });
      p.on('pageerror', (e) => problems.push(String(e)));
      await p.goto(BASE + '/');
      await ready(p, 'login');
      const form = p.locator('form[data-testid=login-form]');
      await form.locator('input[name=name]').fill(user.name);
      await form.locator('input[name=password]').fill(user.password);
      await form.locator('button[type=submit]').click();
      await ready(p, 'dashboard');
      return [c, p];
    };
    const [ctx, page] = await login(USERS.viewer);

    await page.locator('[data-testid=nav-search]').click();
    await ready(page, 'search');
    check(true, 'the header links to Search and the page opens');
    const root = page.locator('[data-page=search]');
    const sform = page.locator('form[data-testid=search-form]');
    await sform.locator('input[name=q]').fill(QUERY);
    await sform.locator('button[type=submit]').click();
    try {
      await page.locator('[data-page=search][data-searching="0"] [data-testid=search-summary][data-count]')
        .waitFor({ timeout: WAIT });
    } catch (e) {
      console.log('# summary: ' + await page.locator('[data-testid=search-summary]').textContent() +
                  ' error: ' + await page.locator('[data-testid=search-error]').textContent() +
                  ' problems: ' + JSON.stringify(problems));
      throw e;
    }
    const count = Number(await page.locator('[data-testid=search-summary]').getAttribute('data-count'));
    check(count === EXPECT.count, `the summary counts what hikeshi hunt found (${count}, ${EXPECT.count})`);
    const rows = page.locator('[data-testid=search-results] tr.search-row');
    check(await rows.count() === EXPECT.count, 'one row per match', await rows.count());
    const texts = await rows.allTextContents();
    check(texts.every((t) => t.includes('203.0.113.7')), 'every row names the address');
    const bars = await page.locator('[data-testid=search-histogram] rect.bar')
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-count'))));
    check(bars.length > 0 && bars.reduce((a, b) => a + b, 0) === EXPECT.count,
          'the histogram\'s bars add up to the matches', bars);
    check(decodeURIComponent(page.url()).includes('q=' + QUERY),
          'the route keeps the query (a search can be linked)', page.url());

    await rows.first().click();
    const raw = page.locator('[data-testid=search-record] [data-testid=search-raw]');
    await raw.waitFor({ timeout: WAIT });
    check(await raw.textContent() === EXPECT.first, 'the opened row shows its raw record byte for byte',
          await raw.textContent());
    check(await page.locator('[data-testid=search-record] table.fields').count() === 1,
          'and its decoded fields');

    const hostileRow = rows.filter({ hasText: 'onerror' });
    check(await hostileRow.count() === 1, 'the line carrying HTML is a row');
    await hostileRow.click();
    check((await raw.textContent()).includes(EXPECT.hostile) &&
          await root.locator('img').count() === 0 && await page.title() !== '1',
          'its HTML is shown as text: no element made from it');
    check(await page.locator('[data-testid=search-add-evidence]').count() === 0,
          'a viewer gets no control to add evidence');
    await page.screenshot({ path: path.join(SHOTS, 'search.png'), fullPage: true });

    await sform.locator('input[name=q]').fill('source.ip=');
    await sform.locator('button[type=submit]').click();
    const err = page.locator('[data-testid=search-error].shown');
    await err.waitFor({ timeout: WAIT });
    check((await err.textContent()).length > 0 && await rows.count() === 0,
          'a bad query is named as an error and no rows stay', await err.textContent());
    await ctx.close();

    // An analyst adds the search to the incident as evidence.
    const [actx, apage] = await login(USERS.analyst);
    await apage.goto(BASE + '/#/search?q=' + encodeURIComponent(QUERY));
    await ready(apage, 'search');
    await apage.locator('[data-page=search][data-searching="0"] [data-testid=search-summary][data-count]')
      .waitFor({ timeout: WAIT });
    check(Number(await apage.locator('[data-testid=search-summary]').getAttribute('data-count')) ===
          EXPECT.count, 'a linked search runs when the page opens');
    await apage.locator('[data-testid=search-incident]').fill(INCIDENT);
    await apage.locator('[data-testid=search-add-evidence]').click();
    const done = apage.locator('[data-testid=search-evidence-done][data-item]');
    try {
      await done.waitFor({ timeout: WAIT });
    } catch (e) {
      console.log('# evidence error: ' +
                  await apage.locator('[data-testid=search-evidence-error]').textContent());
      throw e;
    }
    const dtext = await done.textContent();
    check(/^EV-\d+ \(archive excerpt, \d+ records/.test(dtext) && dtext.includes('incident #' + INCIDENT),
          'the search is added to the incident as an archive excerpt', dtext);
    await apage.screenshot({ path: path.join(SHOTS, 'search-evidence.png'), fullPage: true });
    await actx.close();
  } finally {
    await browser.close();
  }
  check(problems.length === 0, 'no console errors or uncaught exceptions', problems);
  finish();
}

runMain(main);
