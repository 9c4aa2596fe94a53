// Dead letters: flow runs and jobs that exhausted their retries, with Retry and Discard for
// operators. An action's status stays on screen: sent, accepted, then resolved once the entry
// leaves the list (or "dead again" if it comes back failed).
import { useEffect, useState } from 'preact/hooks'
import { dateTime, pretty } from '../format.js'
import { useApp, usePoll } from '../hooks.js'
import { html } from '../html.js'
import { OperatorButton } from '../operator-button.js'

const keyOf = (letter) => `${letter.kind}:${letter.id}`

const describe = {
  sending: (a) => (a.action === 'retry' ? 'Retrying…' : 'Discarding…'),
  accepted: (a) => (a.action === 'retry' ? 'Retry accepted, running' : 'Discard accepted'),
  resolved: (a) => (a.action === 'retry' ? 'Retried: no longer dead' : 'Discarded'),
  'dead-again': () => 'Dead again',
  failed: (a) => `${a.action === 'retry' ? 'Retry' : 'Discard'} refused: ${a.message}`,
}

export function DeadLettersView() {
  const { api } = useApp()
  const [kind, setKind] = useState('')
  const { data, error, reload } = usePoll(
    () => api.get(`/dead-letters${kind ? `?kind=${kind}` : ''}`),
    3000,
    [kind],
  )
  // key → { letter, action, state, message, at }
  const [actions, setActions] = useState(new Map())
  const letters = data?.deadLetters ?? []

  useEffect(() => {
    if (!data) return
    setActions((previous) => {
      let changed = false
      const next = new Map(previous)
      const listed = new Map(data.deadLetters.map((l) => [keyOf(l), l]))
      for (const [key, entry] of previous) {
        if (entry.state !== 'accepted') continue
        const letter = listed.get(key)
        if (!letter) next.set(key, { ...entry, state: 'resolved' })
        else if (Date.parse(letter.failedAt) > entry.at) next.set(key, { ...entry, state: 'dead-again' })
        else continue
        changed = true
      }
      return changed ? next : previous
    })
  }, [data])

  const act = async (letter, action) => {
    const key = keyOf(letter)
    const update = (fields) =>
      setActions((previous) =>
        new Map(previous).set(key, { letter, action, at: Date.now(), ...previous.get(key), ...fields }),
      )
    update({ action, state: 'sending', at: Date.now() })
    try {
      await api.post(`/dead-letters/${letter.kind}/${encodeURIComponent(letter.id)}/${action}`)
      update({ state: 'accepted' })
    } catch (failure) {
      update({ state: 'failed', message: failure.message })
    }
    reload()
  }

  const recent = [...actions.values()].filter((a) => !letters.some((l) => keyOf(l) === keyOf(a.letter)))
  return html`<section aria-labelledby="view-title">
    <div class="view-head">
      <h1 id="view-title" tabindex="-1">Dead letters</h1>
      <label class="filter">Kind
        <select data-filter value=${kind} onChange=${(e) => setKind(e.currentTarget.value)}>
          <option value="">Flows and jobs</option><option value="flow">Flow runs</option><option value="job">Jobs</option>
        </select>
      </label>
    </div>
    ${data && html`<p class="muted small">Read from flows modules: ${data.sources.flows.join(', ') || 'none'} · jobs modules: ${data.sources.jobs.join(', ') || 'none'}</p>`}
    ${error && html`<p class="error" role="alert">${error.message}</p>`}
    ${data && letters.length === 0 && html`<p class="muted empty">Nothing is dead. Runs and jobs that exhaust their retries wait here.</p>`}
    ${
      letters.length > 0 &&
      html`<table class="grid dead-letters">
      <thead><tr><th scope="col">What</th><th scope="col">Failed</th><th scope="col">Error</th>
        <th scope="col" class="num">Attempts</th><th scope="col">Status</th><th scope="col">Actions</th></tr></thead>
      <tbody>
        ${letters.map((letter) => {
          const action = actions.get(keyOf(letter))
          const busy = action?.state === 'sending'
          return html`<tr key=${keyOf(letter)} data-dead-letter=${letter.id}>
            <th scope="row"><span class="tag">${letter.kind}</span> ${letter.name}
              <div class="small muted"><code>${letter.id}</code></div>
              ${letter.data !== undefined && html`<details><summary>Data</summary><pre class="json">${pretty(letter.data)}</pre></details>`}
            </th>
            <td>${dateTime(letter.failedAt)}</td>
            <td class="bad">${letter.error.step && html`<span class="tag">${letter.error.step}${letter.error.phase ? ` · ${letter.error.phase}` : ''}</span> `}${letter.error.message}
              ${letter.error.code && html`<div class="small muted"><code>${letter.error.code}</code></div>`}</td>
            <td class="num">${letter.attempts ?? '–'}</td>
            <td class="action-status" role="status">${action ? describe[action.state](action) : 'dead'}</td>
            <td class="buttons">
              <${OperatorButton} busy=${busy} className="primary" label=${`Retry ${letter.kind} ${letter.id}`} onClick=${() => act(letter, 'retry')}>Retry<//>
              <${OperatorButton} busy=${busy} className="danger" label=${`Discard ${letter.kind} ${letter.id}`} onClick=${() => act(letter, 'discard')}>Discard<//>
            </td>
          </tr>`
        })}
      </tbody>
    </table>`
    }
    ${
      recent.length > 0 &&
      html`<section class="recent-actions" aria-labelledby="recent-title">
      <h2 id="recent-title">Recent actions</h2>
      <ul>
        ${recent.map(
          (a) => html`<li key=${keyOf(a.letter)} data-action-for=${a.letter.id} class=${`state-${a.state}`}>
            <span class="tag">${a.letter.kind}</span> ${a.letter.name} <code>${a.letter.id}</code>:${' '}
            <strong class="action-status">${describe[a.state](a)}</strong>
          </li>`,
        )}
      </ul>
    </section>`
    }
  </section>`
}
