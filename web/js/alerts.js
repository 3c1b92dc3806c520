// alerts.js - what the triage queue and the incident page share about
// aggregated alerts: the row cells, the raw records behind an alert.
//
//   GET /api/v1/alerts/{id}/events   the alerts folded into it, with the
//                                    raw records (attacker-controlled text:
//                                    only ever textContent)

import {h, replace, severityBadge, timeEl, fmtInt, qs} from './dom.js';
import {api} from './api.js';
import {errorLine} from './ui.js';

/** The rule's title and name (the API calls them title/rule or
 * rule_title/rule_name). */
export function ruleTitle(a) {
  return a.title || a.rule_title || a.rule || a.rule_name || a.rule_id || a.kind;
}

export function ruleName(a) {
  return a.rule || a.rule_name || a.rule_id || '';
}

/** "destination.ip=10.0.1.24 host.name=fw01 source.ip=198.18.50.227" as
 * one chip per field=value. */
export function entityChips(entity) {
  const parts = String(entity || '').split(/\s+(?=[\w.@-]+=)/).filter(Boolean);
  return h('span', {class: 'chips'}, parts.map((p) => h('span', {class: 'chip mono'}, p)));
}

/** The cells every alert row shows (id, level, rule, entity, count, seen). */
export function alertCells(a) {
  return [
    h('td', {class: 'c-id mono'}, '#' + a.id),
    h('td', {class: 'c-level'}, severityBadge(a.level)),
    h('td', {class: 'c-rule'}, h('div', {class: 'rule-title'}, ruleTitle(a)),
      h('div', {class: 'muted small mono'}, ruleName(a), a.kind && a.kind !== 'rule' ? ' · ' + a.kind : '',
        a.type ? ' · ' + a.type : '')),
    h('td', {class: 'c-entity'}, entityChips(a.entity)),
    h('td', {class: 'c-count num'}, fmtInt(a.count)),
    h('td', {class: 'c-seen'}, timeEl(a.last), a.first !== a.last
      ? h('div', {class: 'muted small'}, 'since ', timeEl(a.first)) : null),
  ];
}

/**
 * The raw records of aggregated alert `id`, paged: a container
 * [data-testid=alert-events] with one pre[data-testid=alert-raw] per record
 * and the event's fields under it.
 */
export function eventsView(id, opts) {
  const o = Object.assign({limit: 20}, opts || {});
  const list = h('ol', {class: 'events'});
  const err = errorLine();
  const more = h('button', {type: 'button', class: 'ghost small', hidden: true}, 'More records');
  const status = h('span', {class: 'muted small'});
  const box = h('div', {class: 'alert-events', 'data-testid': 'alert-events', 'data-alert': String(id)},
                list, h('div', {class: 'events-foot'}, more, status), err);
  let offset = 0;
  let shown = 0;

  async function load() {
    more.disabled = true;
    try {
      const r = await api.get('/alerts/' + id + '/events' + qs({limit: o.limit, offset}));
      const evs = r.events || [];
      for (const e of evs) list.appendChild(eventItem(e));
      shown += evs.length;
      offset += evs.length;
      more.hidden = evs.length < o.limit;
      replace(status, shown ? shown + ' record' + (shown === 1 ? '' : 's') + ' shown'
                            : 'No raw records stored for this alert.');
    } catch (e) {
      err.show(e);
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener('click', load);
  box.loaded = load();
  return box;
}

function eventItem(e) {
  const fields = e.fields && typeof e.fields === 'object' ? Object.entries(e.fields) : [];
  return h('li', {class: 'event', 'data-event-id': String(e.id)},
    h('div', {class: 'event-head'}, timeEl(e.time, true),
      e.title ? h('span', {class: 'event-title'}, e.title) : null,
      e.input ? h('span', {class: 'muted small'}, 'input ', e.input) : null),
    h('pre', {class: 'raw', 'data-testid': 'alert-raw'}, e.raw ?? ''),
    fields.length ? h('details', {class: 'event-fields'},
      h('summary', {}, fields.length + ' fields'),
      h('table', {class: 'kv'}, h('tbody', {}, fields.map(([k, v]) =>
        h('tr', {}, h('th', {class: 'mono'}, k),
          h('td', {class: 'mono wrap'}, typeof v === 'string' ? v : JSON.stringify(v)))))))
      : null);
}
