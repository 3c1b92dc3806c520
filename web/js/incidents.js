// incidents.js - #/incidents: the incidents, most urgent first (level, Red
// first, then the nearest deadline; or newest first), and opening one by
// hand or from an outside report.
//
//   GET  /api/v1/incidents?type&phase&level&overdue&sort&limit&offset
//   POST /api/v1/incidents   (analyst) open one by hand
//   POST /api/v1/intake      (analyst) a report from outside monitoring

import {
  h, replace, field, select, qs, levelBadge, countdown, timeEl, INCIDENT_TYPES, LEVELS, PHASES,
  PHASE_NAME, CATEGORIES, CATEGORY_NAME, DETECTION_METHODS,
} from './dom.js';
import {api, canWrite} from './api.js';
import {writeForm, pager, errorLine, empty, toast, dropEmpty} from './ui.js';

const REFRESH_MS = 30000;
const LIMIT = 50;

export async function mount(root, ctx) {
  const q = ctx.query;
  const state = {
    phase: q.get('phase') || '',
    level: LEVELS.includes(q.get('level')) ? q.get('level') : '',
    type: q.get('type') || '',
    overdue: q.get('overdue') === '1',
    sort: q.get('sort') === 'newest' ? 'newest' : '',
    offset: Number(q.get('offset')) || 0,
  };

  const fPhase = select({name: 'phase', 'data-testid': 'filter-phase'},
                        [['', 'any phase']].concat(PHASES), state.phase);
  const fLevel = select({name: 'level', 'data-testid': 'filter-level'},
                        [['', 'any level']].concat(LEVELS.map((l) => [l, l])), state.level);
  const fType = select({name: 'type', 'data-testid': 'filter-type'},
                       [['', 'any type']].concat(INCIDENT_TYPES.map((t) => [t, t])), state.type);
  const fSort = select({name: 'sort', 'data-testid': 'filter-sort'},
                      [['', 'most urgent first'], ['newest', 'newest first']], state.sort);
  const fOverdue = h('input', {type: 'checkbox', name: 'overdue', 'data-testid': 'filter-overdue',
                               checked: state.overdue});
  const filters = h('form', {class: 'filters', role: 'search'},
    field('Phase', fPhase), field('Level', fLevel), field('Type', fType), field('Order', fSort),
    h('label', {class: 'field check'}, fOverdue, h('span', {}, 'only past their time target')));
  filters.addEventListener('submit', (ev) => ev.preventDefault());
  for (const el of [fPhase, fLevel, fType, fSort, fOverdue]) {
    el.addEventListener('change', () => {
      state.sort = fSort.value;
      state.phase = fPhase.value;
      state.level = fLevel.value;
      state.type = fType.value;
      state.overdue = fOverdue.checked;
      state.offset = 0;
      load();
    });
  }

  const body = h('tbody');
  const table = h('table', {class: 'table incidents-table', 'data-testid': 'incidents'},
    h('thead', {}, h('tr', {},
      h('th', {}, 'Id'), h('th', {}, 'Level'), h('th', {}, 'Cat.'), h('th', {}, 'Title'),
      h('th', {}, 'Type'), h('th', {}, 'Phase'), h('th', {}, 'Assignee'),
      h('th', {}, 'Phase target'), h('th', {}, 'Updated'))),
    body);
  const note = h('div');
  const err = errorLine();
  const pg = pager((offset) => {
    state.offset = offset;
    load();
  });

  const tools = [];
  if (canWrite()) {
    tools.push(h('details', {class: 'panel form-panel'},
      h('summary', {}, 'Open an incident by hand'), newIncidentForm(ctx)));
    tools.push(h('details', {class: 'panel form-panel'},
      h('summary', {}, 'File a report from outside (intake)'), intakeForm(ctx)));
  }

  replace(root,
    h('div', {class: 'page-head'}, h('h1', {}, 'Incidents')),
    tools.length ? h('div', {class: 'dash-row'}, tools) : null,
    filters, err,
    h('div', {class: 'panel table-panel'}, table, note, pg));

  let seq = 0;
  async function load() {
    const my = ++seq;
    ctx.setQuery({phase: state.phase, level: state.level, type: state.type,
                  overdue: state.overdue ? '1' : '', sort: state.sort,
                  offset: state.offset || ''});
    table.classList.add('busy');
    try {
      const r = await api.get('/incidents' + qs({
        phase: state.phase, level: state.level, type: state.type,
        overdue: state.overdue ? 1 : '', sort: state.sort, limit: LIMIT, offset: state.offset,
      }));
      if (my !== seq || !ctx.alive()) return;
      const list = r.incidents || [];
      err.clear();
      replace(body, list.map(incidentRow));
      replace(note, list.length ? null : empty('No incident matches these filters.'));
      pg.update({offset: state.offset, limit: LIMIT, shown: list.length,
                 total: typeof r.total === 'number' ? r.total : null, more: list.length === LIMIT});
    } catch (e) {
      if (my === seq) err.show(e);
    } finally {
      if (my === seq) table.classList.remove('busy');
    }
  }

  await load();
  ctx.ready();
  ctx.every(REFRESH_MS, load);
}

function incidentRow(i) {
  const href = '#/incidents/' + i.id;
  return h('tr', {'data-incident-id': String(i.id), class: 'phase-' + i.phase},
    h('td', {class: 'mono'}, '#' + i.id),
    h('td', {}, levelBadge(i.level)),
    h('td', {title: i.category ? CATEGORY_NAME[i.category] : 'not known'}, i.category || '—'),
    h('td', {class: 'wrap'}, h('a', {href, class: 'incident-link'}, i.title)),
    h('td', {class: 'small'}, i.type),
    h('td', {}, h('span', {class: ['phase', 'phase-' + i.phase]}, PHASE_NAME[i.phase] || i.phase)),
    h('td', {}, i.assignee || h('span', {class: 'muted'}, '—')),
    h('td', {}, countdown(i.deadline)),
    h('td', {class: 'small'}, timeEl(i.updated_us ? i.updated_us / 1000 : null)));
}

function newIncidentForm(ctx) {
  return writeForm({'data-testid': 'incident-form'}, [
    field('Title', h('input', {name: 'title', type: 'text', required: true, maxlength: 256})),
    field('Summary', h('textarea', {name: 'summary', rows: 3, maxlength: 8192})),
    h('div', {class: 'form-row'},
      field('Type', select({name: 'type'}, INCIDENT_TYPES, 'none')),
      field('Detected by', select({name: 'detection_method'}, DETECTION_METHODS, 'own monitoring')),
      field('Category', select({name: 'category'},
        [['', 'unknown']].concat(CATEGORIES.map((c) => [c, c + ' · ' + CATEGORY_NAME[c]])), '')),
      field('Level', select({name: 'level'}, LEVELS, 'Green'))),
  ], async (v) => {
    const inc = await api.post('/incidents', dropEmpty(v));
    toast('Incident #' + inc.id + ' opened.');
    ctx.navigate('#/incidents/' + inc.id);
    return false;
  }, 'Open incident');
}

function intakeForm(ctx) {
  return writeForm({'data-testid': 'intake-form'}, [
    h('div', {class: 'form-row'},
      field('Reporter', h('input', {name: 'reporter', type: 'text', required: true})),
      field('How to reach them', h('input', {name: 'contact', type: 'text'})),
      field('Source', select({name: 'source'}, [
        ['internal', 'internal report'],
        ['external_private', 'external report (private)'],
        ['external_public', 'external report (public)'],
        ['press', 'press'],
      ], 'internal')),
      field('Type', select({name: 'type'}, [['', 'let hikeshi decide']].concat(
        INCIDENT_TYPES.map((t) => [t, t])), ''))),
    field('Description', h('textarea', {name: 'description', rows: 3, required: true})),
    field('Evidence', h('textarea', {name: 'evidence', rows: 2,
                                     placeholder: 'one reference a line (URL, ticket, file)'})),
  ], async (v) => {
    const body = dropEmpty({reporter: v.reporter, contact: v.contact, description: v.description,
                            source: v.source, type: v.type});
    const ev = v.evidence.split('\n').map((s) => s.trim()).filter(Boolean);
    if (ev.length) body.evidence = ev;
    const inc = await api.post('/intake', body);
    toast('Report filed as incident #' + inc.id + '.');
    ctx.navigate('#/incidents/' + inc.id);
    return false;
  }, 'File report');
}
