// app.js - the console's entry point: session, header, hash router and the
// life cycle of pages.
//
// Routes: #/login, #/dashboard (default), #/triage, #/incidents,
// #/incidents/<id>, #/search, #/admin.  A route may carry a query after "?"
// (#/triage?rule=x) that the page reads and keeps up to date.
//
// A page module exports mount(root, ctx).  It fills `root` and calls
// ctx.ready() once its data is shown: that puts data-page and
// data-ready="1" on the root (what the browser tests wait for).  Timers,
// listeners and charts are registered with ctx.every / ctx.onCleanup and
// are stopped when the page is left.

import {h, replace, fmtTime} from './js/dom.js';
import {api, loadSession, getSession, setSession, setUnauthorizedHandler, logout, isAdmin} from './js/api.js';
import {toast, errorText} from './js/ui.js';
import * as loginPage from './js/login.js';
import * as dashboardPage from './js/dashboard.js';
import * as triagePage from './js/triage.js';
import * as incidentsPage from './js/incidents.js';
import * as incidentPage from './js/incident.js';
import * as adminPage from './js/admin.js';
import * as searchPage from './js/search.js';

const ROUTES = [
  {re: /^\/login$/, page: 'login', mod: loginPage, open: true},
  {re: /^\/dashboard$/, page: 'dashboard', mod: dashboardPage, nav: 'dashboard'},
  {re: /^\/triage$/, page: 'triage', mod: triagePage, nav: 'triage'},
  {re: /^\/incidents$/, page: 'incidents', mod: incidentsPage, nav: 'incidents'},
  {re: /^\/incidents\/([1-9][0-9]*)$/, page: 'incident', mod: incidentPage, nav: 'incidents'},
  {re: /^\/search$/, page: 'search', mod: searchPage, nav: 'search'},
  {re: /^\/admin$/, page: 'admin', mod: adminPage, nav: 'admin', admin: true},
];

const main = document.getElementById('app');
const top = document.getElementById('top');
let current = null; // {cleanups: [], alive: bool}
let wanted = null;  // where to go after logging in

function parseHash() {
  let raw = location.hash.replace(/^#/, '');
  if (!raw || raw === '/') raw = '/dashboard';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  return {path, query};
}

function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

// ---- the header ------------------------------------------------------------

const NAV = [
  ['dashboard', 'Dashboard', '#/dashboard'],
  ['triage', 'Triage', '#/triage'],
  ['incidents', 'Incidents', '#/incidents'],
  ['search', 'Search', '#/search'],
  ['admin', 'Administration', '#/admin'],
];

function renderHeader(active) {
  const s = getSession();
  if (!s) {
    top.hidden = true;
    replace(top);
    return;
  }
  top.hidden = false;
  const links = NAV.filter(([id]) => id !== 'admin' || isAdmin()).map(([id, label, href]) =>
    h('a', {href, 'data-testid': 'nav-' + id, class: id === active ? 'active' : null,
            'aria-current': id === active ? 'page' : null}, label));
  const logoutBtn = h('button', {type: 'button', class: 'ghost', 'data-testid': 'logout'}, 'Log out');
  logoutBtn.addEventListener('click', async () => {
    logoutBtn.disabled = true;
    try {
      await logout();
    } catch (e) {
      // The session is forgotten here whatever the daemon said.
    }
    wanted = null;
    navigate('#/login');
  });
  replace(top,
    h('a', {class: 'brand', href: '#/dashboard', title: 'hikeshi — the fire brigade'},
      h('img', {class: 'brand-mark', src: '/ui/favicon.svg', alt: '', width: 24, height: 24,
                'data-testid': 'brand-mark'}), 'hikeshi'),
    h('nav', {class: 'nav', 'aria-label': 'main'}, links),
    h('span', {class: 'spacer'}),
    clock,
    h('span', {class: 'whoami', 'data-testid': 'whoami'}, s.user + ' (' + s.role + ')'),
    logoutBtn);
}

// A clock in the header: local time and UTC (the API's times are UTC).
const clock = h('span', {class: 'clock', 'aria-hidden': 'true'});
function tickClock() {
  const d = new Date();
  const p = (n) => String(n).padStart(2, '0');
  clock.textContent = p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds()) +
    '  ·  ' + p(d.getUTCHours()) + ':' + p(d.getUTCMinutes()) + ' UTC';
}
tickClock();
setInterval(tickClock, 1000);

// ---- the exercise banner -------------------------------------------------------
//
// While a tabletop exercise runs (docs/exercise.md), every page says so:
// GET /api/v1/exercise answers the run in progress and its injects, newest
// first, or {"run": null}.  Polled every 5 s while logged in, whatever the
// page; the API's strings go in as text only.
const banner = document.getElementById('exercise-banner');
const BANNER_MS = 5000;
let bannerTimer = null;

function renderBanner(x) {
  const run = x && x.run;
  if (!run) {
    banner.hidden = true;
    replace(banner);
    return;
  }
  const title = run.title || run.scenario || '?';
  const line = h('p', {class: 'exercise-run'},
    h('strong', {}, 'EXERCISE in progress: '),
    h('span', {'data-testid': 'exercise-title'}, title),
    ', started ' + fmtTime(run.started, true));
  const m = Array.isArray(x.messages) && x.messages.length ? x.messages[0] : null;
  const inject = m ? h('p', {class: 'exercise-inject', 'data-testid': 'exercise-inject'},
    'Last inject' + (m.from ? ' from ' + m.from : '') + (m.channel ? ' (' + m.channel + ')' : '') +
    ', ' + fmtTime(m.time, true) + ': ', h('q', {}, m.text || '')) : null;
  replace(banner, line, inject);
  banner.hidden = false;
}

async function pollBanner() {
  clearTimeout(bannerTimer);
  bannerTimer = null;
  try {
    if (!getSession()) renderBanner(null);
    else if (!document.hidden) renderBanner(await api.get('/exercise'));
  } catch (e) {
    console.error(e);  // the banner keeps what it last knew
  } finally {
    bannerTimer = setTimeout(pollBanner, BANNER_MS);
  }
}

// ---- pages -----------------------------------------------------------------

function leave() {
  if (!current) return;
  current.alive = false;
  for (const fn of current.cleanups.splice(0)) {
    try {
      fn();
    } catch (e) {
      console.error(e);
    }
  }
  current = null;
}

function makeContext(page, root, match, query, life) {
  const ctx = {
    params: {id: match[1] ? Number(match[1]) : null},
    query,
    alive: () => life.alive,
    ready() {
      if (!life.alive) return;
      root.setAttribute('data-page', page);
      root.setAttribute('data-ready', '1');
    },
    onCleanup(fn) {
      life.cleanups.push(fn);
    },
    /** fn() now and then every `ms`, paused while the tab is hidden. */
    every(ms, fn) {
      let timer = null;
      let running = false;
      let last = Date.now();
      const run = async () => {
        timer = null;
        if (!life.alive || document.hidden) return;
        running = true;
        try {
          await fn();
        } catch (e) {
          console.error(e);
        } finally {
          running = false;
          last = Date.now();
          schedule();
        }
      };
      const schedule = () => {
        if (life.alive && !timer) timer = setTimeout(run, ms);
      };
      const onVisible = () => {
        if (document.hidden || running || !life.alive) return;
        clearTimeout(timer);
        timer = null;
        if (Date.now() - last >= ms) run();
        else schedule();
      };
      document.addEventListener('visibilitychange', onVisible);
      schedule();
      life.cleanups.push(() => {
        clearTimeout(timer);
        document.removeEventListener('visibilitychange', onVisible);
      });
    },
    /** Rewrites the route's query without reloading the page. */
    setQuery(params) {
      const u = new URLSearchParams();
      for (const [k, v] of Object.entries(params)) {
        if (v !== null && v !== undefined && v !== '' && v !== false) u.set(k, String(v));
      }
      const {path} = parseHash();
      const s = u.toString();
      history.replaceState(null, '', '#' + path + (s ? '?' + s : ''));
    },
    navigate,
    afterLogin,
  };
  return ctx;
}

async function route() {
  const {path, query} = parseHash();
  let r = ROUTES.find((x) => x.re.test(path));
  if (!r) {
    navigate('#/dashboard');
    return;
  }
  if (!r.open && !getSession()) {
    wanted = location.hash;
    navigate('#/login');
    return;
  }
  if (r.admin && !isAdmin()) {
    toast('The administration is for administrators only.', 'error');
    navigate('#/dashboard');
    return;
  }
  leave();
  const life = {alive: true, cleanups: []};
  current = life;
  renderHeader(r.nav);
  pollBanner();
  const root = h('section', {class: 'page page-' + r.page},
                 h('p', {class: 'loading'}, 'Loading…'));
  replace(main, root);
  document.title = 'hikeshi — ' + r.page;
  const ctx = makeContext(r.page, root, path.match(r.re), query, life);
  try {
    await r.mod.mount(root, ctx);
  } catch (e) {
    if (!life.alive) return;
    console.error(e);
    replace(root, h('div', {class: 'panel page-error', role: 'alert'},
                    h('h2', {}, 'This page could not be loaded'), h('p', {}, errorText(e))));
    root.setAttribute('data-page', r.page);
    root.setAttribute('data-error', '1');
  }
}

// After logging in: back to where the user wanted to go.
function afterLogin() {
  const to = wanted && !wanted.startsWith('#/login') ? wanted : '#/dashboard';
  wanted = null;
  navigate(to);
}

setUnauthorizedHandler(() => {
  if (!getSession()) return;
  setSession(null);
  if (!location.hash.startsWith('#/login')) wanted = location.hash;
  toast('Your session has ended: log in again.', 'error');
  navigate('#/login');
});

async function boot() {
  try {
    await loadSession();
  } catch (e) {
    replace(main, h('div', {class: 'panel page-error', role: 'alert'},
                    h('h2', {}, 'The daemon cannot be reached'), h('p', {}, errorText(e))));
    return;
  }
  window.addEventListener('hashchange', route);
  route();
}

boot();
