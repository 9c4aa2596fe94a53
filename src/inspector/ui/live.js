// The live feed: one WebSocket per tab to `<path>/v1/live`, the token offered as the
// `bearer.<token>` subprotocol (browsers cannot set Authorization on a WebSocket, and a query
// string would end up in proxy logs). While it is down, views poll the REST API instead, and the
// socket is retried with a bounded backoff.

const maxRetryDelayMs = 30_000

/** The live feed of the app, shared by the views. */
export class LiveHub {
  #socket
  #listeners = new Map()
  #stateListeners = new Set()
  #retries = 0
  #retryTimer
  #stopped = true
  #connect
  state = 'off'

  /**
   * Connects (and keeps reconnecting) to the feed.
   * @param {{ path: string, protocol: string }} live from the API's index
   * @param {string} token '' for none
   */
  start(live, token) {
    this.stop()
    this.#stopped = false
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
    const url = `${scheme}//${location.host}${live.path}`
    const protocols = token ? [live.protocol, `bearer.${token}`] : [live.protocol]
    this.#connect = () => {
      this.#setState(this.#retries === 0 ? 'connecting' : 'polling')
      let socket
      try {
        socket = new WebSocket(url, protocols)
      } catch {
        this.#scheduleRetry()
        return
      }
      this.#socket = socket
      socket.onopen = () => {
        this.#retries = 0
        this.#setState('live')
      }
      socket.onmessage = (event) => {
        let message
        try {
          message = JSON.parse(event.data)
        } catch {
          return
        }
        for (const listener of this.#listeners.get(message.type) ?? []) listener(message)
      }
      socket.onclose = () => {
        if (this.#socket === socket) this.#socket = undefined
        if (!this.#stopped) this.#scheduleRetry()
      }
    }
    this.#connect()
  }

  /** Closes the socket and stops retrying. */
  stop() {
    this.#stopped = true
    clearTimeout(this.#retryTimer)
    this.#socket?.close(1000)
    this.#socket = undefined
    this.#retries = 0
    this.#setState('off')
  }

  /** Calls `listener` with every message of `type` (`trace`, `metrics`); returns the unsubscribe. */
  on(type, listener) {
    let set = this.#listeners.get(type)
    if (!set) {
      set = new Set()
      this.#listeners.set(type, set)
    }
    set.add(listener)
    return () => set.delete(listener)
  }

  /** Calls `listener` with the state (`off`, `connecting`, `live`, `polling`) when it changes. */
  onState(listener) {
    this.#stateListeners.add(listener)
    return () => this.#stateListeners.delete(listener)
  }

  #scheduleRetry() {
    this.#setState('polling')
    const delay = Math.min(maxRetryDelayMs, 1000 * 2 ** Math.min(this.#retries, 5))
    this.#retries++
    clearTimeout(this.#retryTimer)
    this.#retryTimer = setTimeout(() => {
      if (!this.#stopped) this.#connect()
    }, delay)
  }

  #setState(state) {
    if (this.state === state) return
    this.state = state
    for (const listener of this.#stateListeners) listener(state)
  }
}
