// login.js - #/login: a name and a password for a cookie session
// (POST /api/v1/session).

import {h} from './dom.js';
import {login, getSession} from './api.js';
import {errorText} from './ui.js';

export async function mount(root, ctx) {
  const name = h('input', {name: 'name', type: 'text', autocomplete: 'username', required: true,
                           autofocus: true, spellcheck: 'false', autocapitalize: 'off'});
  const password = h('input', {name: 'password', type: 'password',
                               autocomplete: 'current-password', required: true});
  const error = h('p', {class: 'error-line', role: 'alert', 'data-testid': 'login-error'});
  const submit = h('button', {type: 'submit', class: 'primary'}, 'Log in');
  const s = getSession();
  const form = h('form', {class: 'login-form', 'data-testid': 'login-form', novalidate: true},
    h('h1', {class: 'login-title'},
      h('img', {class: 'brand-mark', src: '/ui/favicon.svg', alt: '', width: 32, height: 32}),
      'hikeshi'),
    h('p', {class: 'muted'}, 'Security monitoring and incident response console'),
    s ? h('p', {class: 'muted'}, 'Signed in as ' + s.user + ' (' + s.role + '). ',
          h('a', {href: '#/dashboard'}, 'Go to the dashboard')) : null,
    h('label', {class: 'field'}, h('span', {class: 'field-label'}, 'Name'), name),
    h('label', {class: 'field'}, h('span', {class: 'field-label'}, 'Password'), password),
    submit, error);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    error.classList.remove('shown');
    if (!name.value || !password.value) {
      error.textContent = 'Enter your name and password.';
      error.classList.add('shown');
      return;
    }
    submit.disabled = true;
    try {
      await login(name.value, password.value);
      password.value = '';
      ctx.afterLogin();
    } catch (e) {
      error.textContent = errorText(e);
      error.classList.add('shown');
      password.select();
    } finally {
      submit.disabled = false;
    }
  });

  root.replaceChildren(h('div', {class: 'login-wrap'}, form));
  ctx.ready();
  name.focus();
}
