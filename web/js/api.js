// api.js - the one way the console talks to the daemon.
//
// The session lives in an HttpOnly cookie the page cannot read; what the
// page knows is GET/POST /api/v1/session's answer {user, role, csrf,
// expires}.  Every write sends that csrf as X-CSRF-Token, and JSON.
// Errors become ApiError carrying the API's own sentence ({"error": ...}).

const BASE = '/api/v1';

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body || null;
  }
}

let session = null;
let onUnauthorized = null;

export function getSession() {
  return session;
}

export function setSession(s) {
  session = s;
}

/** fn() is called when an authenticated request answers 401 (expired). */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export function role() {
  return session ? session.role : null;
}

/** analyst, lead or admin: may change incidents, alerts, ... */
export function canWrite() {
  return role() === 'analyst' || role() === 'lead' || role() === 'admin';
}

/** lead or admin: answers the approval queue of the responsible person */
export function isLead() {
  return role() === 'lead' || role() === 'admin';
}

export function isAdmin() {
  return role() === 'admin';
}

function sentence(status, body, text) {
  if (body && typeof body.error === 'string') {
    return body.field ? body.error + ' (field ' + body.field + ')' : body.error;
  }
  if (status === 0) return text;
  return 'the daemon answered ' + status + (text ? ': ' + text.slice(0, 200) : '');
}

/**
 * request('POST', '/alerts/7/ack', {...}) -> parsed JSON (or text with
 * {text: true}).  path is relative to /api/v1.
 */
export async function request(method, path, body, opts) {
  const o = opts || {};
  const headers = {Accept: o.text ? 'text/*' : 'application/json'};
  const init = {method, headers, credentials: 'same-origin', cache: 'no-store'};
  if (method !== 'GET' && method !== 'HEAD') {
    if (session && session.csrf) headers['X-CSRF-Token'] = session.csrf;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
  }
  let res;
  try {
    res = await fetch(BASE + path, init);
  } catch (e) {
    throw new ApiError(0, 'cannot reach the daemon (' + (e && e.message ? e.message : e) + ')');
  }
  const raw = await res.text();
  if (res.ok && o.text) return raw;
  let data = null;
  if (raw) {
    try {
      data = JSON.parse(raw);
    } catch (e) {
      data = null;
    }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, sentence(res.status, data, raw), data);
    if (res.status === 401 && !o.noRedirect && onUnauthorized) onUnauthorized(err);
    throw err;
  }
  return data;
}

export const api = {
  get: (path, opts) => request('GET', path, undefined, opts),
  text: (path) => request('GET', path, undefined, {text: true}),
  post: (path, body) => request('POST', path, body === undefined ? {} : body),
  patch: (path, body) => request('PATCH', path, body),
  put: (path, body) => request('PUT', path, body),
  del: (path) => request('DELETE', path),
};

/** GET that answers null instead of throwing on 404 (a route this daemon
 * does not have yet) — other errors still throw. */
export async function getOptional(path) {
  try {
    return await api.get(path);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 405)) return null;
    throw e;
  }
}

export async function login(name, password) {
  const s = await request('POST', '/session', {name, password}, {noRedirect: true});
  session = s;
  return s;
}

/** The current session, or null when not logged in. */
export async function loadSession() {
  try {
    session = await request('GET', '/session', undefined, {noRedirect: true});
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      session = null;
    } else {
      throw e;
    }
  }
  return session;
}

export async function logout() {
  try {
    await request('DELETE', '/session', undefined, {noRedirect: true});
  } finally {
    session = null;
  }
}
