// dom.js - building DOM without HTML parsing, and the console's shared
// vocabulary (levels, phases, kill chain) and formatting.
//
// Everything the API returns may come from an attacker (a log line, a rule
// title, an entity value), so text only ever reaches the page through
// createTextNode/textContent.  h() refuses the properties that would parse
// markup or set inline styles (the CSP forbids those anyway).

const FORBIDDEN = new Set(['innerHTML', 'outerHTML', 'style', 'srcdoc']);

/**
 * h('button', {class: 'x', 'data-action': 'ack', onclick: fn}, 'Ack')
 *
 * attrs: `class` (string or array), `text` (textContent), `on<event>`
 * (a function, added with addEventListener), `value`, `checked`,
 * `disabled`, `selected`, `hidden` (properties); `true` sets an empty
 * attribute, `false`/`null`/`undefined` leaves it out; anything else is
 * setAttribute(name, String(value)).  children: nodes, strings, numbers,
 * arrays of those; null/false/undefined are skipped.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (FORBIDDEN.has(k)) throw new Error('h(): ' + k + ' is not allowed');
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') {
        el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
      } else if (k === 'text') {
        el.textContent = String(v);
      } else if (k.startsWith('on') && typeof v === 'function') {
        el.addEventListener(k.slice(2), v);
      } else if (k === 'value' || k === 'checked' || k === 'disabled' || k === 'selected' ||
                 k === 'hidden') {
        el[k] = v;
        if (k !== 'value' && v === true) el.setAttribute(k, '');
      } else if (v === true) {
        el.setAttribute(k, '');
      } else {
        el.setAttribute(k, String(v));
      }
    }
  }
  append(el, children);
  return el;
}

/** Appends children (as h() takes them) to el. */
export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replaces el's children. */
export function replace(el, ...children) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return append(el, children);
}

/** A sandboxed frame showing a document (a report's HTML): no scripts,
 * no same origin, nothing it can reach; the page's CSP applies too. */
export function sandboxFrame(html, title) {
  const f = document.createElement('iframe');
  f.setAttribute('sandbox', '');
  f.setAttribute('title', title || 'preview');
  f.setAttribute('referrerpolicy', 'no-referrer');
  f.srcdoc = html;
  return f;
}

/** <select> with options [[value, label], ...] (or plain strings). */
export function select(attrs, options, selected) {
  return h('select', attrs, options.map((o) => {
    const [value, label] = Array.isArray(o) ? o : [o, o];
    return h('option', {value, selected: String(value) === String(selected ?? '')}, label);
  }));
}

/** A labelled form field. */
export function field(label, control, hint) {
  return h('label', {class: 'field'}, h('span', {class: 'field-label'}, label), control,
           hint ? h('span', {class: 'field-hint'}, hint) : null);
}

/** A panel with a heading. */
export function panel(title, attrs, ...children) {
  return h('section', Object.assign({class: 'panel'}, attrs || {}),
           h('h2', {class: 'panel-title'}, title), ...children);
}

// ---- the domain ----------------------------------------------------------

export const LEVELS = ['Green', 'Yellow', 'Orange', 'Red'];
export const LEVEL_MEANING = {
  Green: 'normal',
  Yellow: 'heightened watch',
  Orange: 'emergency expected',
  Red: 'emergency',
};
export const CATEGORIES = ['A', 'B', 'C', 'D'];
export const CATEGORY_NAME = {
  A: 'Business infrastructure',
  B: 'Client environment',
  C: 'Organisational core',
  D: 'Scandal',
};
export const PHASES = [
  ['new', 'New'],
  ['first_aid', 'First aid'],
  ['emergency', 'Emergency response'],
  ['watch', 'Yellow watch'],
  ['full_response', 'Full response'],
  ['closed', 'Closed'],
];
export const PHASE_NAME = Object.fromEntries(PHASES);
// docs/incident.md's phase table: the moves the API accepts from each
// phase (the API decides; the console only puts these first).
export const PHASE_NEXT = {
  new: ['first_aid', 'closed'],
  first_aid: ['emergency', 'closed'],
  emergency: ['watch', 'full_response', 'closed'],
  watch: ['full_response', 'closed', 'emergency'],
  full_response: ['closed'],
  closed: ['first_aid'],
};
// The Cyber Kill Chain's seven stages by the names the console uses in
// data-stage; the API says "recon" for the first.
export const KILL_CHAIN = [
  'reconnaissance', 'weaponization', 'delivery', 'exploitation', 'installation',
  'command and control', 'actions on objectives',
];
export const STAGE_ALIAS = {recon: 'reconnaissance'};
export const INCIDENT_TYPES = [
  'none', 'damage manifest', 'intruded, no damage yet', 'probe or attack without damage',
  'policy violation', 'anomalous behaviour', 'vulnerability present',
  'new system / organisation change', 'complaints about rules', 'vulnerability information',
  'new virus outbreak', 'attack trend', 'incident at another organisation',
  'change of law/guidelines',
];
export const DETECTION_METHODS = [
  'own monitoring', 'information gathering', 'internal report', 'external report (private)',
  'external report (public)', 'press',
];
export const ALERT_LEVEL = {1: 'informational', 2: 'low', 3: 'medium', 4: 'high', 5: 'critical'};
export const REPORT_KINDS = [
  ['first', 'First report'],
  ['interim1', 'Interim report 1'],
  ['interim2', 'Interim report 2'],
  ['final', 'Final report'],
];
export const REPORT_NAME = Object.fromEntries(REPORT_KINDS);

/** A coloured level badge: the colour AND the word. */
export function levelBadge(level, attrs) {
  const known = LEVELS.includes(level);
  return h('span', Object.assign({class: ['badge', 'lvl', known ? 'lvl-' + level : 'lvl-none']},
                                 attrs || {}), level || '—');
}

/** An alert severity badge (1..5). */
export function severityBadge(n) {
  return h('span', {class: ['badge', 'sev', 'sev-' + n], title: 'level ' + n},
           ALERT_LEVEL[n] || String(n));
}

// ---- formatting ----------------------------------------------------------

const NUM = new Intl.NumberFormat(undefined, {maximumFractionDigits: 0});
const NUM1 = new Intl.NumberFormat(undefined, {maximumFractionDigits: 1});

export function fmtInt(n) {
  return n === null || n === undefined || Number.isNaN(Number(n)) ? '—' : NUM.format(Number(n));
}

export function fmtNum(n) {
  return n === null || n === undefined || Number.isNaN(Number(n)) ? '—' : NUM1.format(Number(n));
}

function pad(n) {
  return String(n).padStart(2, '0');
}

/** "2026-12-06 01:04" in local time (ISO string or ms). */
export function fmtTime(t, seconds) {
  if (t === null || t === undefined || t === '') return '—';
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  const s = d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' +
            pad(d.getHours()) + ':' + pad(d.getMinutes());
  return seconds ? s + ':' + pad(d.getSeconds()) : s;
}

/** A time element showing local time with the UTC ISO string as tooltip. */
export function timeEl(t, seconds) {
  const d = t ? new Date(t) : null;
  const iso = d && !Number.isNaN(d.getTime()) ? d.toISOString() : '';
  return h('time', {datetime: iso || null, title: iso ? iso.replace('.000Z', 'Z') + ' (UTC)' : null},
           fmtTime(t, seconds));
}

/** "3 d 04 h", "1 h 05 min", "12 min 30 s", "45 s" (absolute value). */
export function fmtDuration(sec) {
  let s = Math.abs(Math.round(sec));
  const d = Math.floor(s / 86400); s -= d * 86400;
  const hr = Math.floor(s / 3600); s -= hr * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  if (d) return d + ' d ' + pad(hr) + ' h';
  if (hr) return hr + ' h ' + pad(m) + ' min';
  if (m) return m + ' min ' + pad(s) + ' s';
  return s + ' s';
}

/** "5 min ago" */
export function fmtAgo(t) {
  const ms = Date.now() - new Date(t).getTime();
  if (Number.isNaN(ms)) return '';
  return ms < 0 ? 'in ' + fmtDuration(-ms / 1000) : fmtDuration(ms / 1000) + ' ago';
}

// ---- live countdowns -----------------------------------------------------
//
// A countdown element counts from the `left_seconds` the API gave at the
// moment the answer arrived (the browser's clock may differ from the
// daemon's); one timer updates every countdown on the page each second.

const countdowns = new Set();
let tickTimer = null;

function tick() {
  for (const el of countdowns) {
    if (!el.isConnected) {
      countdowns.delete(el);
      continue;
    }
    renderCountdown(el);
  }
  if (countdowns.size === 0) {
    clearInterval(tickTimer);
    tickTimer = null;
  }
}

function renderCountdown(el) {
  const left = el._left - (performance.now() - el._at) / 1000;
  const overdue = left < 0;
  el.textContent = overdue ? 'overdue by ' + fmtDuration(left) : fmtDuration(left) + ' left';
  el.classList.toggle('overdue', overdue);
  el.classList.toggle('due-soon', !overdue && (el._soon || left < 300));
  el.setAttribute('data-overdue', overdue ? '1' : '0');
}

/**
 * A live countdown to a phase's time target.  deadline: the API's
 * {has_target, due, left_seconds, overdue, due_soon}, or any object with
 * left_seconds (and optionally due, due_soon).
 */
export function countdown(deadline, attrs) {
  if (!deadline || deadline.has_target === false || deadline.left_seconds === undefined ||
      deadline.left_seconds === null) {
    return h('span', Object.assign({class: 'countdown none'}, attrs || {}), 'no time target');
  }
  const el = h('span', Object.assign({class: 'countdown'}, attrs || {}));
  el._left = Number(deadline.left_seconds);
  el._at = performance.now();
  el._soon = !!deadline.due_soon;
  if (deadline.due) el.setAttribute('title', 'due ' + fmtTime(deadline.due, true));
  renderCountdown(el);
  countdowns.add(el);
  if (!tickTimer) tickTimer = setInterval(tick, 1000);
  return el;
}

/** Query string from an object, leaving out empty values. */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === '') continue;
    u.set(k, String(v));
  }
  const s = u.toString();
  return s ? '?' + s : '';
}

/** Calls fn at most once per `ms` after the last call. */
export function debounce(fn, ms) {
  let t = null;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}
