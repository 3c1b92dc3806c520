// The exercise banner in headless Chromium (issue 22, docs/exercise.md).
// Started by e2e_console_exercise.py, which runs the daemon (a syslog-tcp
// input `drill` marked exercise: true) and passes in:
//   HIKESHI_URL          http://127.0.0.1:PORT
//   HIKESHI_USER         {"name", "password"} of a viewer
//   HIKESHI_BIN          the hikeshi binary, HIKESHI_CONF its configuration
//   HIKESHI_SCENARIO     a scenario that plays for minutes at 1x, with an
//                        inject 1 s in
//   HIKESHI_CHROMIUM     the browser (default /usr/bin/chromium)
//   HIKESHI_SCREENSHOTS  where the screenshots go
// This script starts `hikeshi exercise run` and later `exercise stop`
// itself.  Prints one "ok - ..." / "not ok - ..." line per check; exit 0
// only if all pass.

import { spawn, spawnSync } from 'node:child_process';
import { check, finish, launch, ready, runMain, shot, WAIT } from './lib.mjs';

const BASE = process.env.HIKESHI_URL;
const USER = JSON.parse(process.env.HIKESHI_USER || '{}');
const BIN = process.env.HIKESHI_BIN;
const CONF = process.env.HIKESHI_CONF;
const SCENARIO = process.env.HIKESHI_SCENARIO;
// the console asks every 5 s; room to spare on a loaded machine
const BANNER_WAIT = 30000;
const TITLE = 'Banner <b>drill</b> & a mail server';
const INJECT = "Is it true that mx1 leaks your customers' mail? <img src=x>";

async function main() {
  const browser = await launch();
  const problems = [];
  let run = null;
  let runExit = null;
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
    const banner = page.locator('[data-testid=exercise-banner]');
    check(!(await banner.isVisible()), 'no exercise banner on the login page');
    const form = page.locator('form[data-testid=login-form]');
    await form.locator('input[name=name]').fill(USER.name);
    await form.locator('input[name=password]').fill(USER.password);
    await form.locator('button[type=submit]').click();
    await ready(page, 'dashboard');
    check(true, `${USER.name} logs in and lands on the dashboard`);
    // the banner's first answer has come once the dashboard is ready plus
    // a poll: ask the API the same to be sure nothing runs yet
    const before = await page.evaluate(async () =>
      (await fetch('/api/v1/exercise', { credentials: 'same-origin' })).json());
    check(before.run === null, 'GET /api/v1/exercise with the session: no run yet', before);
    check(!(await banner.isVisible()), 'no exercise banner while no exercise runs');

    run = spawn(BIN, ['exercise', '-c', CONF, 'run', SCENARIO, '--speed', '1'],
                { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    run.stdout.on('data', (b) => { out += b; });
    run.stderr.on('data', (b) => { out += b; });
    const ended = new Promise((resolve) => run.on('exit', (code) => { runExit = code; resolve(); }));

    await banner.waitFor({ state: 'visible', timeout: BANNER_WAIT });
    check(true, 'the exercise banner appears while the run plays, without a reload');
    const title = page.locator('[data-testid=exercise-title]');
    check(await title.textContent() === TITLE, 'the banner names the scenario by its title, as text',
          await title.textContent());
    check(await banner.locator('b').count() === 0 && await banner.locator('img').count() === 0,
          'markup in the title and the inject is not built into the page');
    const btext = await banner.textContent();
    check(/^EXERCISE in progress: /.test(btext) && /, started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/.test(btext),
          'the banner says EXERCISE in progress and when it started', btext);
    const inject = page.locator('[data-testid=exercise-inject]');
    await inject.waitFor({ state: 'visible', timeout: BANNER_WAIT });
    const itext = await inject.textContent();
    check(itext.includes(INJECT) && itext.includes('a journalist') && itext.includes('mail'),
          "the banner shows the last inject: the journalist's mail", itext);
    await shot(page, 'exercise-banner');

    await page.locator('[data-testid=nav-incidents]').click();
    await ready(page, 'incidents');
    check(await banner.isVisible() && await title.textContent() === TITLE,
          'the banner stays on another page (incidents)');

    const stop = spawnSync(BIN, ['exercise', '-c', CONF, 'stop'], { encoding: 'utf8' });
    check(stop.status === 0 && /1 run asked to stop/.test(stop.stdout),
          'hikeshi exercise stop', stop.stdout + stop.stderr);
    await ended;
    check(runExit === 0 && /stopped;/.test(out), 'the run ends stopped', out);
    await banner.waitFor({ state: 'hidden', timeout: BANNER_WAIT });
    check(await banner.textContent() === '', 'the banner goes once the run is stopped');

    check(problems.length === 0, 'no errors in the browser console', problems);
  } catch (e) {
    check(false, 'the browser checks ran to the end', String(e && e.stack || e));
  } finally {
    if (run && runExit === null) run.kill();
    await browser.close();
  }
  finish();
}

runMain(main);
