// incident.js - #/incidents/<id>: one incident, the CSIRT's working record.
//
//   GET   /api/v1/incidents/{id}                 header, stages, entities, deadline
//   PATCH /api/v1/incidents/{id}                 phase (with reason and version)
//   GET   /api/v1/incidents/{id}/timeline|tasks|notes|communications|reports|alerts
//   PATCH /api/v1/incidents/{id}/tasks/{task}    tick a task
//   POST  /api/v1/incidents/{id}/notes|communications|reports
//   GET   /api/v1/incidents/{id}/reports/{r}?format=md
//   GET   /api/v1/responses?state=pending        the approval queue (this incident's)
//   POST  /api/v1/responses/{r}/approve|reject
//   GET   /api/v1/evidence?incident={id}, /evidence/{n}/custody, POST verify (evidence.js)
//   GET   /api/v1/incidents/{id}/observables     observables and linked incidents
//   POST  /api/v1/incidents/{id}/observables, DELETE .../{obs}, POST .../{obs}/promote
//   GET   /api/v1/incidents/{id}/messages       messages and their state (issue 25)
//   GET   /api/v1/procedures?level&category     the procedures of the incident's box
//                                               (hidden where the daemon has none)
//   GET   /api/v1/incidents?overdue=1           the overdue banner (ui.js)

import {
  h, replace, field, select, panel, levelBadge, countdown, timeEl, PHASES, PHASE_NAME,
  PHASE_NEXT, KILL_CHAIN, STAGE_ALIAS, CATEGORY_NAME, REPORT_KINDS, REPORT_NAME,
} from './dom.js';
import {api, getOptional, canWrite, ApiError} from './api.js';
import {writeForm, writeButton, errorLine, toast, overdueBanner} from './ui.js';
import {alertCells, eventsView} from './alerts.js';
import {evidencePanel} from './evidence.js';

const REFRESH_MS = 30000;

export async function mount(root, ctx) {
  const id = ctx.params.id;
  const base = '/incidents/' + id;
  const write = canWrite();
  const err = errorLine({'data-testid': 'incident-error'});

  const head = h('div', {class: 'incident-head'});
  const phaseBox = h('div', {class: 'phase-change'});
  const killchain = h('ol', {class: 'killchain', 'data-testid': 'killchain'});
  const entities = h('ul', {class: 'entities', 'data-testid': 'entities'});
  const timeline = h('ol', {class: 'timeline', 'data-testid': 'timeline'});
  const tasks = h('ul', {class: 'tasks', 'data-testid': 'tasks'});
  const notes = h('ul', {class: 'notes', 'data-testid': 'notes'});
  const comms = h('ul', {class: 'comms', 'data-testid': 'communications'});
  const reports = h('ul', {class: 'reports', 'data-testid': 'reports'});
  const previewTitle = h('h3', {class: 'report-preview-title'});
  const preview = h('pre', {class: 'report-md wrap', 'data-testid': 'report-preview', hidden: true});
  const alertsBody = h('tbody');
  const alertsTable = h('table', {class: 'table', 'data-testid': 'incident-alerts'},
    h('thead', {}, h('tr', {}, h('th', {}, 'Id'), h('th', {}, 'Level'), h('th', {}, 'Rule'),
      h('th', {}, 'Entities'), h('th', {}, 'Count'), h('th', {}, 'Seen'), h('th', {}, ''))),
    alertsBody);
  const responses = h('ul', {class: 'responses', 'data-testid': 'incident-responses'});
  const observables = h('ul', {class: 'observables', 'data-testid': 'observables'});
  const linked = h('div', {class: 'linked small', 'data-testid': 'linked-incidents'});
  const evidence = evidencePanel(id, err, () => loadTimeline());
  const overdue = overdueBanner();
  const messages = h('ul', {class: 'messages', 'data-testid': 'messages'});
  const procBody = h('div', {'data-testid': 'procedures'});
  const procPanel = panel('Procedures for this box', {'data-testid': 'procedures-panel'},
                          procBody);
  procPanel.hidden = true;
  let inc = null;

  // ---- loading --------------------------------------------------------

  async function loadHeader() {
    inc = await api.get(base);
    const dl = inc.deadline || {};
    replace(head,
      h('div', {class: 'incident-title-row'},
        h('span', {class: 'mono muted'}, '#' + inc.id),
        h('h1', {'data-testid': 'incident-title'}, inc.title || '(untitled)')),
      h('dl', {class: 'facts'},
        fact('Type', h('span', {'data-testid': 'incident-type'}, inc.type)),
        fact('Category', h('span', {'data-testid': 'incident-category',
                                    title: CATEGORY_NAME[inc.category] || 'not known'},
                           inc.category || '—')),
        fact('Level', levelBadge(inc.level, {'data-testid': 'incident-level',
                                             'data-value': inc.level})),
        fact('Phase', h('span', {class: ['phase', 'phase-' + inc.phase],
                                 'data-testid': 'incident-phase', 'data-value': inc.phase},
                        PHASE_NAME[inc.phase] || inc.phase)),
        fact('Assignee', h('span', {'data-testid': 'incident-assignee'}, inc.assignee || '—')),
        fact('Responsible', h('span', {'data-testid': 'incident-responsible'},
                              inc.responsible || 'none (any lead decides)')),
        fact('Phase target', countdown(dl, {'data-testid': 'incident-deadline'})),
        fact('Detected by', inc.detection_method || '—'),
        fact('Opened', timeEl(inc.created_us ? inc.created_us / 1000 : null))),
      inc.summary ? h('p', {class: 'summary wrap'}, inc.summary) : null);
    renderPhaseChange();
    renderKillChain();
    replace(entities, (inc.entities || []).length
      ? inc.entities.map((e) => h('li', {class: 'entity'},
          h('span', {class: 'chip mono'}, e.value),
          h('span', {class: 'muted small'}, ' ', e.kind || '', e.role ? ' · ' + e.role : '')))
      : h('li', {class: 'empty'}, 'No entity named yet.'));
  }

  function renderPhaseChange() {
    if (!write) {
      replace(phaseBox);
      return;
    }
    const next = PHASE_NEXT[inc.phase] || [];
    const options = PHASES.filter(([p]) => p !== inc.phase)
      .sort((a, b) => (next.includes(b[0]) ? 1 : 0) - (next.includes(a[0]) ? 1 : 0));
    const sel = select({'data-testid': 'phase-select', 'data-write': true, name: 'phase'},
                       options, next[0] || '');
    const reason = h('input', {type: 'text', 'data-testid': 'phase-reason', 'data-write': true,
                               name: 'reason', placeholder: 'why (recorded in the timeline)',
                               maxlength: 1024});
    const apply = writeButton('Change phase', {'data-testid': 'phase-apply', class: 'primary'},
      async () => {
        let res;
        try {
          res = await api.patch(base, {phase: sel.value, reason: reason.value, version: inc.version});
        } catch (e) {
          if (e instanceof ApiError && e.status === 409) {
            err.show(e.message + ' — reloaded; check and try again.');
            await refresh();
            return;
          }
          throw e;
        }
        if (res && res.state === 'pending') {
          /* 202: a decision of the responsible person's, queued (issue 25). */
          toast('Asked: ' + res.what + ' — waits for ' + (res.decider || 'a lead') +
                ' (approval ' + res.id + ').');
        } else {
          toast('Phase: ' + (PHASE_NAME[sel.value] || sel.value) + '.');
        }
        await refresh();
      }, err);
    replace(phaseBox, field('Move to', sel), field('Reason', reason), apply);
  }

  function renderKillChain() {
    const lit = new Set((inc.stages || []).map((s) => STAGE_ALIAS[s] || s));
    replace(killchain, KILL_CHAIN.map((s, i) =>
      h('li', {class: ['stage', lit.has(s) ? 'lit' : null], 'data-stage': s,
               title: lit.has(s) ? 'alerts fall in this stage' : 'nothing seen'},
        h('span', {class: 'stage-n'}, String(i + 1)), h('span', {class: 'stage-name'}, s))));
  }

  async function loadTimeline() {
    const r = await api.get(base + '/timeline');
    const rows = (r.timeline || []).slice().reverse();
    replace(timeline, rows.length ? rows.map((t) => h('li', {class: 'tl'},
      h('div', {class: 'tl-head'}, timeEl(t.time, true), h('strong', {}, ' ', t.who || '?'),
        h('span', {class: 'muted'}, ' · ', t.what)),
      t.from || t.to ? h('div', {class: 'small mono wrap'}, t.from ?? '', ' → ', t.to ?? '') : null,
      t.reason ? h('div', {class: 'small wrap'}, t.reason) : null))
      : h('li', {class: 'empty'}, 'Nothing yet.'));
  }

  async function loadTasks() {
    const r = await api.get(base + '/tasks');
    const list = r.tasks || [];
    replace(tasks, list.length ? list.map(taskItem) : h('li', {class: 'empty'}, 'No task.'));
  }

  function taskItem(t) {
    const box = h('input', {type: 'checkbox', 'data-testid': 'task-done', checked: !!t.done,
                            disabled: !write, 'data-write': write ? true : null,
                            'aria-label': 'done: ' + t.title});
    if (write) {
      box.addEventListener('change', async () => {
        box.disabled = true;
        try {
          await api.patch(base + '/tasks/' + t.id, {done: box.checked});
          await Promise.all([loadTasks(), loadTimeline()]);
        } catch (e) {
          box.checked = !box.checked;
          err.show(e);
        } finally {
          box.disabled = false;
        }
      });
    }
    return h('li', {class: ['task', t.done ? 'done' : null], 'data-task-id': String(t.id)},
      h('label', {class: 'task-line'}, box,
        h('span', {class: 'task-title'}, t.title),
        t.required ? h('span', {class: 'badge req'}, 'required') : null,
        h('span', {class: 'muted small'}, ' ', PHASE_NAME[t.phase] || t.phase || '')),
      taskMeta(t),
      t.description ? h('div', {class: 'small muted wrap'}, t.description) : null,
      t.done ? h('div', {class: 'small muted'}, 'done by ', t.done_by || '?', ' ',
                 timeEl(t.done_at)) : null);
  }

  // Messages (issue 25, docs/api.md "Messages"): each with its state in
  // its life draft -> approved -> sent -> delivered / failed.
  async function loadMessages() {
    const r = await getOptional(base + '/messages');
    const list = (r && r.messages) || [];
    replace(messages, list.length ? list.map((m) => h('li', {class: 'message',
                                                              'data-message-id': String(m.id),
                                                              'data-state': m.state},
      h('span', {class: ['badge', 'msg-state', 'st-' + m.state], 'data-testid': 'message-state'},
        m.state),
      ' ', h('strong', {}, m.subject || '(no subject)'),
      h('div', {class: 'small muted'}, 'to ', m.contact_name || m.party || '?',
        m.recipient ? ' <' + m.recipient + '>' : '', ' · ', m.channel || '?',
        m.tlp ? ' · ' + tlpName(m.tlp) : '', m.attempts ? ' · ' + m.attempts + ' attempts' : '',
        m.next_attempt ? [' · next ', timeEl(m.next_attempt, true)] : null),
      m.error ? h('div', {class: 'small wrap', 'data-testid': 'message-error'}, m.error) : null))
      : h('li', {class: 'empty'}, r ? 'No message.' : 'Messages are not available.'));
  }

  // The procedures of the incident's box, level x category (MISSION.md
  // section 3): tasks with their NIST CSF function and due time, and who
  // to inform.  A daemon without GET /api/v1/procedures, or an incident
  // without a category, shows nothing.
  async function loadProcedures() {
    if (!inc || !inc.category || !inc.level || !(await proceduresServed())) {
      procPanel.hidden = true;
      return;
    }
    let r;
    try {
      r = await getOptional('/procedures?level=' + encodeURIComponent(inc.level) +
                            '&category=' + encodeURIComponent(inc.category));
    } catch (e) {
      console.warn('the procedures cannot be read', e);
      r = null;
    }
    const list = (r && r.procedures) || null;
    if (!list) {
      procPanel.hidden = true;
      return;
    }
    replace(procBody, list.length ? list.map(procedureBox)
      : h('p', {class: 'empty'}, 'No procedure for box ', inc.category, '-', inc.level, '.'));
    procPanel.hidden = false;
  }


  async function loadNotes() {
    const r = await api.get(base + '/notes');
    const list = r.notes || [];
    replace(notes, list.length ? list.map((n) => h('li', {class: 'note'},
      h('div', {class: 'small muted'}, timeEl(n.time, true), ' ', n.who),
      h('div', {class: 'wrap note-text'}, n.text))) : h('li', {class: 'empty'}, 'No note.'));
  }

  // Observables (docs/intel.md): from the alerts or by analysts; an
  // observable another incident holds links to it.
  const incidentLink = (n) => h('a', {href: '#/incidents/' + n}, '#' + n);

  async function loadObservables() {
    const r = await api.get(base + '/observables');
    const links = r.linked_incidents || [];
    replace(linked, links.length
      ? h('span', {}, 'Linked incidents: ', ...links.map((l, i) => h('span',
          {'data-testid': 'linked-incident'}, i ? ', ' : '', incidentLink(l.incident),
          ' (' + l.shared + ' shared)')))
      : h('span', {class: 'muted'}, 'No other incident shares an observable.'));
    const list = r.observables || [];
    replace(observables, list.length ? list.map(observableItem)
      : h('li', {class: 'empty'}, 'No observable.'));
  }

  function observableItem(o) {
    const also = o.incidents || [];
    let promote = null;
    if (write && o.type !== 'user' && !o.indicator) {
      const tlp = select({'data-testid': 'observable-tlp', 'data-write': true},
                         ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'], 'AMBER');
      promote = h('span', {class: 'observable-promote'}, tlp,
        writeButton('Make indicator', {'data-testid': 'observable-promote'}, async () => {
          const r = await api.post(base + '/observables/' + o.id + '/promote', {tlp: tlp.value});
          toast(o.value + ': indicator #' + r.indicator + ' of feed ' + r.feed + '.');
          await Promise.all([loadObservables(), loadTimeline()]);
        }, err));
    }
    return h('li', {class: 'observable', 'data-testid': 'observable', 'data-value': o.value},
      h('span', {class: 'badge'}, o.type), ' ',
      h('span', {class: 'mono wrap', 'data-testid': 'observable-value'}, o.value),
      h('span', {class: 'small muted'}, ' ',
        o.origin === 'alert' ? 'from alert #' + o.alert : 'added by ' + (o.added_by || '?')),
      also.length ? h('span', {class: 'small', 'data-testid': 'observable-also'}, ' · also in ',
        ...also.map((n, i) => h('span', {}, i ? ', ' : '', incidentLink(n)))) : null,
      o.indicator ? h('span', {class: 'small', 'data-testid': 'observable-indicator'},
        ' · indicator #' + o.indicator) : null,
      o.note ? h('div', {class: 'small muted wrap'}, o.note) : null,
      promote,
      write ? writeButton('Remove', {'data-testid': 'observable-remove'}, async () => {
        await api.del(base + '/observables/' + o.id);
        await Promise.all([loadObservables(), loadTimeline()]);
      }, err) : null);
  }

  async function loadComms() {
    const r = await api.get(base + '/communications');
    const list = r.communications || [];
    replace(comms, list.length ? list.map((m) => h('li', {class: 'comm'},
      h('div', {class: 'small muted'}, timeEl(m.time, true), ' ', m.who, ' · ',
        m.direction === 'in' ? 'from ' : 'to ', m.party || m.contact_name || m.contact || '?',
        ' · ', m.channel),
      h('div', {class: 'wrap'}, m.summary))) : h('li', {class: 'empty'}, 'Nobody told yet.'));
  }

  async function loadReports() {
    const r = await api.get(base + '/reports');
    const list = r.reports || [];
    replace(reports, list.length ? list.map(reportItem) : h('li', {class: 'empty'}, 'No report.'));
  }

  function reportItem(rp) {
    const href = '/api/v1' + base + '/reports/' + rp.id + '?format=md';
    const name = 'incident-' + id + '-' + rp.kind + '-v' + rp.version + '.md';
    const show = h('button', {type: 'button', class: 'ghost small'}, 'Preview');
    show.addEventListener('click', () => showReport(rp));
    return h('li', {class: 'report', 'data-report-id': String(rp.id)},
      h('strong', {}, REPORT_NAME[rp.kind] || rp.kind), ' v', String(rp.version),
      h('span', {class: 'muted small'}, ' ', rp.author || '', ' ', timeEl(rp.created)),
      rp.edited ? h('span', {class: 'badge'}, 'edited') : null, ' ', show, ' ',
      h('a', {href, download: name, 'data-testid': 'report-download', class: 'button small'},
        'Download .md'));
  }

  async function showReport(rp) {
    try {
      const md = await api.text(base + '/reports/' + rp.id + '?format=md');
      replace(previewTitle, 'Preview: ', REPORT_NAME[rp.kind] || rp.kind, ' v', String(rp.version));
      preview.textContent = md;
      preview.hidden = false;
    } catch (e) {
      err.show(e);
    }
  }

  async function loadAlerts() {
    const r = await api.get(base + '/alerts?limit=100');
    const list = r.alerts || [];
    replace(alertsBody, list.length ? list.map(alertRow)
      : h('tr', {}, h('td', {colspan: 7, class: 'empty'}, 'No alert linked.')));
  }

  function alertRow(a) {
    const btn = h('button', {type: 'button', class: 'ghost small', 'data-action': 'events'},
                  'Records');
    const row = h('tr', {'data-alert-id': String(a.id)}, alertCells(a), h('td', {}, btn));
    btn.addEventListener('click', () => {
      const next = row.nextElementSibling;
      if (next && next.classList.contains('events-row')) {
        next.remove();
        return;
      }
      row.after(h('tr', {class: 'events-row'}, h('td', {colspan: 7}, eventsView(a.id))));
    });
    return row;
  }

  async function loadResponses() {
    let r;
    try {
      r = await api.get('/responses?state=pending&limit=200');
    } catch (e) {
      replace(responses, h('li', {class: 'empty'}, 'The approval queue cannot be read: ',
                           e.message));
      return;
    }
    const mine = (r.responses || []).filter((x) => Number(x.incident) === id);
    replace(responses, mine.length ? mine.map((x) => h('li', {class: 'response',
                                                              'data-response-id': String(x.id)},
      h('div', {}, h('strong', {}, (x.actions || []).join(', ')), ' ',
        h('span', {class: 'chip mono'}, x.address || '—'), ' ',
        h('span', {class: 'muted small'}, x.policy_rule || '', ' · ', x.reason || '')),
      write ? h('div', {class: 'actions'},
        writeButton('Approve', {'data-action': 'approve', class: 'primary small'}, async () => {
          await api.post('/responses/' + x.id + '/approve', {note: 'approved in the console'});
          toast('Approved: the engine acts now.');
          await loadResponses();
        }, err),
        writeButton('Reject', {'data-action': 'reject', class: 'small'}, async () => {
          await api.post('/responses/' + x.id + '/reject', {note: 'rejected in the console'});
          await loadResponses();
        }, err)) : null))
      : h('li', {class: 'empty'}, 'Nothing waits for approval.'));
  }

  async function refresh() {
    await loadHeader();
    await Promise.all([loadTimeline(), loadTasks(), loadNotes(), loadComms(), loadReports(),
                       loadAlerts(), loadResponses(), loadObservables(), evidence.load(),
                       loadMessages(), loadProcedures(), overdue.load()]);
  }

  // ---- forms ----------------------------------------------------------

  const noteForm = write ? h('div', {class: 'note-form'},
    h('textarea', {'data-testid': 'note-text', 'data-write': true, rows: 3, maxlength: 8192,
                   placeholder: 'A note for the record'}),
    null) : null;
  if (noteForm) {
    const text = noteForm.firstChild;
    noteForm.appendChild(writeButton('Add note', {'data-testid': 'note-add', class: 'primary'},
      async () => {
        if (!text.value.trim()) throw new Error('the note is empty');
        await api.post(base + '/notes', {text: text.value});
        text.value = '';
        await Promise.all([loadNotes(), loadTimeline()]);
      }, err));
  }

  const commForm = write ? writeForm({'data-testid': 'comm-form'}, [
    h('div', {class: 'form-row'},
      field('Party', h('input', {name: 'party', type: 'text', required: true})),
      field('Channel', select({name: 'channel'}, ['mail', 'phone', 'meeting', 'web', 'fax',
                                                   'other'], 'mail')),
      field('Direction', select({name: 'direction'}, [['out', 'we told them'],
                                                      ['in', 'they told us']], 'out'))),
    field('What was said', h('textarea', {name: 'summary', rows: 2, required: true})),
  ], async (v) => {
    await api.post(base + '/communications', v);
    await Promise.all([loadComms(), loadTimeline()]);
  }, 'Record') : null;

  const observableForm = write ? writeForm({'data-testid': 'observable-form'}, [
    h('div', {class: 'form-row'},
      field('Type', select({name: 'type'}, ['ipv4', 'ipv6', 'domain', 'hostname', 'url', 'email',
                                            'md5', 'sha1', 'sha256', 'ja3', 'user-agent',
                                            'regkey', 'process', 'user'], 'ipv4')),
      field('Value', h('input', {name: 'value', type: 'text', required: true, maxlength: 2048})),
      field('Note', h('input', {name: 'note', type: 'text', maxlength: 8192}))),
  ], async (v) => {
    const body = {type: v.type, value: v.value};
    if (v.note) body.note = v.note;
    await api.post(base + '/observables', body);
    await Promise.all([loadObservables(), loadTimeline()]);
  }, 'Add observable') : null;

  let reportForm = null;
  if (write) {
    const kind = select({'data-testid': 'report-kind', 'data-write': true, name: 'kind'},
                        REPORT_KINDS, 'first');
    reportForm = h('div', {class: 'report-form'}, field('Report', kind),
      writeButton('Generate', {'data-testid': 'report-generate', class: 'primary'}, async () => {
        const rp = await api.post(base + '/reports', {kind: kind.value});
        toast((REPORT_NAME[rp.kind] || rp.kind) + ' v' + rp.version + ' generated.');
        await Promise.all([loadReports(), loadTimeline()]);
        await showReport(rp);
      }, err));
  }

  replace(root,
    overdue.node, err, head, phaseBox,
    panel('Kill chain', {class: 'panel killchain-panel'}, killchain),
    h('div', {class: 'incident-grid'},
      h('div', {class: 'col'},
        panel('Tasks of the phase', {}, tasks),
        panel('Notes', {}, notes, noteForm),
        procPanel,
        panel('Communications', {}, comms, commForm),
        panel('Messages', {'data-testid': 'messages-panel'}, messages),
        panel('Reports', {}, reports, reportForm, previewTitle, preview)),
      h('div', {class: 'col'},
        panel('Timeline', {}, timeline),
        panel('Entities', {}, entities),
        panel('Observables', {'data-testid': 'observables-panel'}, linked, observables,
              observableForm),
        panel('Evidence and custody', {}, evidence.node),
        panel('Waiting for approval', {}, responses))),
    panel('Linked alerts', {class: 'panel table-panel'}, alertsTable));

  await refresh();
  ctx.ready();
  ctx.every(REFRESH_MS, async () => {
    // Not while someone is typing a reason or a note.
    const a = document.activeElement;
    if (a && (a.tagName === 'TEXTAREA' || a.tagName === 'INPUT')) return;
    await refresh();
  });
}

function fact(label, value) {
  return h('div', {class: 'fact'}, h('dt', {}, label), h('dd', {}, value));
}


// A task's NIST CSF function and due time (issue 25), when it has them; a
// due time passed while the task is open counts in red.
function taskMeta(t) {
  const due = t.due_us ? t.due_us / 1000 : t.due ? Date.parse(t.due) : NaN;
  if (!t.function && Number.isNaN(due)) return null;
  return h('div', {class: 'small task-meta'},
    t.function ? h('span', {class: 'badge csf', 'data-testid': 'task-function'}, t.function) : null,
    Number.isNaN(due) ? null : [' due ', timeEl(due, true), ' ',
      t.done ? null : countdown({has_target: true, left_seconds: (due - Date.now()) / 1000},
                                {'data-testid': 'task-due'})]);
}

const tlpName = (t) => (/^TLP:/i.test(t) ? t : 'TLP:' + t);

// One box of GET /api/v1/procedures: its tasks and whom to inform.
function procedureBox(p) {
  return h('div', {class: 'proc-box', 'data-box': p.box || ''},
    h('h3', {class: 'sub'}, p.box || (p.category + '-' + p.level)),
    (p.tasks || []).length ? h('ol', {class: 'proc-tasks'}, p.tasks.map((t) =>
      h('li', {'data-testid': 'procedure-task'},
        h('strong', {}, t.title || '?'),
        t.required ? [' ', h('span', {class: 'badge req'}, 'required')] : null,
        t.function ? [' ', h('span', {class: 'badge csf'}, t.function)] : null,
        h('span', {class: 'muted small'}, t.owner ? ' · ' + t.owner : '',
          t.due ? ' · due ' + t.due : ''),
        t.description ? h('div', {class: 'small muted wrap'}, t.description) : null)))
      : null,
    (p.inform || []).length ? h('div', {class: 'small'}, 'Inform:',
      h('ul', {class: 'proc-inform'}, p.inform.map((x) => h('li', {'data-testid': 'procedure-inform'},
        h('strong', {}, x.party || '?'), x.channel ? ' by ' + x.channel : '',
        x.tlp ? ' · ' + tlpName(x.tlp) : '',
        (x.disclose || []).length ? ' · may disclose ' + x.disclose.join(', ') : ''))))
      : null);
}

// Whether this daemon serves GET /api/v1/procedures, from its own API
// description (read once): asking a daemon without it would answer 404,
// which the browser logs as an error on every incident page.
let served = null;
function proceduresServed() {
  if (!served) {
    served = fetch('/api/v1/openapi.json', {credentials: 'same-origin'})
      .then((r) => (r.ok ? r.json() : null))
      .then((d) => !!(d && d.paths && d.paths['/api/v1/procedures']))
      .catch(() => false);
  }
  return served;
}
