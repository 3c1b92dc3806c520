// The web console in headless Chromium, against the DOM contract of issue 7
// (selectors: data-page / data-ready / data-testid / data-write).  Started by
// e2e_console.py, which runs the daemon and passes in the environment:
//   HIKESHI_URL          http://127.0.0.1:PORT
//   HIKESHI_USERS        {"admin"|"analyst"|"viewer": {"name", "password"}}
//   HIKESHI_ADMIN_TOKEN  a Bearer token of the admin, to confirm through the API
//   HIKESHI_HOSTILE      {"incident", "alert", "raw"}: the record whose text is markup
//   HIKESHI_CHROMIUM     the browser (default /usr/bin/chromium)
//   HIKESHI_SCREENSHOTS  where the screenshots go
// Prints one "ok - ..." / "not ok - ..." line per check; exit 0 only if all pass.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.HIKESHI_URL;
const USERS = JSON.parse(process.env.HIKESHI_USERS || '{}');
const ADMIN_TOKEN = process.env.HIKESHI_ADMIN_TOKEN;
const HOSTILE = JSON.parse(process.env.HIKESHI_HOSTILE || '{}');
const SHOTS = process.env.HIKESHI_SCREENSHOTS || 'console-screenshots';
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; " +
  "frame-ancestors 'none'";
const WAIT = 15000;

// ---------------------------------------------------------------- reporting

let failures = 0;

function short(x) {
  const s = typeof x === 'string' ? x : JSON.stringify(x);
  return s === undefined ? String(x) : s.length > 400 ? s.slice(0, 400) + '...' : s;
}

function check(cond, what, detail) {
  if (cond) {
    console.log('ok - ' + what);
  } else {
    failures++;
    console.log('not ok - ' + what + (detail === undefined ? '' : ' [' + short(detail) + ']'));
  }
  return !!cond;
}

// One part of the run: an exception (a selector that never appeared) is one
// failure of that part, and the next part still runs.
async function section(name, fn) {
  try {
    await fn();
  } catch (e) {
    check(false, name + ': ran to its end', String(e.message || e).split('\n')[0]);
  }
}

// ------------------------------------------- console errors, CSP, headers

// Everything the console logged as an error or threw, on every page of every
// context.  Requests this script makes on purpose to be refused are listed
// in `refusedOnPurpose` ("403 /api/v1/...") and are not the console's errors;
// nor is the 401 of GET /api/v1/session asking whether anyone is logged in.
const problems = [];
const refusedOnPurpose = new Set();
const consoleResponses = []; // {url, csp} of every response for / and /ui/...

function refusal(status, url) {
  return status + ' ' + new URL(url, BASE).pathname;
}

function watch(ctx, who) {
  ctx.on('page', (page) => {
    page.on('console', (msg) => {
      if (msg.type() !== 'error')
        return;
      const url = msg.location().url || '';
      const m = /status of (\d+)/.exec(msg.text());
      if (m && url) {
        const key = refusal(m[1], url);
        if (refusedOnPurpose.has(key) || key === '401 /api/v1/session')
          return;
      }
      problems.push(`${who}: console error: ${msg.text()} (${url})`);
    });
    page.on('pageerror', (err) => problems.push(`${who}: uncaught: ${err.message}`));
  });
  ctx.on('response', (resp) => {
    const p = new URL(resp.url()).pathname;
    if (p === '/' || p.startsWith('/ui/'))
      consoleResponses.push({ url: p, status: resp.status(),
                              csp: resp.headers()['content-security-policy'] });
  });
}

// ------------------------------------------------------------------ helpers

// A request from inside the page, with its cookie (and the CSRF token when
// given), answering {status, json, text, ctype}.
async function api(page, method, p, { body, csrf } = {}) {
  return page.evaluate(async ([method, p, body, csrf]) => {
    const headers = {};
    if (body !== undefined)
      headers['Content-Type'] = 'application/json';
    if (csrf !== undefined)
      headers['X-CSRF-Token'] = csrf;
    const r = await fetch(p, { method, headers, credentials: 'same-origin',
                               body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, json, text, ctype: r.headers.get('content-type') };
  }, [method, p, body, csrf]);
}

// The same through the API with the admin's Bearer token, outside the browser.
async function bearer(p) {
  const r = await fetch(BASE + p, { headers: { Authorization: 'Bearer ' + ADMIN_TOKEN } });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, json, text };
}

// A GET carrying only the given cookie (what a stolen cookie would do).
function withCookie(p, cookie) {
  return new Promise((resolve, reject) => {
    const req = http.request(BASE + p, { headers: { Cookie: cookie } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end();
  });
}

const pageRoot = (page, name) => page.locator(`[data-page="${name}"][data-ready="1"]`).first();

async function ready(page, name) {
  await pageRoot(page, name).waitFor({ timeout: WAIT });
}

async function go(page, hash, name) {
  await page.goto(BASE + '/' + hash);
  await ready(page, name);
}

async function shot(page, name) {
  const file = path.join(SHOTS, name + '.png');
  // from the top, or the sticky header lands mid-page in a full-page shot
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage: true });
  const size = fs.existsSync(file) ? fs.statSync(file).size : 0;
  check(size > 5000, `screenshot ${name}.png saved (${size} bytes)`);
}

const attr = (page, sel, a) => page.locator(sel).first().getAttribute(a, { timeout: WAIT });
const text = (page, sel) => page.locator(sel).first().textContent({ timeout: WAIT });

async function fillLogin(page, user) {
  const form = page.locator('form[data-testid=login-form]');
  await form.locator('input[name=name]').fill(user.name);
  await form.locator('input[name=password]').fill(user.password);
  await form.locator('button[type=submit]').click();
}

async function login(ctx, user) {
  const page = await ctx.newPage();
  await go(page, '#/login', 'login');
  await fillLogin(page, user);
  await ready(page, 'dashboard');
  return page;
}

// ------------------------------------------------------------------- checks

// 1. Logging in through the form; the dashboard's figures are the API's.
async function loginAndDashboard(ctx, user) {
  const page = await ctx.newPage();
  await page.goto(BASE + '/');
  await ready(page, 'login');
  check(true, 'GET / without a session shows the login page');
  await shot(page, 'login');
  refusedOnPurpose.add('401 /api/v1/session');
  await fillLogin(page, { name: user.name, password: 'not ' + user.name + "'s passphrase" });
  const err = page.locator('[data-testid=login-error]');
  await err.filter({ hasText: /\S/ }).first().waitFor({ timeout: WAIT });
  check(await page.locator('[data-page=dashboard]').count() === 0,
        'a wrong password: an error on the login form, no dashboard', await err.textContent());
  await fillLogin(page, user);
  await ready(page, 'dashboard');
  check(true, `${user.name} logs in through the login form and lands on the dashboard`);
  const who = (await text(page, '[data-testid=whoami]')).trim();
  check(who === `${user.name} (analyst)`, 'the header names the user and role', who);

  const stats = await api(page, 'GET', '/api/v1/stats');
  const decl = await api(page, 'GET', '/api/v1/declared-level');
  const risk = await api(page, 'GET', '/api/v1/risk-meter');
  check(stats.status === 200 && decl.status === 200 && risk.status === 200,
        "the page's session reads stats, declared level and risk meter",
        [stats.status, decl.status, risk.status]);
  const s = stats.json || {};
  for (const k of ['records', 'alerts', 'aggregated', 'incidents']) {
    const v = await attr(page, `[data-testid=funnel-${k}]`, 'data-value');
    check(s.funnel && v === String(s.funnel[k]),
          `dashboard funnel-${k} data-value is the API's ${k}`, { dom: v, api: s.funnel });
  }
  check(s.funnel && s.funnel.records >= 20000 && s.funnel.incidents > 0,
        'the funnel counts the day fed in', s.funnel);
  for (const cat of ['A', 'B', 'C', 'D']) {
    const want = decl.json && decl.json.current && decl.json.current[cat] &&
      decl.json.current[cat].level;
    const sel = `[data-testid=level-${cat}]`;
    const dl = await attr(page, sel, 'data-level');
    const t = await text(page, sel);
    check(want && dl === want && t.includes(want),
          `level-${cat} shows the declared level ${want}`, { dataLevel: dl, text: t });
  }
  const cur = risk.json && risk.json.current;
  const rv = await attr(page, '[data-testid=risk-current]', 'data-value');
  check(cur && rv !== '' && Number(rv) === cur.value,
        'risk-current data-value is the current risk value', { dom: rv, api: cur });
  for (const [box, key, field] of [['open-by-level', 'by_level', 'level'],
                                   ['open-by-category', 'by_category', 'category']]) {
    const want = (s.open_incidents || {})[key] || {};
    const got = {};
    for (const k of Object.keys(want))
      got[k] = await attr(page, `[data-testid=${box}] [data-${field}="${k}"]`, 'data-value');
    check(Object.keys(want).length === 4 &&
          Object.keys(want).every((k) => got[k] === String(want[k])),
          `${box}: each cell's data-value is the API's open incidents ${key}`,
          { dom: got, api: want });
  }
  const near = await page.locator('[data-testid=near-target] [data-incident-id]')
    .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-incident-id'))));
  const nearApi = (s.near_target || []).map((n) => n.id);
  check(JSON.stringify([...near].sort()) === JSON.stringify([...nearApi].sort()),
        'near-target lists the incidents the API says are nearest their target',
        { dom: near, api: nearApi });
  const top = await text(page, '[data-testid=top-entities]');
  const topApi = (s.top_entities || []).map((e) => e.value);
  check(topApi.length > 0 && topApi.every((v) => top.includes(v)),
        'top-entities shows every top entity of the API', { api: topApi });

  const charts = await page.evaluate(() => ['chart-risk', 'chart-alert-rate'].map((id) => {
    const c = document.querySelector(`canvas[data-testid=${id}]`);
    const ch = c && window.Chart && window.Chart.getChart(c);
    const val = (p) => (p !== null && typeof p === 'object' ? p.y : p);
    return { id, canvas: !!c, chart: !!ch,
             data: ch ? ch.data.datasets.map((d) => d.data.map(val)) : null };
  }));
  for (const c of charts)
    check(c.canvas && c.chart, `canvas ${c.id} is a Chart.js chart (Chart.getChart)`, c);
  // The buckets move on at the top of the hour: the chart is the stats read
  // before or the stats read after it.
  const later = (await api(page, 'GET', '/api/v1/stats')).json || {};
  const rates = [s, later].map((x) => (x.alert_rate || []).map((b) => b.alerts));
  const drawn = charts[1].data && charts[1].data[0];
  check(rates[0].length === 24 &&
        rates.some((r) => JSON.stringify(drawn) === JSON.stringify(r)),
        'the alert-rate chart plots the 24 hourly buckets of /api/v1/stats',
        { chart: drawn, api: rates[0] });
  const hist = ((risk.json || {}).history || []).map((h) => h.value).sort();
  const riskDrawn = charts[0].data && charts[0].data[0] && [...charts[0].data[0]].sort();
  check(hist.length > 0 && JSON.stringify(riskDrawn) === JSON.stringify(hist),
        "the risk chart plots the risk meter's history", { chart: riskDrawn, api: hist });
  await shot(page, 'dashboard');
  return page;
}

// 4 (in triage). The hostile alert's raw record is text, not markup.
async function triageHostile(page) {
  await page.locator('[data-testid=nav-triage]').click();
  await ready(page, 'triage');
  check(await page.locator('tr[data-alert-id]').count() > 0, 'triage lists aggregated alerts');
  check(await page.locator('[data-write]').count() > 0,
        'an analyst has data-write controls on the triage page');
  await shot(page, 'triage');
  const al = await api(page, 'GET', `/api/v1/alerts?incident=${HOSTILE.incident}`);
  const a = ((al.json || {}).alerts || []).find((x) => x.id === HOSTILE.alert);
  check(a, 'the API lists the hostile aggregated alert', HOSTILE.alert);
  const rule = a && (a.rule_id || (a.rule && a.rule.id) || a.rule);
  const filter = page.locator('input[data-testid=filter-rule]');
  await filter.fill(String(rule));
  await filter.press('Enter');
  const row = page.locator(`tr[data-alert-id="${HOSTILE.alert}"]`);
  await row.waitFor({ timeout: WAIT });
  check(true, 'filtering triage by its rule shows the hostile alert\'s row');
  await row.locator('[data-action=events]').click();
  const pre = page.locator('[data-testid=alert-events] pre[data-testid=alert-raw]');
  await pre.first().waitFor({ timeout: WAIT });
  await rawIsText(page, pre, 'triage events');
  await page.locator('[data-testid=alert-events]').first()
    .screenshot({ path: path.join(SHOTS, 'triage-hostile-raw.png') });
}

async function rawIsText(page, pre, where) {
  const texts = await pre.allTextContents();
  check(texts.includes(HOSTILE.raw),
        `${where}: pre[data-testid=alert-raw] holds the hostile raw record verbatim`,
        { want: HOSTILE.raw, got: texts });
  const html = await pre.evaluateAll((els) => els.map((e) => e.innerHTML).join('\n'));
  check(html.includes('&lt;script&gt;window.__xss=1&lt;/script&gt;&lt;img src=x'),
        `${where}: <script> and <img> are characters in it, not elements`);
  const xss = await page.evaluate(() => ({
    flag: typeof window.__xss,
    imgs: [...document.querySelectorAll('img')].filter((i) => i.getAttribute('src') === 'x').length,
    scripts: [...document.querySelectorAll('script')].filter((s) => s.textContent.includes('__xss')).length,
  }));
  check(xss.flag === 'undefined' && xss.imgs === 0 && xss.scripts === 0,
        `${where}: window.__xss stays undefined, no <img src=x>, no injected <script>`, xss);
}

// 2. An incident's life in the console, confirmed through the API.
async function incidentWork(page, user) {
  await page.locator('[data-testid=nav-incidents]').click();
  await ready(page, 'incidents');
  await shot(page, 'incidents');
  const listed = await api(page, 'GET', '/api/v1/incidents?phase=new&limit=500');
  const rows = await page.locator('tr[data-incident-id]')
    .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-incident-id'))));
  const inc = ((listed.json || {}).incidents || [])
    .find((i) => rows.includes(i.id) && i.id !== HOSTILE.incident);
  check(inc, 'the incidents list shows an incident in phase new', { rows: rows.length });
  if (!inc)
    return null;
  const id = inc.id;
  await page.locator(`tr[data-incident-id="${id}"] a[href="#/incidents/${id}"]`).click();
  await ready(page, 'incident');
  check(page.url().endsWith(`#/incidents/${id}`), `the row's link opens #/incidents/${id}`,
        page.url());
  const title = (await text(page, '[data-testid=incident-title]')).trim();
  check(title === inc.title, 'incident-title is the incident\'s title', { dom: title, api: inc.title });
  for (const [tid, want] of [['incident-type', inc.type], ['incident-category', inc.category],
                             ['incident-level', inc.level]]) {
    const t = await text(page, `[data-testid=${tid}]`);
    check(new RegExp(`(^|\\W)${want.replace(/\W/g, '\\$&')}($|\\W)`).test(t),
          `${tid} shows ${want}`, t);
  }
  check(await attr(page, '[data-testid=incident-phase]', 'data-value') === 'new',
        'incident-phase data-value is new');
  check(await page.locator('[data-testid=incident-deadline]').count() === 1,
        'the incident page shows its deadline');
  check(await page.locator('[data-testid=killchain] [data-stage]').count() === 7,
        'the kill chain has its seven stages');
  check(await page.locator('[data-write]').count() > 0,
        'an analyst has data-write controls on the incident page');

  // first aid, with a reason
  const reason = `contain it now <b>${Date.now()}</b>`;
  await page.locator('select[data-testid=phase-select]').selectOption('first_aid');
  await page.locator('input[data-testid=phase-reason]').fill(reason);
  await page.locator('button[data-testid=phase-apply]').click();
  await page.locator('[data-testid=incident-phase][data-value=first_aid]')
    .waitFor({ timeout: WAIT });
  check(true, 'phase-apply moves the incident to first_aid on the page');

  // tick a task of the phase
  const open = page.locator('[data-testid=tasks] li[data-task-id]')
    .filter({ has: page.locator('input[type=checkbox][data-testid=task-done]:not(:checked)') });
  await open.first().waitFor({ timeout: WAIT });
  const taskId = Number(await open.first().getAttribute('data-task-id'));
  await open.first().locator('input[data-testid=task-done]').click();
  await page.locator(`[data-testid=tasks] li[data-task-id="${taskId}"] ` +
                     'input[data-testid=task-done]:checked').waitFor({ timeout: WAIT });
  check(true, `task ${taskId} is ticked on the page`);

  // a note, with markup in it
  const note = `Checked from the console: <i>not italic</i> & ${Date.now()}`;
  await page.locator('textarea[data-testid=note-text]').fill(note);
  await page.locator('button[data-testid=note-add]').click();
  const noteLi = page.locator('[data-testid=notes] li').filter({ hasText: note });
  await noteLi.first().waitFor({ timeout: WAIT });
  check(await page.locator('[data-testid=notes] li i').count() === 0,
        'the note is listed, its markup as text');

  // the timeline
  const tl = await api(page, 'GET', `/api/v1/incidents/${id}/timeline`);
  const items = page.locator('[data-testid=timeline] li');
  await items.filter({ hasText: reason }).first().waitFor({ timeout: WAIT });
  const n = await items.count();
  check(n >= ((tl.json || {}).timeline || []).length,
        `the timeline shows the API's ${((tl.json || {}).timeline || []).length} entries ` +
        'with the phase move and its reason', n);
  const tlText = await items.filter({ hasText: reason }).first().textContent();
  check(tlText.includes(user.name), 'the phase move names who made it', tlText);

  // the first report: generate, preview, download
  const before = await page.locator('[data-testid=reports] li[data-report-id]').count();
  await page.locator('select[data-testid=report-kind]').selectOption('first');
  await page.locator('button[data-testid=report-generate]').click();
  const reports = page.locator('[data-testid=reports] li[data-report-id]');
  await page.waitForFunction((b) => document.querySelectorAll(
    '[data-testid=reports] li[data-report-id]').length > b, before, { timeout: WAIT });
  const rl = await api(page, 'GET', `/api/v1/incidents/${id}/reports`);
  const rep = ((rl.json || {}).reports || []).find((r) => r.kind === 'first');
  check(rep && await reports.count() === ((rl.json || {}).reports || []).length,
        'report-generate adds the first report to the list', rl.json);
  const preview = page.locator('[data-testid=report-preview]');
  await preview.first().waitFor({ timeout: WAIT });
  const pv = await preview.first().evaluate((el) => {
    const f = el.tagName === 'IFRAME' ? el : el.querySelector('iframe');
    return f ? { iframe: true, sandbox: f.getAttribute('sandbox'), srcdoc: f.srcdoc.length }
      : { iframe: false, text: el.textContent.length, children: el.querySelectorAll('*').length };
  });
  check(pv.iframe ? pv.sandbox === '' && pv.srcdoc > 0 : pv.text > 0 && pv.children === 0,
        'report-preview: a sandbox="" iframe with srcdoc, or plain text', pv);
  const link = page.locator('a[data-testid=report-download]').first();
  const href = await link.getAttribute('href');
  const dlAttr = await link.getAttribute('download');
  const want = rep && `/api/v1/incidents/${id}/reports/${rep.id}?format=md`;
  const abs = href && new URL(href, page.url());
  check(abs && abs.pathname + abs.search === want && dlAttr && dlAttr.endsWith('.md'),
        'report-download points at the Markdown of the new report, download *.md',
        { href, download: dlAttr, want });
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: WAIT }), link.click()]);
  const got = fs.readFileSync(await dl.path(), 'utf8');
  const md = rep ? await api(page, 'GET', want) : { text: '' };
  check(dl.suggestedFilename().endsWith('.md'), 'the download is a .md file',
        dl.suggestedFilename());
  check(md.status === 200 && got.length > 0 && got === md.text,
        "the downloaded file is the API's Markdown report", got.slice(0, 200));
  check(new RegExp(`\\*\\*Incident:\\*\\* ${id}\\b`).test(got) &&
        got.split('\n', 1)[0].startsWith('# first report'),
        'the report is a Markdown document naming the incident', got.slice(0, 200));
  await shot(page, 'incident');

  // confirmed through the API, by the admin's token
  const after = await bearer(`/api/v1/incidents/${id}`);
  check(after.json && after.json.phase === 'first_aid', 'API: the incident is in first_aid',
        after.json && after.json.phase);
  const tl2 = (await bearer(`/api/v1/incidents/${id}/timeline`)).json || {};
  check((tl2.timeline || []).some((e) => e.what === 'phase' && e.from === 'new' &&
                                         e.to === 'first_aid' && e.who === user.name &&
                                         e.reason === reason),
        'API: the timeline has new -> first_aid by the analyst with the reason typed', tl2);
  const tasks = ((await bearer(`/api/v1/incidents/${id}/tasks`)).json || {}).tasks || [];
  const t = tasks.find((x) => x.id === taskId);
  check(t && t.done === true && t.done_by === user.name && t.done_at,
        'API: the ticked task is done, done_by the analyst', t);
  const notes = ((await bearer(`/api/v1/incidents/${id}/notes`)).json || {}).notes || [];
  check(notes.some((x) => x.text === note && x.who === user.name),
        'API: the note is stored as typed, by the analyst', notes);
  check(rep && rep.author === user.name, 'API: the first report is by the analyst', rep);
  return id;
}

// 4 (on the incident page).
async function incidentHostile(page) {
  await go(page, `#/incidents/${HOSTILE.incident}`, 'incident');
  const row = page.locator(`[data-testid=incident-alerts] tr[data-alert-id="${HOSTILE.alert}"]`);
  await row.waitFor({ timeout: WAIT });
  const pre = page.locator('[data-testid=incident-alerts] pre[data-testid=alert-raw]');
  try {
    await pre.first().waitFor({ timeout: 2000 });
  } catch {
    // raw records shown on demand
    await row.locator('[data-action=events]').click();
    await pre.first().waitFor({ timeout: WAIT });
  }
  await rawIsText(page, pre, 'incident page');
}

// 3. (analyst) no admin page.
async function analystNoAdmin(page) {
  await go(page, '#/dashboard', 'dashboard');
  check(await page.locator('[data-testid=nav-incidents]').count() === 1 &&
        await page.locator('[data-testid=nav-admin]').count() === 0,
        'an analyst has the nav links but no nav-admin');
  await page.goto(BASE + '/#/admin');
  await page.locator('[data-ready="1"]').first().waitFor({ timeout: WAIT });
  await page.waitForTimeout(1000);
  const n = await page.locator('[data-testid=admin-users], [data-testid=admin-rules], ' +
                               '[data-page=admin][data-ready="1"]').count();
  check(n === 0, 'an analyst going to #/admin does not get the admin page', n);
}

// 6. Triage at volume: ticked rows and "all matching the filters" acted on
// in one request each, checked through the API.
async function bulkActions(page, incId) {
  const alertsOf = async (q) => ((await api(page, 'GET', '/api/v1/alerts?' + q)).json || {});
  await go(page, '#/triage?ack=0', 'triage');
  const bar = page.locator('[data-testid=bulk-bar]');
  check(await bar.isVisible(), 'the triage queue has the bulk bar for an analyst');
  check(await page.locator('[data-testid=bulk-ack]').isDisabled(),
        'with nothing selected its actions are off');

  // Two rows ticked, acknowledged at once.
  const boxes = page.locator('input[data-testid=select-alert]');
  const ids = (await boxes.evaluateAll((els) => els.slice(0, 2).map((e) => Number(e.value))));
  for (let i = 0; i < 2; i++)
    await boxes.nth(i).check();
  check((await text(page, '[data-testid=bulk-count]')).startsWith('2 selected'),
        'ticking two rows: "2 selected"', await text(page, '[data-testid=bulk-count]'));
  await page.locator('[data-testid=bulk-ack]').click();
  await page.locator('.toast', { hasText: '2 alerts acknowledged' }).first()
    .waitFor({ timeout: WAIT });
  const acked = (await alertsOf('acknowledged=1&limit=500')).alerts || [];
  check(ids.length === 2 && ids.every((id) => acked.some((a) => a.id === id &&
        a.acknowledged_by === USERS.analyst.name)),
        'bulk Ack acknowledged the two ticked alerts under the analyst', { ids });

  // One row attached to the incident worked on above.
  await page.locator('input[data-testid=select-alert]').first().waitFor({ timeout: WAIT });
  const one = Number(await page.locator('input[data-testid=select-alert]').first()
    .getAttribute('value'));
  await page.locator('input[data-testid=select-alert]').first().check();
  await page.locator('[data-testid=bulk-attach]').click();
  const att = page.locator('form[data-testid=bulk-attach-form]');
  await att.locator('input[name=incident]').fill(String(incId));
  await att.locator('button[type=submit]').click();
  await page.locator('.toast', { hasText: '1 alert attached' }).first().waitFor({ timeout: WAIT });
  const linked = ((await alertsOf(`incident=${incId}&limit=500`)).alerts || []).map((a) => a.id);
  check(linked.includes(one), 'bulk Attach put the ticked alert in the incident', { one, linked });

  // Every alert a filter keeps: level >= 4, not acknowledged.
  await go(page, '#/triage?ack=0&level=4', 'triage');
  const want = (await alertsOf('acknowledged=0&level=4&limit=1')).total;
  await page.locator('input[data-testid=select-all-matching]').check();
  const count = await text(page, '[data-testid=bulk-count]');
  check(want > 0 && /selected/.test(count) && Number(count.replace(/ selected.*/, '')
    .replace(/[^0-9]/g, '')) === want,
        '"all matching the filters" selects the total the API counts', { count, want });
  await page.locator('[data-testid=bulk-ack]').click();
  let left = -1;
  for (let t = 0; t < WAIT / 250 && left !== 0; t++) {
    await page.waitForTimeout(250);
    left = (await alertsOf('acknowledged=0&level=4&limit=1')).total;
  }
  check(left === 0, 'bulk Ack of all matching left none of them unacknowledged', { want, left });
  await page.locator('.toast', { hasText: 'acknowledged' }).last().waitFor({ timeout: WAIT });
  await shot(page, 'triage-bulk');
}

// 7. From 800 px up: the header wraps, "Log out" is on screen and works, and
// the brand's flame is drawn (no glyph a font may lack).
async function narrow(browser, user) {
  const ctx = await browser.newContext({ viewport: { width: 800, height: 600 } });
  ctx.setDefaultTimeout(WAIT);
  watch(ctx, 'narrow');
  const page = await login(ctx, user);
  for (const [hash, name] of [['#/dashboard', 'dashboard'], ['#/triage', 'triage'],
                              ['#/incidents', 'incidents']]) {
    await go(page, hash, name);
    const out = page.locator('[data-testid=logout]');
    const box = await out.boundingBox();
    check(await out.isVisible() && box && box.x >= 0 && box.y >= 0 && box.x + box.width <= 800 &&
          box.y + box.height <= 600,
          `at 800x600 on ${name} "Log out" is visible inside the window`, box);
    const wide = await page.evaluate(() => document.querySelector('#top').scrollWidth);
    check(wide <= 800, `at 800x600 on ${name} the header does not overflow`, wide);
  }
  const mark = await page.locator('[data-testid=brand-mark]').evaluate((img) =>
    ({ tag: img.tagName, ok: img.complete && img.naturalWidth > 0, w: img.clientWidth }));
  check(mark.tag === 'IMG' && mark.ok && mark.w > 0, 'the brand mark is our SVG, drawn', mark);
  check(!(await page.locator('#top').textContent()).includes('火'),
        'the header holds no CJK glyph a font may lack');
  await shot(page, 'narrow-800');
  await page.locator('[data-testid=logout]').click();
  await ready(page, 'login');
  check(true, 'at 800x600 "Log out" is clickable and logs out');
  await ctx.close();
}

// 5. Cookie, CSRF and logout, on the analyst's session.
async function sessionSecurity(ctx, page, incId) {
  const cookies = await ctx.cookies();
  const c = cookies.find((x) => x.name === 'hikeshi_session');
  check(c && c.httpOnly === true && c.sameSite === 'Strict' && c.path === '/',
        'the session cookie is HttpOnly, SameSite=Strict, Path=/', c && { ...c, value: '...' });
  check(c && !(await page.evaluate(() => document.cookie)).includes('hikeshi_session'),
        "the page's script cannot read the session cookie");
  const sess = await api(page, 'GET', '/api/v1/session');
  const csrf = sess.json && sess.json.csrf;
  check(sess.status === 200 && typeof csrf === 'string' && csrf.length >= 16,
        'GET /api/v1/session gives the session\'s CSRF token', sess.status);
  const p = `/api/v1/incidents/${incId}/notes`;
  refusedOnPurpose.add(refusal(403, p));
  const none = await api(page, 'POST', p, { body: { text: 'no csrf' } });
  check(none.status === 403 && none.json && none.json.error === 'missing or wrong CSRF token',
        'a POST by cookie without X-CSRF-Token: 403', none);
  const wrong = await api(page, 'POST', p, { body: { text: 'wrong csrf' }, csrf: 'x' + csrf });
  check(wrong.status === 403, 'a POST by cookie with a wrong X-CSRF-Token: 403', wrong.status);
  const notes = ((await bearer(p)).json || {}).notes || [];
  check(!notes.some((n) => n.text === 'no csrf' || n.text === 'wrong csrf'),
        'neither refused note was stored');

  await page.locator('[data-testid=logout]').click();
  await ready(page, 'login');
  check(true, 'logout returns to the login page');
  refusedOnPurpose.add('401 /api/v1/incidents');
  const after = await api(page, 'GET', '/api/v1/incidents');
  check(after.status === 401, 'after logout a GET from the page is 401', after.status);
  check(!(await ctx.cookies()).some((x) => x.name === 'hikeshi_session' && x.value),
        'logout cleared the cookie');
  const replay = c ? await withCookie('/api/v1/incidents', `hikeshi_session=${c.value}`) : 0;
  check(replay === 401, 'the old cookie replayed after logout: 401 (the session ended)', replay);
}

// 3. A viewer sees no write control anywhere and is refused by the API.
async function viewer(browser, user, incId) {
  const ctx = await newContext(browser, 'viewer');
  const page = await login(ctx, user);
  check(true, `the viewer ${user.name} logs in through the form`);
  check((await text(page, '[data-testid=whoami]')).trim() === `${user.name} (viewer)`,
        'the header says viewer');
  check(await page.locator('[data-testid=nav-admin]').count() === 0,
        'a viewer has no nav-admin link');
  const pages = [['#/dashboard', 'dashboard'], ['#/triage', 'triage'],
                 ['#/incidents', 'incidents'], [`#/incidents/${incId}`, 'incident'],
                 [`#/incidents/${HOSTILE.incident}`, 'incident']];
  for (const [hash, name] of pages) {
    await go(page, hash, name);
    if (name === 'incident')
      await page.locator(`[data-testid=incident-title]`).first().waitFor({ timeout: WAIT });
    await page.waitForTimeout(300);
    const n = await page.locator('[data-write]').count();
    check(n === 0, `viewer on ${hash}: no data-write element`, n);
    if (hash === `#/incidents/${incId}`)
      await shot(page, 'incident-viewer');
  }
  await page.goto(BASE + '/#/admin');
  await page.locator('[data-ready="1"]').first().waitFor({ timeout: WAIT });
  await page.waitForTimeout(1000);
  check(await page.locator('[data-testid=admin-users], [data-testid=admin-rules]').count() === 0,
        'a viewer going to #/admin does not get the admin page');
  const csrf = ((await api(page, 'GET', '/api/v1/session')).json || {}).csrf;
  const p = `/api/v1/incidents/${incId}/notes`;
  refusedOnPurpose.add(refusal(403, p));
  const r = await api(page, 'POST', p, { body: { text: 'viewer note' }, csrf });
  check(typeof csrf === 'string' && r.status === 403,
        'a viewer\'s POST of a note from the page, with the CSRF token: 403', r);
  const inc = ((await bearer(`/api/v1/incidents/${incId}`)).json) || {};
  refusedOnPurpose.add(refusal(403, `/api/v1/incidents/${incId}`));
  const r2 = await api(page, 'PATCH', `/api/v1/incidents/${incId}`,
                       { body: { version: inc.version, title: 'viewer was here' }, csrf });
  check(r2.status === 403, "a viewer's PATCH of the incident, with the CSRF token: 403", r2);
  await ctx.close();
}

// 3. The admin sees the admin page with the loaded rules and their hits.
async function admin(browser, user) {
  const ctx = await newContext(browser, 'admin');
  const page = await login(ctx, user);
  check(true, `the admin ${user.name} logs in through the form`);
  await page.locator('[data-testid=nav-admin]').click();
  await ready(page, 'admin');
  check(true, 'an admin opens the admin page from nav-admin');
  const rules = (await api(page, 'GET', '/api/v1/rules')).json || {};
  const rows = page.locator('[data-testid=admin-rules] tr[data-rule-id]');
  await rows.first().waitFor({ timeout: WAIT });
  const dom = await rows.evaluateAll((els) => Object.fromEntries(els.map((e) => {
    const h = e.querySelector('[data-testid=rule-hits]');
    return [e.getAttribute('data-rule-id'), h && h.getAttribute('data-value')];
  })));
  const list = rules.rules || [];
  check(list.length > 0 && Object.keys(dom).length === list.length,
        `admin-rules has a row per loaded rule (${list.length})`, Object.keys(dom).length);
  const wrong = list.filter((r) => dom[r.id] !== String(r.hits));
  check(list.length > 0 && wrong.length === 0, 'each rule-hits data-value is the API\'s hits',
        wrong.map((r) => ({ id: r.id, dom: dom[r.id], api: r.hits })));
  check(list.some((r) => r.hits > 0), 'some rules have hits after the day',
        list.map((r) => r.hits));
  const users = ((await api(page, 'GET', '/api/v1/users')).json || {}).users || [];
  const urows = await page.locator('[data-testid=admin-users] tr[data-user-id]')
    .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-user-id'))));
  check(users.length === 3 && JSON.stringify([...urows].sort()) ===
        JSON.stringify(users.map((u) => u.id).sort()),
        'admin-users has a row per user', { dom: urows, api: users.map((u) => u.id) });
  for (const t of ['admin-tokens', 'admin-assets', 'admin-contacts', 'admin-suppressions'])
    check(await page.locator(`[data-testid=${t}]`).count() === 1, `the admin page has ${t}`);
  await shot(page, 'admin');
  await ctx.close();
}

async function newContext(browser, who) {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 },
                                         acceptDownloads: true });
  ctx.setDefaultTimeout(WAIT);
  watch(ctx, who);
  return ctx;
}

// ---------------------------------------------------------------------- run

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.HIKESHI_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const ctx = await newContext(browser, 'analyst');
    let page = null;
    let incId = null;
    await section('login and dashboard', async () => {
      page = await loginAndDashboard(ctx, USERS.analyst);
    });
    if (!page)
      page = await ctx.newPage();
    await section('the hostile record in triage', () => triageHostile(page));
    await section('an incident\'s life', async () => { incId = await incidentWork(page, USERS.analyst); });
    await section('the hostile record on its incident', () => incidentHostile(page));
    await section('the analyst and the admin page', () => analystNoAdmin(page));
    await section('bulk actions in triage', () => bulkActions(page, incId || HOSTILE.incident));
    await section('headers, cookie, CSRF, logout', async () => {
      const csp = consoleResponses.filter((r) => r.status === 200 || r.status === 304);
      const bad = csp.filter((r) => (r.csp || '').replace(/\s+/g, ' ').trim() !== CSP);
      check(csp.some((r) => r.url === '/') && csp.some((r) => r.url.endsWith('.js')) &&
            bad.length === 0,
            `every console response (${csp.length}: /, /ui/...) carries the contract's CSP`,
            bad.slice(0, 3));
      await sessionSecurity(ctx, page, incId || HOSTILE.incident);
    });
    await ctx.close();
    await section('the viewer', () => viewer(browser, USERS.viewer, incId || HOSTILE.incident));
    await section('the admin', () => admin(browser, USERS.admin));
    await section('the console at 800 px', () => narrow(browser, USERS.analyst));
  } finally {
    await browser.close();
  }
  check(problems.length === 0,
        'no console errors, CSP violations or uncaught exceptions during the run', problems);
  console.log(failures ? `${failures} browser checks failed` : 'all browser checks passed');
  process.exit(failures ? 1 : 0);
}

main().catch((e) => {
  console.log('not ok - the browser test ran to its end [' + String(e.stack || e) + ']');
  process.exit(1);
});
