// search.js - the console's search page (#/search, issue 17): a hunt query
// over the archive's records in a time range, a histogram of the matches
// over time, the matches as a table, the raw record of a row opened, and
// (analysts) the search added to an incident as evidence.
//
//   GET /api/v1/events?q=&from=&to=&limit=&cursor=   a page of matches,
//                                                    in archive order
//   POST /api/v1/incidents/{id}/evidence/excerpt    {query, from, to}: the
//                                                    matches as an archive
//                                                    excerpt with its proofs
//
// Pages are fetched until SEARCH_MAX matches or the range's end (the
// daemon answers at most 500 per page and stops a page after a second of
// searching; an empty page with a next_cursor is followed too).  The
// histogram counts what was fetched; when the search stopped at
// SEARCH_MAX the page says so.  Raw records are attacker-controlled text:
// only ever textContent.  The query, from and to are kept in the route
// (#/search?q=...), so a search can be linked.

import {h, replace, fmtInt, fmtTime, qs, panel} from './dom.js';
import {api, canWrite} from './api.js';
import {errorLine, writeButton} from './ui.js';

const SEARCH_MAX = 2000; // matches fetched for one search
const PAGE = 500;
const BUCKETS = 48;

/** Matches of `q` in [from, to), at most SEARCH_MAX: {events, more}. */
async function fetchAll(q, from, to, alive) {
  const events = [];
  let cursor = 0;
  for (let pages = 0; pages < 1000 && alive(); pages++) {
    const p = await api.get('/events' + qs({q, from, to, limit: PAGE, cursor}));
    events.push(...p.events);
    if (p.next_cursor === null || p.next_cursor === undefined) return {events, more: false};
    if (events.length >= SEARCH_MAX) return {events: events.slice(0, SEARCH_MAX), more: true};
    cursor = p.next_cursor;
  }
  return {events, more: true};
}

/** The matches counted per time bucket, as bars (SVG). */
function histogram(events) {
  const ts = events.map((e) => Date.parse(e.received)).filter((t) => !Number.isNaN(t));
  const box = h('div', {class: 'search-histogram', 'data-testid': 'search-histogram'});
  if (!ts.length) return box;
  const lo = Math.min(...ts);
  const hi = Math.max(...ts);
  const n = BUCKETS;
  const width = Math.max(1, (hi - lo) / n); // ms; all in the first bar when hi == lo
  const counts = new Array(n).fill(0);
  for (const t of ts) counts[Math.min(n - 1, Math.floor((t - lo) / width))]++;
  const max = Math.max(...counts);
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${n * 10} 100`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${fmtInt(ts.length)} matches from ${fmtTime(lo)} to ${fmtTime(hi)}`);
  counts.forEach((c, i) => {
    const r = document.createElementNS(NS, 'rect');
    const ht = c ? Math.max(2, (c / max) * 100) : 0;
    r.setAttribute('x', String(i * 10 + 1));
    r.setAttribute('width', '8');
    r.setAttribute('y', String(100 - ht));
    r.setAttribute('height', String(ht));
    r.setAttribute('class', 'bar');
    r.setAttribute('data-count', String(c));
    const title = document.createElementNS(NS, 'title');
    title.textContent = `${fmtTime(lo + i * width, true)}: ${c}`;
    r.appendChild(title);
    svg.appendChild(r);
  });
  box.appendChild(svg);
  box.appendChild(h('div', {class: 'muted small search-histogram-axis'},
    h('span', null, fmtTime(lo, true)), h('span', null, fmtTime(hi, true))));
  return box;
}

/** The opened record: its raw bytes and decoded fields. */
function recordView(e) {
  const rows = Object.keys(e.fields || {}).sort().map((k) => {
    const v = e.fields[k];
    return h('tr', null, h('th', {class: 'mono'}, k),
      h('td', {class: 'mono'}, Array.isArray(v) ? v.join(', ') : String(v)));
  });
  return h('div', {class: 'search-record', 'data-testid': 'search-record', 'data-record': String(e.record)},
    h('p', {class: 'muted small'}, `record ${e.record} · received ${fmtTime(e.received, true)} · input ${e.input}`,
      e.peer ? ` · from ${e.peer}` : '', e.decoder ? ` · decoder ${e.decoder}` : ''),
    h('pre', {class: 'raw', 'data-testid': 'search-raw'}, e.raw),
    rows.length ? h('table', {class: 'fields'}, h('tbody', null, rows)) : null);
}

export function mount(root, ctx) {
  const q0 = ctx.query.get('q') || '';
  const form = h('form', {class: 'search-form', 'data-testid': 'search-form'},
    h('label', null, 'Query ', h('input', {name: 'q', type: 'search', value: q0, required: true,
      size: 60, placeholder: 'e.g. source.ip=203.0.113.0/24 AND "Failed password"',
      'aria-label': 'Query'})),
    h('label', null, 'From ', h('input', {name: 'from', value: ctx.query.get('from') || '', size: 22,
      placeholder: 'ISO 8601 or epoch s'})),
    h('label', null, 'To ', h('input', {name: 'to', value: ctx.query.get('to') || '', size: 22,
      placeholder: '(exclusive)'})),
    h('button', {type: 'submit'}, 'Search'));
  const err = errorLine({'data-testid': 'search-error'});
  const summary = h('p', {class: 'muted', 'data-testid': 'search-summary'});
  const chart = h('div');
  const tbody = h('tbody');
  const table = h('table', {class: 'search-results', 'data-testid': 'search-results', hidden: true},
    h('thead', null, h('tr', null, h('th', null, 'Received'), h('th', null, 'Input'),
      h('th', null, 'Peer'), h('th', null, 'Record'))), tbody);
  const opened = h('div');
  const evidence = h('div', {class: 'search-evidence', hidden: true});
  let last = null; // {q, from, to, events} of the search shown
  if (canWrite()) {
    const incident = h('input', {name: 'incident', type: 'number', min: '1', size: 6,
      'aria-label': 'Incident number', 'data-testid': 'search-incident'});
    const evErr = errorLine({'data-testid': 'search-evidence-error'});
    const done = h('p', {class: 'muted small', 'data-testid': 'search-evidence-done'});
    const add = writeButton('Add to incident as evidence', {'data-testid': 'search-add-evidence'},
      async () => {
        done.textContent = '';
        const id = Number(incident.value);
        if (!Number.isInteger(id) || id < 1) throw new Error('give the incident\'s number');
        // The search's range, or the span of what it found (to: exclusive).
        const ts = last.events.map((e) => Date.parse(e.received));
        const from = last.from || new Date(Math.min(...ts)).toISOString();
        const to = last.to || new Date(Math.max(...ts) + 1000).toISOString();
        const item = await api.post(`/incidents/${id}/evidence/excerpt`, {query: last.q, from, to});
        done.textContent = '';
        done.append(`${item.id} (archive excerpt, ${last.events.length} records with their ` +
          'proofs) added to ', h('a', {href: `#/incidents/${id}`}, `incident #${id}`));
        done.setAttribute('data-item', String(item.id));
      }, evErr);
    replace(evidence, h('label', null, 'Incident # ', incident), add, evErr, done);
  }
  replace(root, panel('Search the archive', null,
    h('p', {class: 'muted small'}, 'Words and "phrases" match the raw record; FIELD=VALUE (wildcards, CIDR), ',
      'FIELD~/REGEX/, AND, OR, NOT (docs/hunt.md).'),
    form, err, summary, chart, evidence, table, opened));

  let run = 0;
  async function search(q, from, to) {
    const mine = ++run;
    err.clear();
    replace(opened);
    summary.textContent = 'Searching…';
    root.setAttribute('data-searching', '1');
    try {
      const {events, more} = await fetchAll(q, from, to, () => ctx.alive() && mine === run);
      if (mine !== run) return;
      summary.textContent = `${fmtInt(events.length)} matching records` +
        (more ? ` (the first ${fmtInt(SEARCH_MAX)}; narrow the time range for the rest)` : '');
      summary.setAttribute('data-count', String(events.length));
      replace(chart, histogram(events));
      replace(tbody, events.map((e) => {
        const tr = h('tr', {class: 'search-row', tabindex: '0', 'data-record': String(e.record)},
          h('td', {class: 'nowrap'}, fmtTime(e.received, true)), h('td', null, e.input),
          h('td', {class: 'mono'}, e.peer || ''),
          h('td', {class: 'mono search-raw-cell'}, e.raw.length > 200 ? e.raw.slice(0, 200) + '…' : e.raw));
        const open = () => {
          for (const x of tbody.querySelectorAll('tr.selected')) x.classList.remove('selected');
          tr.classList.add('selected');
          replace(opened, recordView(e));
        };
        tr.addEventListener('click', open);
        tr.addEventListener('keydown', (ev) => {
          if (ev.key === 'Enter') open();
        });
        return tr;
      }));
      table.hidden = events.length === 0;
      last = {q, from, to, events};
      evidence.hidden = events.length === 0 || more || !canWrite();
    } catch (e) {
      if (mine !== run) return;
      summary.textContent = '';
      replace(chart);
      replace(tbody);
      table.hidden = true;
      evidence.hidden = true;
      err.show(e);
    } finally {
      if (mine === run) root.setAttribute('data-searching', '0');
    }
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    const q = String(f.get('q') || '').trim();
    const from = String(f.get('from') || '').trim();
    const to = String(f.get('to') || '').trim();
    ctx.setQuery({q, from, to});
    search(q, from, to);
  });
  ctx.ready();
  if (q0) search(q0, ctx.query.get('from') || '', ctx.query.get('to') || '');
}
