// The inspector UI's entry: asks the API who we are (a 401 shows the token form), opens the live
// feed, and renders the view named in the URL hash (#/routes, #/traces/<id>?status=error, …).
// Keyboard: g then r/f/t/m/d/s/b switches views, / focuses the view's filter, ? lists the keys.
import { render } from 'preact'
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { createApi, storedToken, storeToken } from './api.js'
import { AppContext, useLiveState } from './hooks.js'
import { html } from './html.js'
import { LiveHub } from './live.js'
import { TokenForm } from './token-form.js'
import { BreakpointsView } from './views/breakpoints.js'
import { DeadLettersView } from './views/dead-letters.js'
import { FlowsView } from './views/flows.js'
import { MetricsView } from './views/metrics.js'
import { RoutesView } from './views/routes.js'
import { StallsView } from './views/stalls.js'
import { TracesView } from './views/traces.js'

const views = [
  { id: 'routes', key: 'r', label: 'Routes', View: RoutesView },
  { id: 'flows', key: 'f', label: 'Flows', View: FlowsView },
  { id: 'traces', key: 't', label: 'Traces', View: TracesView },
  { id: 'metrics', key: 'm', label: 'Metrics', View: MetricsView },
  { id: 'dead-letters', key: 'd', label: 'Dead letters', View: DeadLettersView },
  { id: 'stalls', key: 's', label: 'Stalls', View: StallsView },
  { id: 'breakpoints', key: 'b', label: 'Breakpoints', View: BreakpointsView },
]

/** `#/traces/abc?status=error` → `{ view: 'traces', params: ['abc'], query }`. */
function parseHash(hash) {
  const [path, search = ''] = hash.replace(/^#\/?/, '').split('?')
  const [view = '', ...params] = path.split('/').filter(Boolean).map(decodeURIComponent)
  const known = views.some((v) => v.id === view)
  return { view: known ? view : 'routes', params: known ? params : [], query: new URLSearchParams(search) }
}

function useRoute() {
  const [route, setRoute] = useState(() => parseHash(location.hash))
  useEffect(() => {
    const onChange = () => setRoute(parseHash(location.hash))
    addEventListener('hashchange', onChange)
    return () => removeEventListener('hashchange', onChange)
  }, [])
  return route
}

const isTyping = (target) =>
  target instanceof HTMLElement &&
  (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))

/** g+letter, /, ? and Escape. */
function useShortcuts({ navigate, toggleHelp }) {
  useEffect(() => {
    let pendingG = 0
    const onKey = (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey) return
      if (event.key === 'Escape') {
        if (isTyping(event.target)) event.target.blur()
        return
      }
      if (isTyping(event.target)) return
      if (pendingG && Date.now() - pendingG < 1500) {
        pendingG = 0
        const view = views.find((v) => v.key === event.key)
        if (view) {
          event.preventDefault()
          navigate(view.id)
        }
        return
      }
      if (event.key === 'g') {
        pendingG = Date.now()
      } else if (event.key === '/') {
        const filter = document.querySelector('main [data-filter]')
        if (filter) {
          event.preventDefault()
          filter.focus()
        }
      } else if (event.key === '?') {
        event.preventDefault()
        toggleHelp()
      }
    }
    document.addEventListener('keydown', onKey)
    return () => document.removeEventListener('keydown', onKey)
  }, [navigate, toggleHelp])
}

function Help({ open, close }) {
  const dialog = useRef(undefined)
  useEffect(() => {
    const element = dialog.current
    if (!element) return
    if (open && !element.open) element.showModal()
    if (!open && element.open) element.close()
  }, [open])
  return html`<dialog ref=${dialog} class="help" aria-labelledby="help-title" onClose=${close}>
    <h2 id="help-title">Keyboard shortcuts</h2>
    <dl class="keys">
      ${views.map((v) => html`<dt key=${v.id}><kbd>g</kbd> <kbd>${v.key}</kbd></dt><dd>${v.label}</dd>`)}
      <dt><kbd>/</kbd></dt><dd>Focus the view's filter</dd>
      <dt><kbd>Esc</kbd></dt><dd>Leave a field, close this</dd>
      <dt><kbd>↑</kbd> <kbd>↓</kbd></dt><dd>Move between spans of a waterfall</dd>
      <dt><kbd>?</kbd></dt><dd>This list</dd>
    </dl>
    <form method="dialog"><button type="submit" class="primary">Close</button></form>
  </dialog>`
}

function LiveIndicator() {
  const state = useLiveState()
  const text = { live: 'Live', polling: 'Polling', connecting: 'Connecting', off: 'Offline' }[state] ?? state
  return html`<span class=${`live-badge ${state}`} title="The live feed (WebSocket); views poll while it is down">${text}</span>`
}

function App({ base, title }) {
  const [auth, setAuth] = useState({ state: 'checking', refused: false })
  const [info, setInfo] = useState(undefined)
  const [helpOpen, setHelpOpen] = useState(false)
  const live = useMemo(() => new LiveHub(), [])
  const api = useMemo(
    () =>
      createApi(base, () => setAuth((a) => (a.state === 'needed' ? a : { state: 'needed', refused: true }))),
    [base],
  )
  const route = useRoute()
  const main = useRef(undefined)
  const previousView = useRef(route.view)

  const check = useCallback(async () => {
    try {
      const index = await api.get('')
      setInfo(index)
      setAuth({ state: 'ok', refused: false })
      live.start(index.live, storedToken())
    } catch (error) {
      live.stop()
      if (error.status !== 401) setAuth({ state: 'error', refused: false, message: error.message })
    }
  }, [api, live])

  useEffect(() => {
    check()
    return () => live.stop()
  }, [check, live])

  const navigate = useCallback((target) => {
    location.hash = `#/${target}`
  }, [])
  const toggleHelp = useCallback(() => setHelpOpen((open) => !open), [])
  useShortcuts({ navigate, toggleHelp })

  // A new view gets the focus on its heading, so keyboard and screen reader users land in it.
  useEffect(() => {
    if (previousView.current === route.view) return
    previousView.current = route.view
    requestAnimationFrame(() => main.current?.querySelector('#view-title')?.focus())
  }, [route.view])

  useEffect(() => {
    const label = views.find((v) => v.id === route.view)?.label
    document.title = `${label} · ${title} · Keel inspector`
  }, [route.view, title])

  const role = info?.role
  const context = useMemo(() => ({ api, info, live, role, navigate }), [api, info, live, role, navigate])
  const current = views.find((v) => v.id === route.view)
  const hasToken = storedToken() !== ''

  return html`<${AppContext.Provider} value=${context}>
    <a class="skip" href="#main-content" onClick=${(e) => {
      e.preventDefault()
      main.current?.focus()
    }}>Skip to content</a>
    <header class="top" role="banner">
      <div class="brand"><strong>${info?.service.name ?? title}</strong>
        ${info && html`<span class="muted small"> ${info.service.version} · ${info.profile}</span>`}
        <span class="muted small"> · inspector</span></div>
      <nav aria-label="Views">
        <ul>
          ${views.map(
            (
              v,
            ) => html`<li key=${v.id}><a href=${`#/${v.id}`} aria-current=${v.id === route.view ? 'page' : undefined}
              aria-keyshortcuts=${`g ${v.key}`}>${v.label}</a></li>`,
          )}
        </ul>
      </nav>
      <div class="session">
        ${auth.state === 'ok' && html`<${LiveIndicator} />`}
        ${role && html`<span class="tag" title="Your role">${role}</span>`}
        ${
          hasToken &&
          html`<button type="button" class="ghost" onClick=${() => {
            storeToken('')
            live.stop()
            setInfo(undefined)
            setAuth({ state: 'checking', refused: false })
            check()
          }}>Forget token</button>`
        }
        <button type="button" class="ghost" aria-label="Keyboard shortcuts" aria-keyshortcuts="?" onClick=${toggleHelp}>?</button>
      </div>
    </header>
    <main id="main-content" ref=${main} tabindex="-1">
      ${auth.state === 'checking' && html`<p class="muted">Connecting…</p>`}
      ${auth.state === 'error' && html`<p class="error" role="alert">The inspector API failed: ${auth.message}</p>`}
      ${
        auth.state === 'needed' &&
        html`<${TokenForm} refused=${auth.refused && hasToken} onSubmit=${(token) => {
          storeToken(token)
          setAuth({ state: 'checking', refused: false })
          check()
        }} />`
      }
      ${auth.state === 'ok' && current && html`<${current.View} key=${current.id} params=${route.params} query=${route.query} />`}
    </main>
    <${Help} open=${helpOpen} close=${() => setHelpOpen(false)} />
  <//>`
}

const root = document.getElementById('app')
root.textContent = ''
render(html`<${App} base=${root.dataset.base} title=${root.dataset.title} />`, root)
