// triage.js - #/triage: the queue of aggregated alerts.
//
//   GET  /api/v1/alerts?rule&level&entity&q&since&acknowledged&limit&offset
//        one page at a time (the server filters and pages; `total` when
//        the daemon gives it)
//   GET  /api/v1/alerts/{id}/events      the raw records behind an alert
//   GET  /api/v1/rules                   rule names for the filter's list
//   POST /api/v1/alerts/{id}/ack
//   POST /api/v1/alerts/{id}/suppress    {reason, expires, scope}
//   POST /api/v1/alerts/{id}/attach      {incident}
//   POST /api/v1/incidents, then attach  a new incident from an alert
//   POST /api/v1/alerts/bulk?<filter>    {action, ids | matching: true, ...}:
//        the bar above the table acts on the rows ticked, or on every
//        alert the filters keep ("all N matching"), in one request
//
// The filters and the page live in the route's query (#/triage?rule=..),
// so a link or a reload shows the same queue.

import {
  h, replace, field, select, qs, debounce, ALERT_LEVEL, INCIDENT_TYPES, LEVELS, CATEGORIES,
  CATEGORY_NAME, DETECTION_METHODS, PHASE_NAME,
} from './dom.js';
import {api, getOptional, canWrite, getSession} from './api.js';
import {writeButton, writeForm, pager, toast, errorLine, empty} from './ui.js';
import {alertCells, eventsView, ruleTitle} from './alerts.js';

const REFRESH_MS = 30000;
const TIMES = [
  ['', 'any time'],
  ['1h', 'last hour'],
  ['6h', 'last 6 hours'],
  ['24h', 'last 24 hours'],
  ['7d', 'last 7 days'],
  ['30d', 'last 30 days'],
];
const TIME_MS = {h: 3600e3, d: 86400e3};

function sinceFor(t) {
  const m = /^(\d+)([hd])$/.exec(t || '');
  if (!m) return '';
  return new Date(Date.now() - Number(m[1]) * TIME_MS[m[2]]).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export async function mount(root, ctx) {
  const q = ctx.query;
  const state = {
    rule: q.get('rule') || '',
    level: q.get('level') || '',
    entity: q.get('entity') || '',
    q: q.get('q') || '',
    time: q.get('time') || '',
    ack: q.get('ack') || '',
    limit: Number(q.get('limit')) || 50,
    offset: Number(q.get('offset')) || 0,
  };
  const writer = canWrite();

  // ---- filters ----
  const ruleList = h('datalist', {id: 'rule-names'});
  const fRule = h('input', {type: 'search', 'data-testid': 'filter-rule', name: 'rule',
                            list: 'rule-names', placeholder: 'rule name or id', value: state.rule,
                            autocomplete: 'off'});
  const fLevel = select({'data-testid': 'filter-level', name: 'level'},
    [['', 'any level']].concat([1, 2, 3, 4, 5].map((n) => [String(n), '≥ ' + ALERT_LEVEL[n]])),
    state.level);
  const fEntity = h('input', {type: 'search', 'data-testid': 'filter-entity', name: 'entity',
                              placeholder: 'e.g. 203.0.113.5 or host.name=web01',
                              value: state.entity, autocomplete: 'off'});
  const fSearch = h('input', {type: 'search', 'data-testid': 'filter-search', name: 'q',
                              placeholder: 'title, rule or entity', value: state.q,
                              autocomplete: 'off'});
  const fTime = select({'data-testid': 'filter-time', name: 'time'}, TIMES, state.time);
  const fAck = select({'data-testid': 'filter-ack', name: 'ack'},
    [['', 'all'], ['0', 'not acknowledged'], ['1', 'acknowledged']], state.ack);
  const fLimit = select({'data-testid': 'filter-limit', name: 'limit'},
    ['25', '50', '100', '200'], String(state.limit));
  const filters = h('form', {class: 'filters', role: 'search'},
    field('Rule', fRule), field('Level', fLevel), field('Entity', fEntity), field('Search', fSearch),
    field('Seen', fTime), field('State', fAck), field('Per page', fLimit), ruleList);
  filters.addEventListener('submit', (ev) => {
    ev.preventDefault();
    applyFilters();
  });

  const applyFilters = () => {
    state.rule = fRule.value.trim();
    state.level = fLevel.value;
    state.entity = fEntity.value.trim();
    state.q = fSearch.value.trim();
    state.time = fTime.value;
    state.ack = fAck.value;
    state.limit = Number(fLimit.value) || 50;
    state.offset = 0;
    load();
  };
  // Typing applies itself after a pause, unless Enter applied it already:
  // a second load would redraw the rows under the analyst's click.
  const later = debounce(() => {
    if (fRule.value.trim() !== state.rule || fEntity.value.trim() !== state.entity ||
        fSearch.value.trim() !== state.q)
      applyFilters();
  }, 350);
  for (const el of [fRule, fEntity, fSearch]) el.addEventListener('input', later);
  for (const el of [fLevel, fTime, fAck, fLimit]) el.addEventListener('change', applyFilters);

  // ---- the table ----
  const body = h('tbody');
  const selectPage = h('input', {type: 'checkbox', 'data-testid': 'select-page',
                                 'aria-label': 'select the alerts of this page'});
  const table = h('table', {class: 'table alerts-table', 'data-testid': 'alerts'},
    h('thead', {}, h('tr', {class: 'alert-row'},
      writer ? h('th', {class: 'c-select'}, selectPage) : null,
      h('th', {}, 'Id'), h('th', {}, 'Level'), h('th', {}, 'Rule'), h('th', {}, 'Entities'),
      h('th', {class: 'num'}, 'Count'), h('th', {}, 'Last seen'), h('th', {}, 'Incident'),
      h('th', {}, 'State'), h('th', {}, 'Actions'))),
    body);
  const pg = pager((offset) => {
    state.offset = offset;
    load();
  });
  const err = errorLine({'data-testid': 'triage-error'});
  const note = h('div');
  const updated = h('span', {class: 'muted updated'});

  // ---- the selection and the bulk bar ----
  // Ticked rows by id; or, with "all matching", every alert the filters
  // keep (the server selects them again from the same query: what a page
  // shows is not what is acted on).
  const picked = new Set();
  let matchingTotal = null;
  const allMatching = h('input', {type: 'checkbox', 'data-testid': 'select-all-matching'});
  const allLabel = h('span');
  const pickedText = h('span', {class: 'bulk-count', 'data-testid': 'bulk-count'});
  const bulkForm = h('div', {class: 'bulk-form'});
  const bulkErr = errorLine({'data-testid': 'bulk-error'});
  // Only for those who may change alerts: a viewer's page has no control
  // that would be refused.
  const bar = !writer ? null : h('div', {class: 'bulk-bar panel', 'data-testid': 'bulk-bar'},
    h('div', {class: 'bulk-row'}, pickedText,
      h('label', {class: 'bulk-all'}, allMatching, allLabel),
      h('span', {class: 'spacer'}),
      bulkButton('Ack', 'ack'), bulkButton('Suppress…', 'suppress'),
      bulkButton('Attach…', 'attach'), bulkButton('New incident…', 'open_incident')),
    bulkForm, bulkErr);

  function selectionCount() {
    return allMatching.checked ? (matchingTotal || 0) : picked.size;
  }
  function refreshBar() {
    if (!bar) return;
    const n = selectionCount();
    replace(pickedText, n ? n.toLocaleString() + ' selected' : 'none selected');
    replace(allLabel, ' all ' + (matchingTotal === null ? '' : matchingTotal.toLocaleString() + ' ') +
      'matching the filters');
    for (const b of bar.querySelectorAll('button[data-bulk]')) b.disabled = n === 0;
    for (const c of body.querySelectorAll('input[data-testid="select-alert"]')) {
      c.checked = allMatching.checked || picked.has(Number(c.value));
      c.disabled = allMatching.checked;
    }
    selectPage.disabled = allMatching.checked;
  }
  function clearSelection() {
    picked.clear();
    allMatching.checked = false;
    selectPage.checked = false;
    replace(bulkForm);
    refreshBar();
  }
  allMatching.addEventListener('change', refreshBar);
  selectPage.addEventListener('change', () => {
    for (const c of body.querySelectorAll('input[data-testid="select-alert"]')) {
      if (selectPage.checked) picked.add(Number(c.value));
      else picked.delete(Number(c.value));
    }
    refreshBar();
  });

  function bulkButton(label, action) {
    const b = h('button', {type: 'button', class: 'small', 'data-bulk': action,
                           'data-testid': 'bulk-' + action, 'data-write': true, disabled: true},
                label);
    b.addEventListener('click', () => {
      bulkErr.clear();
      if (action === 'ack') {
        b.disabled = true;
        runBulk({action: 'ack'}).catch((e) => bulkErr.show(e)).finally(refreshBar);
        return;
      }
      replace(bulkForm, bulkFormFor(action));
      const first = bulkForm.querySelector('input, select');
      if (first) first.focus();
    });
    return b;
  }

  function bulkFormFor(action) {
    const n = selectionCount().toLocaleString();
    if (action === 'suppress') {
      return writeForm({'data-testid': 'bulk-suppress-form', class: 'form inline-form'}, [
        h('div', {class: 'form-row'},
          field('Reason', h('input', {name: 'reason', type: 'text', required: true, maxlength: 512,
                                      placeholder: 'why these alerts are noise'})),
          field('Expires', h('input', {name: 'expires', type: 'text', required: true,
                                       value: isoDate(7), 'aria-label': 'expires'}),
                'UTC when no zone'),
          field('Scope', select({name: 'scope'}, [
            ['entity', 'each rule on its entities'],
            ['rule', 'every alert of each rule'],
          ], 'entity'))),
      ], (v) => runBulk({action: 'suppress', reason: v.reason, expires: v.expires,
                         scope: v.scope}), 'Suppress ' + n);
    }
    if (action === 'attach') {
      const list = h('datalist', {id: 'bulk-attach-incidents'});
      incidentsForAttach().then((incs) => {
        replace(list, incs.map((i) => h('option', {value: String(i.id)},
          '#' + i.id + ' ' + i.level + ' · ' + i.title)));
      }).catch(() => {});
      return writeForm({'data-testid': 'bulk-attach-form', class: 'form inline-form'}, [
        h('div', {class: 'form-row'}, field('Incident', h('input', {
          name: 'incident', type: 'number', min: 1, required: true,
          list: 'bulk-attach-incidents', 'aria-label': 'incident id'})), list),
      ], (v) => {
        const id = Number(v.incident);
        if (!Number.isInteger(id) || id < 1) throw new Error('Give the id of an incident.');
        return runBulk({action: 'attach', incident: id});
      }, 'Attach ' + n);
    }
    return writeForm({'data-testid': 'bulk-open-form', class: 'form inline-form'}, [
      h('div', {class: 'form-row'},
        field('Title', h('input', {name: 'title', type: 'text', required: true, maxlength: 256})),
        field('Type', select({name: 'type'}, INCIDENT_TYPES, 'none')),
        field('Level', select({name: 'level'}, LEVELS, 'Yellow'))),
    ], async (v) => {
      if (!v.title.trim()) throw new Error('Give the incident a title.');
      const r = await runBulk({action: 'open_incident', title: v.title, type: v.type,
                               level: v.level});
      if (r && r.incident) ctx.navigate('#/incidents/' + r.incident);
      return false;
    }, 'Open incident with ' + n);
  }

  // One request for the whole selection; the server caps it and says so.
  async function runBulk(body) {
    let path = '/alerts/bulk';
    if (allMatching.checked) {
      path += qs(filterParams());
      body.matching = true;
    } else {
      body.ids = [...picked];
    }
    const r = await api.post(path, body);
    const what = {ack: 'acknowledged', suppress: 'suppressed', attach: 'attached',
                  open_incident: 'put in a new incident'}[body.action];
    toast(r.count.toLocaleString() + ' alert' + (r.count === 1 ? '' : 's') + ' ' + what +
          (r.incident ? ' (incident #' + r.incident + ')' : '') +
          (body.action === 'suppress' ? ': ' + r.suppressions + ' suppression' +
            (r.suppressions === 1 ? '' : 's') : '') + '.');
    openIncidents = null;
    clearSelection();
    await load(true);
    return r;
  }

  replace(root,
    h('div', {class: 'page-head'}, h('h1', {}, 'Triage queue'), h('span', {class: 'spacer'}),
      updated),
    filters, err, bar,
    h('div', {class: 'panel table-panel'}, table, note, pg));

  getOptional('/rules').then((r) => {
    if (!r || !r.rules) return;
    replace(ruleList, r.rules.map((x) => h('option', {value: x.name || x.id}, x.title || '')));
  }).catch(() => {});

  // Open incidents for the attach form's list, fetched when first needed.
  let openIncidents = null;
  async function incidentsForAttach() {
    if (!openIncidents) {
      const r = await api.get('/incidents?limit=200');
      openIncidents = (r.incidents || []).filter((i) => i.phase !== 'closed');
    }
    return openIncidents;
  }

  let seq = 0;
  let loadedOnce = false;
  // The filters as the API takes them (the list's and the bulk action's).
  let sinceFixed = '';
  const filterParams = () => ({
    rule: state.rule, level: state.level, entity: state.entity, q: state.q,
    since: sinceFixed, acknowledged: state.ack,
  });
  let lastFilter = '';

  async function load(silent) {
    const my = ++seq;
    ctx.setQuery({rule: state.rule, level: state.level, entity: state.entity, q: state.q,
                  time: state.time, ack: state.ack,
                  limit: state.limit !== 50 ? state.limit : '', offset: state.offset || ''});
    table.classList.add('busy');
    try {
      // "Last hour" is fixed when the filters change, so that "all
      // matching" acts on the alerts counted, not on a window moved since.
      const key = JSON.stringify([state.rule, state.level, state.entity, state.q, state.time,
                                  state.ack]);
      if (key !== lastFilter) {
        sinceFixed = sinceFor(state.time);
        if (lastFilter) clearSelection();
        lastFilter = key;
      }
      const params = Object.assign(filterParams(), {limit: state.limit, offset: state.offset});
      const r = await api.get('/alerts' + qs(params));
      if (my !== seq || !ctx.alive()) return;
      const alerts = r.alerts || [];
      if (alerts.length === 0 && state.offset > 0 && !silent) {
        // A filter or an ack emptied this page: back to the first.
        state.offset = 0;
        return load();
      }
      err.clear();
      replace(body, alerts.map((a) => alertRow(a)));
      matchingTotal = typeof r.total === 'number' ? r.total : null;
      selectPage.checked = alerts.length > 0 && alerts.every((a) => picked.has(a.id));
      refreshBar();
      replace(note, alerts.length ? null : empty('No aggregated alert matches these filters.'));
      pg.update({offset: state.offset, limit: state.limit, shown: alerts.length,
                 total: typeof r.total === 'number' ? r.total : null,
                 more: alerts.length === state.limit});
      replace(updated, 'updated ', new Date().toLocaleTimeString());
    } catch (e) {
      if (my !== seq) return;
      err.show(e);
      if (!loadedOnce) replace(note, empty('The queue could not be loaded.'));
    } finally {
      if (my === seq) table.classList.remove('busy');
    }
    loadedOnce = true;
  }

  // ---- one alert row --------------------------------------------------------

  function alertRow(a) {
    const detail = h('td', {class: 'detail', hidden: true});
    const tr = h('tr', {class: ['alert-row', a.acknowledged ? 'acked' : null],
                        'data-alert-id': String(a.id)});
    let openKind = null;

    const toggle = (kind, build) => {
      if (openKind === kind) {
        openKind = null;
        detail.hidden = true;
        replace(detail);
        tr.classList.remove('open');
        return;
      }
      openKind = kind;
      replace(detail, build());
      detail.hidden = false;
      tr.classList.add('open');
      const first = detail.querySelector('input, textarea, select');
      if (first) first.focus();
    };
    const close = () => {
      openKind = null;
      detail.hidden = true;
      replace(detail);
      tr.classList.remove('open');
    };

    const incidentCell = h('td', {class: 'c-incident'}, a.incident
      ? h('a', {href: '#/incidents/' + a.incident}, '#' + a.incident) : h('span', {class: 'muted'}, '—'));
    const stateCell = h('td', {class: 'c-state'}, ackText(a));

    const actions = h('td', {class: 'c-actions'});
    const eventsBtn = h('button', {type: 'button', class: 'small', 'data-action': 'events',
                                   'aria-label': 'raw records of alert ' + a.id}, 'Records');
    eventsBtn.addEventListener('click', () => toggle('events', () => eventsView(a.id)));
    actions.appendChild(eventsBtn);

    if (writer) {
      const ack = writeButton(a.acknowledged ? 'Acked' : 'Ack', {class: 'small', 'data-action': 'ack',
        disabled: !!a.acknowledged, title: 'acknowledge: seen and taken care of'}, async () => {
        await api.post('/alerts/' + a.id + '/ack');
        a.acknowledged = true;
        a.acknowledged_by = getSession() ? getSession().user : '';
        a.acknowledged_at = new Date().toISOString();
        tr.classList.add('acked');
        replace(stateCell, ackText(a));
        ack.textContent = 'Acked';
        toast('Alert #' + a.id + ' acknowledged.');
        return false;
      });
      const sup = h('button', {type: 'button', class: 'small', 'data-action': 'suppress',
                               'data-write': true}, 'Suppress');
      sup.addEventListener('click', () => toggle('suppress', () => suppressForm(a, close)));
      const att = h('button', {type: 'button', class: 'small', 'data-action': 'attach',
                               'data-write': true}, 'Attach');
      att.addEventListener('click', () => toggle('attach', () => attachForm(a, close, (id) => {
        a.incident = id;
        replace(incidentCell, h('a', {href: '#/incidents/' + id}, '#' + id));
      })));
      const open = h('button', {type: 'button', class: 'small', 'data-action': 'open-incident',
                                'data-write': true}, 'New incident');
      open.addEventListener('click', () => toggle('open', () => openIncidentForm(a)));
      actions.append(ack, sup, att, open);
    }

    if (writer) {
      const pick = h('input', {type: 'checkbox', 'data-testid': 'select-alert', value: String(a.id),
                               'aria-label': 'select alert ' + a.id});
      pick.addEventListener('change', () => {
        if (pick.checked) picked.add(a.id);
        else picked.delete(a.id);
        refreshBar();
      });
      tr.append(h('td', {class: 'c-select'}, pick));
    }
    tr.append(...alertCells(a), incidentCell, stateCell, actions, detail);
    tr.isBusy = () => openKind !== null;
    return tr;
  }

  function ackText(a) {
    return a.acknowledged
      ? h('span', {class: 'ack'}, '✓ ', a.acknowledged_by || 'acknowledged')
      : h('span', {class: 'muted'}, 'new');
  }

  function suppressForm(a, close) {
    const expires = h('input', {name: 'expires', type: 'text', required: true,
                                value: isoDate(7), placeholder: 'YYYY-MM-DD or ISO 8601 time',
                                'aria-label': 'expires'});
    const quick = [1, 7, 30, 90].map((d) => {
      const b = h('button', {type: 'button', class: 'ghost small'}, d + ' d');
      b.addEventListener('click', () => {
        expires.value = isoDate(d);
      });
      return b;
    });
    const form = writeForm({'data-testid': 'suppress-form', class: 'form inline-form'}, [
      h('h3', {class: 'sub'}, 'Suppress alerts like #' + a.id),
      h('div', {class: 'form-row'},
        field('Reason', h('input', {name: 'reason', type: 'text', required: true, maxlength: 512,
                                    placeholder: 'why these alerts are noise'})),
        field('Expires', h('span', {class: 'with-quick'}, expires, quick), 'UTC when no zone'),
        field('Scope', select({name: 'scope'}, [
          ['entity', 'this rule on these entities'],
          ['rule', 'every alert of this rule'],
        ], 'entity'))),
    ], async (v) => {
      const s = await api.post('/alerts/' + a.id + '/suppress',
                               {reason: v.reason, expires: v.expires, scope: v.scope});
      toast('Suppression #' + (s && s.id) + ' made: ' + ruleTitle(a) + ' until ' + v.expires + '.');
      close();
    }, 'Suppress');
    return form;
  }

  function attachForm(a, close, attached) {
    const list = h('datalist', {id: 'attach-incidents-' + a.id});
    const input = h('input', {name: 'incident', type: 'number', min: 1, required: true,
                              list: 'attach-incidents-' + a.id, placeholder: 'incident id',
                              'aria-label': 'incident id'});
    incidentsForAttach().then((incs) => {
      replace(list, incs.map((i) => h('option', {value: String(i.id)},
        '#' + i.id + ' ' + i.level + ' · ' + (PHASE_NAME[i.phase] || i.phase) + ' · ' + i.title)));
    }).catch(() => {});
    return writeForm({'data-testid': 'attach-form', class: 'form inline-form'}, [
      h('h3', {class: 'sub'}, 'Attach alert #' + a.id + ' to an incident'),
      h('div', {class: 'form-row'}, field('Incident', input), list),
    ], async (v) => {
      const id = Number(v.incident);
      if (!Number.isInteger(id) || id < 1) throw new Error('Give the id of an incident.');
      await api.post('/alerts/' + a.id + '/attach', {incident: id});
      toast('Alert #' + a.id + ' attached to incident #' + id + '.');
      attached(id);
      close();
    }, 'Attach');
  }

  function openIncidentForm(a) {
    const title = (ruleTitle(a) + ': ' + (a.entity || '')).slice(0, 256);
    const sevLevel = a.level >= 5 ? 'Red' : a.level >= 4 ? 'Orange' : a.level >= 3 ? 'Yellow' : 'Green';
    return writeForm({'data-testid': 'open-incident-form', class: 'form inline-form'}, [
      h('h3', {class: 'sub'}, 'Open a new incident from alert #' + a.id),
      field('Title', h('input', {name: 'title', type: 'text', required: true, maxlength: 256,
                                 value: title})),
      h('div', {class: 'form-row'},
        field('Type', select({name: 'type'}, INCIDENT_TYPES, a.type || 'none')),
        field('Category', select({name: 'category'},
          [['', 'unknown']].concat(CATEGORIES.map((c) => [c, c + ' · ' + CATEGORY_NAME[c]])), '')),
        field('Level', select({name: 'level'}, LEVELS, sevLevel)),
        field('Detected by', select({name: 'detection_method'}, DETECTION_METHODS,
                                    'own monitoring'))),
    ], async (v) => {
      const body = {title: v.title, type: v.type, level: v.level,
                    detection_method: v.detection_method};
      if (v.category) body.category = v.category;
      const inc = await api.post('/incidents', body);
      try {
        await api.post('/alerts/' + a.id + '/attach', {incident: inc.id});
      } catch (e) {
        toast('Incident #' + inc.id + ' opened, but the alert was not attached: ' + e.message,
              'error');
      }
      toast('Incident #' + inc.id + ' opened.');
      ctx.navigate('#/incidents/' + inc.id);
      return false;
    }, 'Open incident');
  }

  await load();
  ctx.ready();
  // A silent refresh, unless the analyst is working in the table.
  ctx.every(REFRESH_MS, async () => {
    const busy = [...body.children].some((tr) => tr.isBusy && tr.isBusy()) ||
                 (document.activeElement && table.contains(document.activeElement));
    if (!busy) await load(true);
  });
}

function isoDate(days) {
  const d = new Date(Date.now() + days * 86400e3);
  return d.toISOString().slice(0, 10);
}
