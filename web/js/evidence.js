// evidence.js - the evidence panel of an incident page (#/incidents/<id>):
// its items, each one's custodian, chain of custody and last verification,
// and (for analysts) a Verify button.  docs/evidence.md.
//
//   GET  /api/v1/evidence?incident={id}      the items linked to the incident
//   GET  /api/v1/evidence/{n}/custody        the custody log (not an access)
//   POST /api/v1/evidence/{n}/verify         re-hash, check chain and seals
//
// The custody log is read, never the item (GET /evidence/{n} would record
// an access at every refresh).  The verification state is the last
// "verify" entry of the log: what was checked, when, by whom.

import {h, replace, timeEl, fmtInt} from './dom.js';
import {api, canWrite} from './api.js';
import {writeButton, toast} from './ui.js';

const ACTION_TEXT = {
  add: 'added', transfer: 'handed over', access: 'shown', verify: 'verified',
  export: 'exported in a bundle', import: 'received',
};

// The custodian after the log: the add's acquirer, then each hand-over's `to`.
function custodian(log) {
  let who = null;
  for (const e of log) {
    const d = e.details || {};
    if (e.action === 'add' || e.action === 'import') who = d.custodian || who;
    if (e.action === 'transfer') who = d.to || who;
  }
  return who;
}

function lastVerify(log) {
  for (let i = log.length - 1; i >= 0; i--) if (log[i].action === 'verify') return log[i];
  return null;
}

function entryDetail(e) {
  const d = e.details || {};
  switch (e.action) {
    case 'transfer': return [d.from, ' → ', d.to, d.reason ? ' (' + d.reason + ')' : ''];
    case 'verify': return [d.result === 'ok' ? 'intact' : 'BROKEN',
                           d.faults ? ', ' + d.faults + ' fault(s)' : '',
                           d.content ? ', content ' + d.content : ''];
    case 'add': return ['custodian ', d.custodian || '?'];
    case 'access': return ['how: ', d.how || '?'];
    case 'export': return ['bundle ', d.bundle || '?'];
    case 'import': return ['from ', d.from || '?'];
    default: return [];
  }
}

/**
 * The panel's body and its loader.  onChange() runs after a change (the
 * timeline shows the custody entries' audit).  errEl shows failures.
 */
export function evidencePanel(incidentId, errEl, onChange) {
  const write = canWrite();
  const list = h('ul', {class: 'evidence', 'data-testid': 'evidence'});

  function verifyState(v) {
    if (!v) return h('span', {class: 'badge', 'data-testid': 'evidence-verified',
                              'data-value': 'never'}, 'never verified');
    const ok = (v.details || {}).result === 'ok';
    return h('span', {class: ['badge', ok ? 'ok' : 'bad'], 'data-testid': 'evidence-verified',
                      'data-value': ok ? 'ok' : 'failed'},
      ok ? 'intact' : 'BROKEN', ' ', timeEl(v.time, true), ' ', v.actor || '');
  }

  function item(rec, log) {
    const n = String(rec.id || '').replace(/^EV-/, '');
    const logList = h('ol', {class: 'custody small', 'data-testid': 'custody', hidden: true},
      log.map((e) => h('li', {'data-action': e.action, 'data-seq': String(e.seq)},
        timeEl(e.time, true), ' ', h('strong', {}, e.actor || '?'), ' ',
        ACTION_TEXT[e.action] || e.action, ' ', h('span', {class: 'muted'}, entryDetail(e)))));
    const toggle = h('button', {type: 'button', class: 'ghost small', 'data-action': 'custody'},
                     'Custody (' + log.length + ')');
    toggle.addEventListener('click', () => { logList.hidden = !logList.hidden; });
    const acq = rec.acquisition || {};
    return h('li', {class: 'evidence-item', 'data-evidence-id': rec.id},
      h('div', {},
        h('strong', {class: 'mono'}, rec.id), ' ',
        h('span', {class: 'chip'}, rec.kind), ' ',
        h('span', {class: 'wrap'}, rec.name), ' ',
        h('span', {class: 'muted small'}, fmtInt(rec.size), ' bytes · ', rec.storage)),
      h('div', {class: 'small mono wrap', title: 'SHA-256'}, 'sha256 ', rec.sha256),
      h('div', {class: 'small muted wrap'}, 'acquired by ', acq.by || '?',
        acq.host ? ' on ' + acq.host : '', acq.tool ? ' with ' + acq.tool : '',
        ' · purposes: ', (rec.purposes || []).join(', ')),
      h('div', {class: 'small'}, 'custodian: ',
        h('strong', {'data-testid': 'evidence-custodian'}, custodian(log) || '?'), ' · ',
        verifyState(lastVerify(log)), ' ', toggle,
        write ? writeButton('Verify', {'data-action': 'verify', class: 'small'}, async () => {
          const v = await api.post('/evidence/' + n + '/verify');
          toast(rec.id + ': ' + (v.result === 'ok' ? 'intact' : 'BROKEN: ' + v.faults.join('; ')),
                v.result === 'ok' ? undefined : 'error');
          await load();
          if (onChange) await onChange();
        }, errEl) : null),
      logList);
  }

  async function load() {
    let r;
    try {
      r = await api.get('/evidence?incident=' + incidentId);
    } catch (e) {
      replace(list, h('li', {class: 'empty'}, 'The evidence register cannot be read: ',
                      e.message));
      return;
    }
    const items = r.items || [];
    const logs = await Promise.all(items.map((rec) =>
      api.get('/evidence/' + String(rec.id).replace(/^EV-/, '') + '/custody')
        .then((c) => c.custody || [], () => [])));
    replace(list, items.length ? items.map((rec, i) => item(rec, logs[i]))
      : h('li', {class: 'empty'}, 'No evidence registered for this incident.'));
  }

  return {node: list, load};
}
