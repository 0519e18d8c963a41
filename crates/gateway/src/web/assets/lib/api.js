// The client calls the same /v1 routes as any other client. The session is the
// HttpOnly cookie; unsafe methods echo the readable cordee_csrf cookie in
// X-CSRF-Token (double submit). Nothing is stored in the browser beyond the page.

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem && problem.detail ? problem.detail : `HTTP ${status}`);
    this.status = status;
    this.code = problem && problem.code ? problem.code : status === 0 ? 'network' : `http.${status}`;
    this.problem = problem || null;
  }
}

let onUnauthorized = () => {};
/** Called when the session is gone (401): the app shows the login screen. */
export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

function csrf() {
  const m = document.cookie.match(/(?:^|;\s*)cordee_csrf=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : '';
}

export async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  let payload;
  if (body instanceof Blob) {
    payload = body;
    headers['Content-Type'] = body.type || 'application/octet-stream';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  if (method !== 'GET') headers['X-CSRF-Token'] = csrf();
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiError(0, null);
  }
  if (!res.ok) {
    let problem = null;
    try {
      problem = await res.json();
    } catch {
      /* not JSON: keep the status */
    }
    const error = new ApiError(res.status, problem);
    if (res.status === 401) onUnauthorized(error);
    throw error;
  }
  if (res.status === 204) return null;
  return (res.headers.get('content-type') || '').includes('json') ? res.json() : res;
}

export const get = (path) => request('GET', path);
export const post = (path, body = {}) => request('POST', path, body);
export const put = (path, body) => request('PUT', path, body);
export const patch = (path, body) => request('PATCH', path, body);
export const del = (path) => request('DELETE', path);

/** The raw bytes of an attachment (cookie-authenticated, never cached). */
export async function fetchBlob(path) {
  let res;
  try {
    res = await fetch(path, { credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiError(0, null);
  }
  if (!res.ok) throw new ApiError(res.status, null);
  return res.blob();
}

/** An id for a message (retries reuse it, so a retry never sends twice). */
export function clientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
