// admin.js - #/admin (administrators only): users and their tokens,
// assets, contacts, suppressions, the loaded rules with their hits.
//
//   GET/POST /api/v1/users, PATCH/DELETE /api/v1/users/{id}
//   GET/POST /api/v1/users/{id}/tokens, DELETE /api/v1/tokens/{id}
//   GET /api/v1/assets, GET/POST /api/v1/contacts
//   GET /api/v1/suppressions, DELETE /api/v1/suppressions/{id}
//   GET /api/v1/rules

import {h, replace, field, select, panel, timeEl, fmtInt, qs} from './dom.js';
import {api, getOptional, getSession} from './api.js';
import {writeForm, writeButton, errorLine, empty, toast, unavailable, dropEmpty} from './ui.js';

const ROLES = ['viewer', 'analyst', 'lead', 'admin'];

export async function mount(root, ctx) {
  const err = errorLine();
  const users = h('div', {'data-testid': 'admin-users'});
  const tokens = h('div', {'data-testid': 'admin-tokens'},
                   h('p', {class: 'muted'}, 'Choose a user’s “Tokens” to see and make them.'));
  const assets = h('div', {'data-testid': 'admin-assets'});
  const contacts = h('div', {'data-testid': 'admin-contacts'});
  const supps = h('div', {'data-testid': 'admin-suppressions'});
  const rules = h('div', {'data-testid': 'admin-rules'});
  const ruleFilter = h('input', {type: 'search', placeholder: 'filter rules', class: 'small'});
  let allRules = null;

  async function loadUsers() {
    const r = await getOptional('/users');
    if (!r) {
      replace(users, unavailable('/api/v1/users'));
      return;
    }
    const me = getSession() ? getSession().user : '';
    replace(users,
      h('table', {class: 'table'},
        h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Role'), h('th', {}, 'Password'),
          h('th', {}, 'Tokens'), h('th', {}, 'Created'), h('th', {}, ''))),
        h('tbody', {}, (r.users || []).map((u) => userRow(u, u.name === me)))),
      userForm());
  }

  function userRow(u, self) {
    const role = select({'data-write': true, 'aria-label': 'role of ' + u.name, disabled: self},
                        ROLES, u.role);
    role.addEventListener('change', async () => {
      try {
        await api.patch('/users/' + u.id, {role: role.value});
        toast(u.name + ' is now ' + role.value + '.');
      } catch (e) {
        err.show(e);
      }
      await loadUsers();
    });
    const show = h('button', {type: 'button', class: 'ghost small'}, 'Tokens');
    show.addEventListener('click', () => loadTokens(u));
    return h('tr', {'data-user-id': String(u.id)},
      h('td', {}, h('strong', {}, u.name), self ? h('span', {class: 'muted small'}, ' (you)') : null),
      h('td', {}, role),
      h('td', {}, u.has_password ? 'yes' : h('span', {class: 'muted'}, 'tokens only')),
      h('td', {class: 'num'}, fmtInt(u.tokens)),
      h('td', {class: 'small'}, timeEl(u.created)),
      h('td', {class: 'actions'}, show, self ? null : writeButton('Delete',
        {class: 'danger small', 'data-action': 'delete-user'}, async () => {
          if (!window.confirm('Delete ' + u.name + ' and all their tokens and sessions?')) return;
          await api.del('/users/' + u.id);
          toast(u.name + ' deleted.');
          await loadUsers();
        }, err)));
  }

  function userForm() {
    return h('details', {class: 'form-panel'}, h('summary', {}, 'Add a user'),
      writeForm({'data-testid': 'user-form'}, [
        h('div', {class: 'form-row'},
          field('Name', h('input', {name: 'name', type: 'text', required: true, maxlength: 64,
                                    pattern: '[A-Za-z0-9._@-]+'})),
          field('Role', select({name: 'role'}, ROLES, 'viewer')),
          field('Password', h('input', {name: 'password', type: 'password', minlength: 12,
                                        autocomplete: 'new-password'}),
                'at least 12 characters; empty: tokens only')),
      ], async (v) => {
        await api.post('/users', dropEmpty(v));
        toast('User ' + v.name + ' added.');
        await loadUsers();
      }, 'Add user'));
  }

  async function loadTokens(u) {
    const r = await getOptional('/users/' + u.id + '/tokens');
    if (!r) {
      replace(tokens, unavailable('/api/v1/users/{id}/tokens'));
      return;
    }
    const shown = h('div', {class: 'new-token'});
    replace(tokens, h('h3', {}, 'Tokens of ', u.name),
      (r.tokens || []).length ? h('table', {class: 'table'},
        h('thead', {}, h('tr', {}, h('th', {}, 'Id'), h('th', {}, 'Label'), h('th', {}, 'Kind'),
          h('th', {}, 'Created'), h('th', {}, 'Expires'), h('th', {}, ''))),
        h('tbody', {}, r.tokens.map((t) => h('tr', {'data-token-id': String(t.id)},
          h('td', {class: 'mono'}, '#' + t.id), h('td', {}, t.label || '—'),
          h('td', {}, t.session ? 'console session' : 'API token'),
          h('td', {class: 'small'}, timeEl(t.created)),
          h('td', {class: 'small'}, t.expires ? timeEl(t.expires) : 'until revoked'),
          h('td', {}, writeButton('Revoke', {class: 'danger small', 'data-action': 'revoke'},
            async () => {
              await api.del('/tokens/' + t.id);
              toast('Token #' + t.id + ' revoked.');
              await Promise.all([loadTokens(u), loadUsers()]);
            }, err))))))
        : empty('No valid token.'),
      writeForm({'data-testid': 'token-form'}, [
        field('Label', h('input', {name: 'label', type: 'text', maxlength: 128,
                                   placeholder: 'what it is for'})),
      ], async (v) => {
        const t = await api.post('/users/' + u.id + '/tokens', dropEmpty(v));
        await Promise.all([loadTokens(u), loadUsers()]);
        // Shown once: the daemon keeps only its hash.
        replace(tokens.querySelector('.new-token') || shown,
          h('p', {}, 'The new token, shown this once — copy it now:'),
          h('pre', {class: 'mono token-text', 'data-testid': 'new-token'}, t.token));
        return false;
      }, 'Make a token'),
      shown);
  }

  async function loadAssets() {
    const r = await api.get('/assets' + qs({limit: 500}));
    const list = r.assets || [];
    replace(assets, list.length ? h('table', {class: 'table'},
      h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Network'), h('th', {}, 'Owner'),
        h('th', {}, 'Criticality'), h('th', {}, 'Category'), h('th', {}, 'Tags'))),
      h('tbody', {}, list.map((a) => h('tr', {},
        h('td', {}, a.name), h('td', {class: 'mono'}, a.network || '—'), h('td', {}, a.owner || '—'),
        h('td', {}, a.criticality || '—'), h('td', {}, a.category || '—'),
        h('td', {class: 'small'}, (a.tags || []).join(', '))))))
      : empty('No asset inventory is loaded (triage.assets).'));
  }

  async function loadContacts() {
    const r = await api.get('/contacts');
    const list = r.contacts || [];
    replace(contacts,
      list.length ? h('table', {class: 'table'},
        h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Line'), h('th', {}, 'Organisation'),
          h('th', {}, 'Role'), h('th', {}, 'Mail'), h('th', {}, 'Phone'))),
        h('tbody', {}, list.map((c) => h('tr', {},
          h('td', {}, c.name), h('td', {}, c.kind), h('td', {}, c.organisation || '—'),
          h('td', {}, c.role || '—'), h('td', {class: 'mono'}, c.email || '—'),
          h('td', {class: 'mono'}, c.phone || '—')))))
        : empty('The address book is empty.'),
      h('details', {class: 'form-panel'}, h('summary', {}, 'Add a contact'),
        writeForm({'data-testid': 'contact-form'}, [
          h('div', {class: 'form-row'},
            field('Name', h('input', {name: 'name', type: 'text', required: true})),
            field('Line', select({name: 'kind'}, [['vertical', 'vertical (management)'],
              ['horizontal', 'horizontal (departments)'], ['external', 'external']], 'vertical')),
            field('Organisation', h('input', {name: 'organisation', type: 'text'})),
            field('Role', h('input', {name: 'role', type: 'text',
                                      placeholder: 'CSIRT, ISP, police, …'}))),
          h('div', {class: 'form-row'},
            field('Mail', h('input', {name: 'email', type: 'email'})),
            field('Phone', h('input', {name: 'phone', type: 'tel'}))),
        ], async (v) => {
          await api.post('/contacts', dropEmpty(v));
          await loadContacts();
        }, 'Add contact')));
  }

  async function loadSupps() {
    const r = await api.get('/suppressions');
    const list = (r.suppressions || []).slice().reverse();
    replace(supps, list.length ? h('table', {class: 'table'},
      h('thead', {}, h('tr', {}, h('th', {}, 'Id'), h('th', {}, 'Reason'), h('th', {}, 'By'),
        h('th', {}, 'From alert'), h('th', {}, 'Expires'), h('th', {}, 'State'), h('th', {}, ''))),
      h('tbody', {}, list.map((s) => h('tr', {'data-suppression-id': String(s.id)},
        h('td', {class: 'mono'}, '#' + s.id), h('td', {class: 'wrap'}, s.reason),
        h('td', {}, s.who), h('td', {class: 'mono'}, s.alert ? '#' + s.alert : '—'),
        h('td', {class: 'small'}, timeEl(s.expires)),
        h('td', {}, s.active ? h('span', {class: 'badge ok'}, 'active')
          : h('span', {class: 'muted'}, s.lifted ? 'lifted by ' + (s.lifted_by || '?') : 'expired')),
        h('td', {}, s.active ? writeButton('Lift', {class: 'small', 'data-action': 'lift'},
          async () => {
            await api.del('/suppressions/' + s.id);
            toast('Suppression #' + s.id + ' lifted.');
            await loadSupps();
          }, err) : null)))))
      : empty('No suppression was made through the API.'));
  }

  function renderRules() {
    const f = ruleFilter.value.trim().toLowerCase();
    const list = (allRules || []).filter((r) => !f ||
      [r.title, r.id, r.name, r.level, r.file].some((x) => x && String(x).toLowerCase().includes(f)));
    replace(rules, h('p', {class: 'muted small'}, fmtInt(list.length), ' of ',
                     fmtInt((allRules || []).length), ' rules loaded now'),
      h('table', {class: 'table'},
        h('thead', {}, h('tr', {}, h('th', {}, 'Title'), h('th', {}, 'Kind'), h('th', {}, 'Level'),
          h('th', {}, 'Status'), h('th', {}, 'Hits'), h('th', {}, 'Last hit'))),
        h('tbody', {}, list.slice(0, 500).map((r) => h('tr', {'data-rule-id': r.id || ''},
          h('td', {}, h('div', {}, r.title || r.name || r.id),
            h('div', {class: 'muted small mono'}, r.id || '')),
          h('td', {}, r.kind), h('td', {}, r.level || '—'), h('td', {}, r.status || '—'),
          h('td', {class: 'num', 'data-testid': 'rule-hits', 'data-value': String(r.hits)},
            fmtInt(r.hits)),
          h('td', {class: 'small'}, r.last_hit ? timeEl(r.last_hit) : '—'))))));
  }

  async function loadRules() {
    const r = await getOptional('/rules');
    if (!r) {
      replace(rules, unavailable('/api/v1/rules'));
      return;
    }
    allRules = (r.rules || []).slice().sort((a, b) => (b.hits - a.hits) ||
      String(a.title).localeCompare(String(b.title)));
    renderRules();
  }
  ruleFilter.addEventListener('input', renderRules);

  replace(root,
    h('div', {class: 'page-head'}, h('h1', {}, 'Administration')), err,
    panel('Users', {}, users),
    panel('Tokens', {}, tokens),
    panel('Suppressions', {}, supps),
    panel('Loaded rules and their hits', {}, ruleFilter, rules),
    panel('Contacts', {}, contacts),
    panel('Assets', {}, assets));
  const settle = (p) => p.catch((e) => err.show(e));
  await Promise.all([loadUsers(), loadSupps(), loadRules(), loadContacts(), loadAssets()]
    .map(settle));
  ctx.ready();
}
