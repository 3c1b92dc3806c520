// dashboard.js - #/dashboard: the organisation's state at a glance, for a
// laptop and for the SOC's wall screen.
//
//   GET /api/v1/declared-level   the level per category A-D (tiles)
//   GET /api/v1/risk-meter       the real risk meter, current and history
//   GET /api/v1/stats?hours=24   funnel, alert rate, open incidents,
//                                phase targets, top entities
//   POST /api/v1/declared-level  (lead) declare a level
//   POST /api/v1/risk-meter      (analyst) record a sample
//   GET /api/v1/health           the inputs and their senders, silent ones
//                                marked (docs/silence.md)
//   GET /api/v1/approvals?state=pending   decisions waiting for the
//                                responsible person (issue 25)
//   POST /api/v1/approvals/{id}/approve|reject  (lead) answer one
//   GET /api/v1/incidents?overdue=1  the overdue banner (ui.js, issue 25)
//
// Refreshed every 20 s while the tab is visible, the sources every 5 s (a
// silent source is news).

import {
  h, replace, panel, field, select, LEVELS, LEVEL_MEANING, CATEGORIES, CATEGORY_NAME, PHASE_NAME,
  levelBadge, fmtInt, fmtNum, fmtAgo, fmtDuration, timeEl, countdown,
} from './dom.js';
import {api, getOptional, canWrite, isLead} from './api.js';
import {
  writeForm, writeButton, errorLine, toast, empty, unavailable, dropEmpty, overdueBanner,
} from './ui.js';
import {riskChart, alertRateChart, chartBox, chartsAvailable} from './charts.js';

const REFRESH_MS = 20000;
const SOURCES_MS = 5000;
const HOURS = 24;

export async function mount(root, ctx) {
  const wallOn = ctx.query.get('wall') === '1' || localStorage.getItem('hikeshi.wall') === '1';
  setWall(wallOn);
  ctx.onCleanup(() => setWall(false, true));

  // ---- the skeleton (filled by refresh) ----
  const tiles = h('div', {class: 'level-tiles'});
  const riskTile = h('div', {class: 'tile risk-tile'});
  const funnel = h('div', {class: 'funnel'});
  const openLevel = h('div', {class: 'open-grid', 'data-testid': 'open-by-level'});
  const openCat = h('div', {class: 'open-grid', 'data-testid': 'open-by-category'});
  const openTotal = h('p', {class: 'muted'});
  const nearList = h('ul', {class: 'near-list', 'data-testid': 'near-target'});
  const nearNote = h('div');
  const topBody = h('tbody');
  const topTable = h('table', {class: 'table', 'data-testid': 'top-entities'},
    h('thead', {}, h('tr', {}, h('th', {}, 'Entity'), h('th', {}, 'Kind'), h('th', {}, 'Role'),
                        h('th', {class: 'num'}, 'Risk'), h('th', {class: 'num'}, 'Incidents'))),
    topBody);
  const topNote = h('div');
  const riskCanvas = h('canvas', {'data-testid': 'chart-risk', role: 'img',
                                  'aria-label': 'risk meter history'});
  const rateCanvas = h('canvas', {'data-testid': 'chart-alert-rate', role: 'img',
                                  'aria-label': 'alerts per hour, last 24 hours'});
  const riskNote = h('p', {class: 'muted chart-note'});
  const rateNote = h('p', {class: 'muted chart-note'});
  const updated = h('span', {class: 'muted updated'});
  const sourcesHead = h('div', {class: 'sources-head', 'data-testid': 'sources-summary'});
  const sourcesList = h('ul', {class: 'source-list', 'data-testid': 'sources'});
  const approvalList = h('ul', {class: 'approval-list', 'data-testid': 'approvals'});
  const approvalErr = errorLine({'data-testid': 'approvals-error'});
  const overdue = overdueBanner();

  const wallBtn = h('button', {type: 'button', class: 'ghost', 'aria-pressed': String(wallOn)},
                    'Wall view');
  wallBtn.addEventListener('click', () => {
    const on = !document.documentElement.classList.contains('wall');
    setWall(on);
    wallBtn.setAttribute('aria-pressed', String(on));
  });

  const forms = [];
  if (isLead()) forms.push(declareForm(() => refresh()));
  if (canWrite()) forms.push(riskForm(() => refresh()));

  replace(root,
    overdue.node,
    h('div', {class: 'page-head'}, h('h1', {}, 'Dashboard'), h('span', {class: 'spacer'}), updated,
      wallBtn),
    h('div', {class: 'dash-top'}, tiles, riskTile),
    panel('Sources', {class: 'panel sources-panel'}, sourcesHead, sourcesList),
    panel('Decisions waiting for the responsible person', {class: 'panel approvals-panel'},
          approvalList, approvalErr),
    h('div', {class: 'dash-row'},
      panel('Last ' + HOURS + ' hours: records → alerts → incidents', {class: 'panel funnel-panel'},
            funnel),
      panel('Open incidents', {class: 'panel open-panel'}, openTotal,
            h('h3', {class: 'sub'}, 'By level'), openLevel,
            h('h3', {class: 'sub'}, 'By category'), openCat)),
    h('div', {class: 'dash-row'},
      panel('Real risk meter', {class: 'panel chart-panel'}, chartBox(riskCanvas), riskNote),
      panel('Alerts per hour', {class: 'panel chart-panel'}, chartBox(rateCanvas), rateNote)),
    h('div', {class: 'dash-row'},
      panel('Phase targets: due soon or overdue', {class: 'panel near-panel'}, nearList, nearNote),
      panel('Top entities by risk', {class: 'panel'}, topTable, topNote)),
    forms.length ? h('div', {class: 'dash-row dash-forms'}, forms) : null);

  if (!chartsAvailable()) {
    riskNote.textContent = rateNote.textContent =
      'Charts are unavailable: Chart.js (/ui/vendor/chart.umd.js) did not load.';
  }
  const rc = riskChart(riskCanvas);
  const ac = alertRateChart(rateCanvas);
  ctx.onCleanup(() => {
    rc.destroy();
    ac.destroy();
  });

  async function refresh() {
    const [declared, risk, stats, queue] = await Promise.all([
      api.get('/declared-level'),
      api.get('/risk-meter'),
      getOptional('/stats?hours=' + HOURS),
      getOptional('/approvals?state=pending'),
      overdue.load(),
    ]);
    if (!ctx.alive()) return;
    renderApprovals(approvalList, approvalErr, queue, () => refresh());
    renderTiles(tiles, declared);
    renderRisk(riskTile, risk);
    rc.update(risk.history || []);
    if (!chartsAvailable()) {
      // the note says why
    } else if (!risk.history || risk.history.length === 0) {
      riskNote.textContent = 'No sample recorded yet.';
    } else {
      riskNote.textContent = risk.history.length + ' samples';
    }
    if (stats) {
      renderFunnel(funnel, stats.funnel || {});
      renderOpen(openLevel, openCat, openTotal, stats.open_incidents || {});
      renderNear(nearList, nearNote, stats.near_target || []);
      renderTop(topBody, topNote, stats.top_entities || []);
      ac.update(stats.alert_rate || []);
      if (chartsAvailable()) {
        const sum = (stats.alert_rate || []).reduce((n, b) => n + (b.alerts || 0), 0);
        rateNote.textContent = fmtInt(sum) + ' alerts in the last ' + (stats.hours || HOURS) + ' h';
      }
    } else {
      for (const el of [funnel, nearNote, topNote]) replace(el, unavailable('/api/v1/stats'));
      replace(openTotal, unavailable('/api/v1/stats'));
      rateNote.textContent = 'Not available: this daemon does not serve /api/v1/stats yet.';
    }
    replace(updated, 'updated ', timeEl(Date.now(), true));
  }

  async function refreshSources() {
    let health = null;
    try {
      health = await api.get('/health');
    } catch (e) {
      health = null;
    }
    if (!ctx.alive()) return;
    renderSources(sourcesHead, sourcesList, health);
  }

  await Promise.all([refresh(), refreshSources()]);
  ctx.ready();
  ctx.every(REFRESH_MS, refresh);
  ctx.every(SOURCES_MS, refreshSources);
}

function setWall(on, keepStored) {
  document.documentElement.classList.toggle('wall', on);
  if (!keepStored) localStorage.setItem('hikeshi.wall', on ? '1' : '0');
}

// ---- the level tiles --------------------------------------------------------

function renderTiles(el, declared) {
  const cur = (declared && declared.current) || {};
  replace(el, CATEGORIES.map((cat) => {
    const d = cur[cat];
    const level = d && LEVELS.includes(d.level) ? d.level : 'Green';
    return h('div', {class: ['tile', 'level-tile', 'lvl-' + level], 'data-testid': 'level-' + cat,
                     'data-level': level},
      h('div', {class: 'tile-head'},
        h('span', {class: 'tile-cat'}, cat),
        h('span', {class: 'tile-catname'}, CATEGORY_NAME[cat])),
      h('div', {class: 'tile-word'}, level),
      h('div', {class: 'tile-meaning'}, LEVEL_MEANING[level]),
      h('div', {class: 'tile-foot'}, d
        ? ['declared ', fmtAgo(d.time), ' by ', d.who, d.why ? ': ' + d.why : '']
        : 'not declared: normal operation'));
  }));
}

// ---- the risk meter ---------------------------------------------------------

function renderRisk(el, risk) {
  const s = risk && risk.current;
  const live = new Set((s && s.live) || []);
  const input = (k, label, pct) => h('span', {class: 'risk-input'},
    h('b', {}, label), ' ', fmtNum(s[k]), pct ? '%' : '', live.has(k) ? h('em', {}, ' live') : null);
  replace(el,
    h('div', {class: 'tile-head'}, h('span', {class: 'tile-catname'}, 'Real risk meter')),
    h('div', {class: 'risk-value', 'data-testid': 'risk-current',
              'data-value': s ? String(s.value) : ''}, s ? fmtNum(s.value) : '—'),
    s ? h('div', {class: 'risk-inputs'}, input('a', 'A', false), input('b', 'B', true),
          input('c', 'C', true), input('d', 'D', false))
      : h('div', {class: 'tile-meaning'}, 'no sample yet'),
    h('div', {class: 'tile-foot'}, 'A + A × (100 − B) × (100 − C) × D',
      s ? h('br') : null, s ? [fmtAgo(s.time), ' by ', s.who, s.note ? ': ' + s.note : ''] : null));
}

// ---- sources and their silence ---------------------------------------------

// How a sender or an input is watched, in words.
function watchText(watch, every, learned) {
  if (watch === 'off') return 'not watched';
  if (!every) return learned ? 'learning its interval' : 'watched';
  return 'expected every ' + fmtDuration(every) + (learned ? ' (learned)' : '');
}

function heard(t) {
  return t ? ['last record ', h('span', {title: t}, fmtAgo(t))] : 'nothing received yet';
}

function renderSender(input, s) {
  const name = s.address || input.name;
  return h('li', {class: ['sender', s.silent ? 'silent' : 'ok'], 'data-sender': name,
                  'data-silent': s.silent ? '1' : '0'},
    s.silent ? h('span', {class: 'badge silent-badge'}, 'SILENT') : null,
    h('span', {class: 'mono sender-name'}, name),
    h('span', {class: 'sender-meta'}, heard(s.last_record), ' · ',
      watchText(input.watch, s.expect_every_s, s.learned)));
}

function renderSources(head, list, health) {
  if (!health || !Array.isArray(health.inputs)) {
    replace(head, unavailable('/api/v1/health'));
    replace(list);
    return;
  }
  const inputs = health.inputs.slice().sort((a, b) => Number(!!b.silent) - Number(!!a.silent));
  const silent = inputs.filter((i) => i.silent);
  replace(head, silent.length
    ? h('div', {class: 'sources-alarm', role: 'alert'},
      silent.length === 1 ? '1 source is silent: ' : silent.length + ' sources are silent: ',
      silent.map((i) => i.name).join(', '))
    : h('p', {class: 'muted'}, inputs.length
      ? 'Every watched source is sending (' + inputs.length + ' inputs).'
      : 'No inputs configured.'));
  replace(list, inputs.map((i) => {
    const senders = Array.isArray(i.senders) ? i.senders : [];
    const more = (i.senders_total || 0) - senders.length;
    return h('li', {class: ['source', i.silent ? 'silent' : 'ok'], 'data-input': i.name,
                    'data-silent': i.silent ? '1' : '0'},
      h('div', {class: 'source-line'},
        i.silent ? h('span', {class: 'badge silent-badge'}, 'SILENT') : null,
        h('span', {class: 'source-name'}, i.name),
        h('span', {class: 'source-meta'}, heard(i.last_record), ' · ',
          i.watch === 'configured' ? watchText(i.watch, i.expect_every_s, false)
            : i.watch === 'learned' ? 'interval learned per sender' : 'not watched',
          ' · ', fmtInt(i.processed || 0), i.processed === 1 ? ' record' : ' records')),
      senders.length ? h('ul', {class: 'sender-list'}, senders.map((s) => renderSender(i, s)),
        more > 0 ? h('li', {class: 'muted'}, '… and ' + fmtInt(more) + ' more senders') : null)
        : null);
  }));
}

// ---- the funnel -------------------------------------------------------------

function renderFunnel(el, f) {
  const steps = [
    ['records', 'Records', 'received'],
    ['alerts', 'Alerts', 'raised by rules'],
    ['aggregated', 'Aggregated', 'deduplicated alerts'],
    ['incidents', 'Incidents', 'opened'],
  ];
  const parts = [];
  steps.forEach(([key, label, what], i) => {
    const n = Number(f[key] || 0);
    if (i > 0) {
      const prev = Number(f[steps[i - 1][0]] || 0);
      parts.push(h('div', {class: 'funnel-arrow', 'aria-hidden': 'true'}, '→',
        h('span', {class: 'funnel-ratio'}, prev > 0 ? ratio(n, prev) : '')));
    }
    parts.push(h('div', {class: ['funnel-step', 'funnel-' + key], 'data-testid': 'funnel-' + key,
                         'data-value': String(f[key] ?? 0)},
      h('div', {class: 'funnel-num'}, fmtInt(n)),
      h('div', {class: 'funnel-label'}, label),
      h('div', {class: 'funnel-what'}, what)));
  });
  replace(el, parts);
}

function ratio(n, of) {
  const r = (n / of) * 100;
  return r >= 10 ? Math.round(r) + '%' : r >= 0.1 ? r.toFixed(1) + '%' : r > 0 ? '<0.1%' : '0%';
}

// ---- open incidents ---------------------------------------------------------

function renderOpen(levelEl, catEl, totalEl, o) {
  const byLevel = o.by_level || {};
  const byCat = o.by_category || {};
  replace(totalEl, fmtInt(o.total || 0), ' open incidents · ',
          h('a', {href: '#/incidents'}, 'all incidents'));
  replace(levelEl, LEVELS.slice().reverse().map((lv) =>
    h('a', {class: ['open-cell', 'lvl-' + lv], 'data-level': lv,
            'data-value': String(byLevel[lv] ?? 0), href: '#/incidents?level=' + lv},
      h('span', {class: 'open-num'}, fmtInt(byLevel[lv] || 0)),
      h('span', {class: 'open-label'}, lv))));
  replace(catEl, CATEGORIES.map((c) =>
    h('div', {class: 'open-cell cat-cell', 'data-category': c, 'data-value': String(byCat[c] ?? 0),
              title: CATEGORY_NAME[c]},
      h('span', {class: 'open-num'}, fmtInt(byCat[c] || 0)),
      h('span', {class: 'open-label'}, c + ' · ' + CATEGORY_NAME[c]))));
}

// ---- the responsible person's approval queue (issue 25) ---------------------

function renderApprovals(list, err, queue, reload) {
  if (!queue) {
    replace(list, unavailable('/api/v1/approvals'));
    return;
  }
  const items = queue.approvals || [];
  if (items.length === 0) {
    replace(list, empty('No request waits for a decision.'));
    return;
  }
  replace(list, items.map((a) => {
    const note = h('input', {type: 'text', name: 'note', maxlength: 512, 'data-write': true,
                             placeholder: 'note (required to reject)',
                             'data-testid': 'approval-note'});
    const answer = (verb) => async () => {
      await api.post('/approvals/' + a.id + '/' + verb, note.value ? {note: note.value} : {});
      toast('Request ' + a.id + (verb === 'approve' ? ' approved.' : ' rejected.'));
      await reload();
    };
    return h('li', {'data-approval-id': String(a.id)},
      h('a', {href: '#/incidents/' + a.incident, class: 'approval-incident'}, '#' + a.incident),
      h('span', {class: 'approval-what'}, ' ' + a.what),
      h('span', {class: 'muted'}, ' asked by ', a.requested_by, ' ', fmtAgo(a.requested),
        ' · for ', a.decider || 'any lead'),
      isLead() ? h('span', {class: 'approval-answer'}, note,
        writeButton('Approve', {'data-testid': 'approval-approve', class: 'primary'},
                    answer('approve'), err),
        writeButton('Reject', {'data-testid': 'approval-reject'}, answer('reject'), err)) : null);
  }));
}

// ---- near or past their phase target ---------------------------------------

function renderNear(list, note, items) {
  const sorted = items.slice().sort((a, b) => a.left_seconds - b.left_seconds);
  replace(list, sorted.map((i) =>
    h('li', {'data-incident-id': String(i.id), class: i.overdue ? 'overdue' : 'due-soon'},
      levelBadge(i.level),
      h('a', {href: '#/incidents/' + i.id, class: 'near-title'}, '#' + i.id + ' ', i.title),
      h('span', {class: 'near-meta'}, PHASE_NAME[i.phase] || i.phase,
        i.category ? ' · ' + i.category : ''),
      countdown({has_target: true, left_seconds: i.left_seconds, due: i.due,
                 due_soon: !i.overdue}, {class: 'countdown near-count'}))));
  replace(note, sorted.length ? null : empty('Every open incident is within its phase target.'));
}

// ---- top entities -----------------------------------------------------------

function renderTop(body, note, items) {
  replace(body, items.map((e) =>
    h('tr', {},
      h('td', {class: 'mono wrap'}, e.value),
      h('td', {}, e.kind || ''),
      h('td', {}, e.role || ''),
      h('td', {class: 'num'}, fmtNum(e.risk)),
      h('td', {class: 'num'}, fmtInt(Array.isArray(e.incidents) ? e.incidents.length : e.incidents)))));
  replace(note, items.length ? null : empty('No entity carries risk right now.'));
}

// ---- forms ------------------------------------------------------------------

function declareForm(done) {
  return panel('Declare a level (lead)', {class: 'panel form-panel'},
    writeForm({'data-testid': 'declare-form'}, [
      h('div', {class: 'form-row'},
        field('Category', select({name: 'category'},
          CATEGORIES.map((c) => [c, c + ' · ' + CATEGORY_NAME[c]]), 'A')),
        field('Level', select({name: 'level'}, LEVELS.map((l) => [l, l + ' — ' + LEVEL_MEANING[l]]),
                              'Green'))),
      field('Why', h('input', {name: 'why', type: 'text', required: true, maxlength: 512,
                               placeholder: 'what the decision rests on'})),
    ], async (v) => {
      await api.post('/declared-level', v);
      toast('Category ' + v.category + ' declared ' + v.level + '.');
      await done();
    }, 'Declare'));
}

function riskForm(done) {
  const num = (name, ph, req) => h('input', {name, type: 'number', step: 'any', min: 0,
                                             placeholder: ph, required: req || null});
  return panel('Record a risk sample', {class: 'panel form-panel'},
    writeForm({'data-testid': 'risk-form'}, [
      h('div', {class: 'form-row'},
        field('A base risk', num('a', 'live'), 'empty: open incidents by level'),
        field('B % measure 1', num('b', '0–100', true)),
        field('C % measure 2', num('c', '0–100', true)),
        field('D factor', num('d', 'live'), 'empty: alerts per hour')),
      field('Note', h('input', {name: 'note', type: 'text', maxlength: 512,
                                placeholder: 'e.g. firewall rule rolled out to 40% of hosts'})),
    ], async (v) => {
      const body = {};
      for (const k of ['a', 'b', 'c', 'd']) {
        if (v[k] !== '') body[k] = Number(v[k]);
      }
      Object.assign(body, dropEmpty({note: v.note}));
      const s = await api.post('/risk-meter', body);
      toast('Risk sample recorded: ' + fmtNum(s && s.value));
      await done();
    }, 'Record'));
}
