// The inspector API client: every call carries the token kept in sessionStorage (if any), and a
// 401 tells the app to ask for one. Only this origin is ever contacted.

const tokenKey = 'keel-inspector-token'

/** A refused or failed API call: the HTTP status and the problem+json body. */
export class ApiError extends Error {
  /** @param {number} status @param {any} problem */
  constructor(status, problem) {
    super(problem?.detail ?? problem?.title ?? `the inspector API answered ${status}`)
    this.status = status
    this.problem = problem
  }
}

/** The token of this browser tab, or '' when none was entered. */
export function storedToken() {
  try {
    return sessionStorage.getItem(tokenKey) ?? ''
  } catch {
    return ''
  }
}

/** Keeps the token for this tab only (sessionStorage: gone when the tab closes). */
export function storeToken(token) {
  if (token) sessionStorage.setItem(tokenKey, token)
  else sessionStorage.removeItem(tokenKey)
}

/**
 * A client of `<base>/v1`. `onUnauthorized` runs when a call answers 401 (no token, or a wrong
 * one): the app then shows the token form.
 * @param {string} base the inspector path, `/_keel/inspector`
 * @param {() => void} onUnauthorized
 */
export function createApi(base, onUnauthorized) {
  async function request(method, path, body) {
    const headers = { accept: 'application/json' }
    const token = storedToken()
    if (token) headers.authorization = `Bearer ${token}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    const response = await fetch(`${base}/v1${path}`, {
      method,
      headers,
      credentials: 'omit',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await response.text()
    let data
    try {
      data = text === '' ? undefined : JSON.parse(text)
    } catch {
      data = { detail: text.slice(0, 200) }
    }
    if (response.status === 401) onUnauthorized()
    if (!response.ok) throw new ApiError(response.status, data)
    return data
  }
  return {
    base,
    /** @param {string} path under /v1 */
    get: (path) => request('GET', path),
    /** @param {string} path under /v1 @param {unknown} [body] */
    post: (path, body) => request('POST', path, body),
    /** @param {string} path under /v1 */
    del: (path) => request('DELETE', path),
  }
}
