// ui.js - small interface pieces every page uses: messages, forms that
// write, buttons that write, the pager.
//
// Anything that changes state carries data-write, and is only built for
// roles that may use it (the pages check canWrite()/isAdmin() first).

import {h, replace, countdown} from './dom.js';
import {api, ApiError} from './api.js';

/** A passing message at the bottom of the screen. */
export function toast(message, kind) {
  const box = document.getElementById('toasts');
  if (!box) return;
  const el = h('div', {class: ['toast', kind === 'error' ? 'toast-error' : 'toast-ok'],
                       role: kind === 'error' ? 'alert' : 'status'}, message);
  box.appendChild(el);
  setTimeout(() => el.remove(), kind === 'error' ? 10000 : 5000);
}

export function errorText(e) {
  if (e instanceof ApiError) return e.message;
  return e && e.message ? e.message : String(e);
}

/** An element for an API error sentence; empty and hidden until used. */
export function errorLine(attrs) {
  const el = h('p', Object.assign({class: 'error-line', role: 'alert'}, attrs || {}));
  el.show = (e) => {
    el.textContent = typeof e === 'string' ? e : errorText(e);
    el.classList.add('shown');
  };
  el.clear = () => {
    el.textContent = '';
    el.classList.remove('shown');
  };
  return el;
}

/**
 * A button that writes: data-write, disabled while `action` runs (and
 * after, when it returns false); an error goes to `errEl` (an errorLine)
 * or a toast.
 */
export function writeButton(label, attrs, action, errEl) {
  const b = h('button', Object.assign({type: 'button', 'data-write': true}, attrs || {}), label);
  b.addEventListener('click', async (ev) => {
    ev.preventDefault();
    if (b.disabled) return;
    b.disabled = true;
    if (errEl) errEl.clear();
    let result;
    try {
      result = await action(b);
    } catch (e) {
      if (errEl) errEl.show(e);
      else toast(errorText(e), 'error');
    } finally {
      if (result !== false) b.disabled = false;
    }
  });
  return b;
}

/** The values of a form's named controls (checkboxes as booleans). */
export function formValues(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    if (el.type === 'checkbox') out[el.name] = el.checked;
    else out[el.name] = el.value;
  }
  return out;
}

/**
 * A form that writes: data-write on the form and its submit button;
 * onSubmit(values, form) may throw, its sentence is shown in the form.
 * The form keeps its values on error and is reset on success unless
 * onSubmit returns false.
 */
export function writeForm(attrs, children, onSubmit, submitLabel) {
  const err = errorLine();
  const submit = h('button', {type: 'submit', class: 'primary', 'data-write': true},
                   submitLabel || 'Save');
  const form = h('form', Object.assign({'data-write': true, class: 'form', novalidate: true},
                                       attrs || {}),
                 children, h('div', {class: 'form-actions'}, submit), err);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (submit.disabled) return;
    submit.disabled = true;
    err.clear();
    try {
      const keep = await onSubmit(formValues(form), form);
      if (keep !== false && form.isConnected) form.reset();
    } catch (e) {
      err.show(e);
    } finally {
      submit.disabled = false;
    }
  });
  form.errorLine = err;
  return form;
}

/** Removes the keys whose value is '' (optional fields left empty). */
export function dropEmpty(obj) {
  const out = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === '' || v === null || v === undefined) continue;
    out[k] = v;
  }
  return out;
}

/**
 * The pager: prev/next buttons and "51–100 of 1 386".
 * update({offset, limit, shown, total}) where total may be unknown (null);
 * then `more` says whether a next page exists.
 */
export function pager(onPage) {
  const prev = h('button', {type: 'button', 'data-testid': 'pager-prev'}, '‹ Previous');
  const next = h('button', {type: 'button', 'data-testid': 'pager-next'}, 'Next ›');
  const info = h('span', {class: 'pager-info', 'data-testid': 'pager-info'});
  const el = h('nav', {class: 'pager', 'aria-label': 'pages'}, prev, info, next);
  let state = {offset: 0, limit: 50};
  prev.addEventListener('click', () => onPage(Math.max(0, state.offset - state.limit)));
  next.addEventListener('click', () => onPage(state.offset + state.limit));
  el.update = (s) => {
    state = s;
    const first = s.shown ? s.offset + 1 : 0;
    const last = s.offset + s.shown;
    const nf = new Intl.NumberFormat();
    let text = s.shown ? nf.format(first) + '–' + nf.format(last) : 'none';
    if (s.total !== null && s.total !== undefined) text += ' of ' + nf.format(s.total);
    replace(info, text);
    prev.disabled = s.offset <= 0;
    const more = s.total !== null && s.total !== undefined ? last < s.total : !!s.more;
    next.disabled = !more;
  };
  return el;
}

/** An empty-state line. */
export function empty(text) {
  return h('p', {class: 'empty'}, text);
}

/** A "not available on this daemon" line for routes that 404. */
export function unavailable(route) {
  return h('p', {class: 'empty'}, 'Not available: this daemon does not serve ' + route + ' yet.');
}

// ---- the overdue banner (issue 25) ------------------------------------------
//
// A red line "N incidents overdue" over the dashboard and the incident
// page while any open incident is past its phase's time target, linking to
// the overdue list and to the first few, each with its live countdown.
// From GET /api/v1/incidents?overdue=1 (the daemon decides what is
// overdue); hidden when none is, or when the list cannot be read.

const OVERDUE_SHOWN = 5;
const OVERDUE_LIMIT = 100;

/** The banner's node and load(), which reads the list and redraws it. */
export function overdueBanner() {
  const node = h('div', {class: 'overdue-banner', role: 'alert', 'data-testid': 'overdue-banner'});
  node.hidden = true;
  async function load() {
    let r;
    try {
      r = await api.get('/incidents?overdue=1&sort=urgent&limit=' + OVERDUE_LIMIT);
    } catch (e) {
      console.warn('the overdue incidents cannot be read', e);
      return;
    }
    const list = (r && r.incidents) || [];
    if (list.length === 0) {
      node.hidden = true;
      replace(node);
      return;
    }
    const n = list.length >= OVERDUE_LIMIT ? OVERDUE_LIMIT + '+' : String(list.length);
    const more = list.length - OVERDUE_SHOWN;
    replace(node,
      h('a', {href: '#/incidents?overdue=1', class: 'overdue-count',
              'data-testid': 'overdue-count', 'data-value': String(list.length)},
        n + (list.length === 1 ? ' incident overdue' : ' incidents overdue')),
      h('ul', {class: 'overdue-items'}, list.slice(0, OVERDUE_SHOWN).map((i) =>
        h('li', {'data-incident-id': String(i.id)},
          h('a', {href: '#/incidents/' + i.id}, '#' + i.id + ' ', i.title || '(untitled)'),
          ' ', countdown(i.deadline, {class: 'countdown overdue-count-down',
                                      'data-testid': 'overdue-countdown'}))),
        more > 0 ? h('li', {}, h('a', {href: '#/incidents?overdue=1'},
                                 '… and ' + more + ' more')) : null));
    node.hidden = false;
  }
  return {node, load};
}
