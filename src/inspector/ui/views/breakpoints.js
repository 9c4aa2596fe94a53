// Breakpoints (dev and test profiles): stop a flow's runs before a step, optionally only when the
// step's input holds a value at a JSON pointer; see the runs held there with their input, and let
// each go on one step at a time (Step) or to its end (Resume). Held runs arrive with the live
// feed's `paused` messages, and the view polls every 2 s besides. Outside dev and test the API has
// no breakpoint routes (404): the view says so and stops asking.
import { useEffect, useRef, useState } from 'preact/hooks'
import { clock, dateTime, pretty } from '../format.js'
import { useApp, useLiveMessages, usePoll } from '../hooks.js'
import { html } from '../html.js'
import { OperatorButton } from '../operator-button.js'

const pollMs = 2000
const maxRecent = 10
const developmentProfiles = new Set(['dev', 'test'])

/**
 * The names a breakpoint can stop before in a flow's schematic: its steps and branch deciders,
 * as the API counts them, in schematic order.
 * @param {{ nodes: { kind: string, name: string }[] }} schematic
 */
export function stepsOf(schematic) {
  const names = schematic.nodes.filter((n) => n.kind === 'step' || n.kind === 'branch').map((n) => n.name)
  return [...new Set(names)]
}

/**
 * The flows of a `/v1/flows` answer a breakpoint can name, each with its steps; a flow listed by
 * two modules appears once, and a flow without steps not at all.
 * @param {{ name: string, schematic: any }[]} flows
 * @returns {{ flow: string, steps: string[] }[]}
 */
export function flowChoices(flows) {
  const choices = new Map()
  for (const flow of flows) {
    if (!choices.has(flow.name)) choices.set(flow.name, { flow: flow.name, steps: stepsOf(flow.schematic) })
  }
  return [...choices.values()].filter((choice) => choice.steps.length > 0)
}

/**
 * A JSON value typed by a person: `{ value }`, or `{ error }` saying what is wrong, with the fix
 * for the usual slip (a string without its double quotes).
 * @param {string} text
 */
export function parseJsonValue(text) {
  try {
    return { value: JSON.parse(text) }
  } catch (error) {
    const reason = String(error.message).replace(/\.$/, '')
    let hint = ''
    if (/^'.*'$/s.test(text)) {
      hint = ` JSON strings take double quotes: ${JSON.stringify(text.slice(1, -1))}`
    } else if (/^[^"[{\d-]/.test(text)) hint = ` A string needs double quotes: ${JSON.stringify(text)}`
    return { error: `Not valid JSON (${reason}).${hint}` }
  }
}

/**
 * The `when` of a new breakpoint from the form's pointer and value fields, or why they are not
 * one. Both empty: no condition, every run stops. Surrounding spaces are dropped from both.
 * @param {string} pointerText an RFC 6901 pointer into the step's input: `/amount`, `/items/0/sku`
 * @param {string} equalsText the value to compare with, as JSON: `500`, `"NL"`, `true`
 * @returns {{ when?: { pointer: string, equals: unknown }, errors: { pointer?: string, equals?: string } }}
 */
export function parseCondition(pointerText, equalsText) {
  const pointer = pointerText.trim()
  const equals = equalsText.trim()
  if (pointer === '' && equals === '') return { errors: {} }
  const errors = {}
  if (pointer === '') {
    errors.pointer = 'Give the JSON pointer to compare, e.g. /amount (or clear the value to stop every run)'
  } else if (!pointer.startsWith('/')) {
    errors.pointer = `A JSON pointer starts with a slash: /${pointer}`
  }
  let value
  if (equals === '') {
    errors.equals = 'Give the value to compare with, as JSON: 500, "NL", true or null'
  } else {
    const parsed = parseJsonValue(equals)
    if ('error' in parsed) errors.equals = parsed.error
    else value = parsed.value
  }
  if (errors.pointer || errors.equals) return { errors }
  return { when: { pointer, equals: value }, errors }
}

/** `/amount = 500`, or `every run` for a breakpoint without a condition. */
export function describeCondition(when) {
  return when ? `${when.pointer} = ${JSON.stringify(when.equals)}` : 'every run'
}

/**
 * What became of a Step or Resume sent for a held run, from the action and the run as listed now
 * (undefined when it is not). `action.run` is the run as it was held when the button was pressed:
 * the same run listed with another step or hold time has been held again since.
 * @param {{ mode: 'step' | 'resume', state: 'sending' | 'accepted' | 'failed', run: any, message?: string }} action
 * @param {any} [listed]
 * @returns {{ state: string, text: string }}
 */
export function actionStatus(action, listed) {
  const { mode, run } = action
  if (action.state === 'sending')
    return { state: 'sending', text: mode === 'step' ? 'Stepping…' : 'Resuming…' }
  if (action.state === 'failed') {
    return { state: 'failed', text: `${mode === 'step' ? 'Step' : 'Resume'} refused: ${action.message}` }
  }
  if (listed && listed.step === run.step && listed.pausedAt === run.pausedAt) {
    return {
      state: 'accepted',
      text: mode === 'step' ? `Step accepted: running ${run.step}` : 'Resume accepted',
    }
  }
  if (listed) {
    return {
      state: 'held-again',
      text:
        mode === 'step'
          ? `Ran ${run.step}, now held before ${listed.step}`
          : `Resumed, then held again before ${listed.step}`,
    }
  }
  return mode === 'step'
    ? { state: 'ran-on', text: `Ran ${run.step}; not held now` }
    : { state: 'resumed', text: 'Resumed: no longer held' }
}

const pointLabel = (point) => `${point.flow} · ${point.step}`

export function BreakpointsView() {
  const { api, info } = useApp()
  // Set once the API says breakpoints are not served here (404) or not to this token (403).
  const unavailable = useRef(undefined)
  const { data, error, reload } = usePoll(async () => {
    if (unavailable.current) return unavailable.current
    try {
      // One after the other: where the routes do not exist, one 404 is enough.
      const { breakpoints } = await api.get('/breakpoints')
      const { paused } = await api.get('/paused')
      return { breakpoints, paused }
    } catch (failure) {
      if (failure.status !== 404 && failure.status !== 403) throw failure
      unavailable.current = { unavailable: failure.status }
      return unavailable.current
    }
  }, pollMs)
  useLiveMessages('paused', () => reload())
  const [notice, setNotice] = useState(undefined)

  return html`<section aria-labelledby="view-title" class="breakpoints-view">
    <div class="view-head">
      <h1 id="view-title" tabindex="-1">Breakpoints</h1>
      ${data && !data.unavailable && html`<span class="muted small">Held runs arrive live; the lists refresh every 2 s</span>`}
    </div>
    ${error && html`<p class="error" role="alert">${error.message}</p>`}
    ${!data && !error && html`<p class="muted">Loading…</p>`}
    ${data?.unavailable && html`<${Unavailable} status=${data.unavailable} profile=${info?.profile} />`}
    ${
      data &&
      !data.unavailable &&
      html`<div class="breakpoints-top">
        <${BreakpointList} breakpoints=${data.breakpoints} reload=${reload} setNotice=${setNotice} />
        <${BreakpointForm} reload=${reload} setNotice=${setNotice} />
      </div>
      <div role="status">${notice?.kind === 'ok' && html`<p class="notice" data-notice>${notice.text}</p>`}</div>
      ${notice?.kind === 'error' && html`<p class="error notice" role="alert" data-notice>${notice.text}</p>`}
      <${HeldRuns} paused=${data.paused} breakpoints=${data.breakpoints} reload=${reload} />`
    }
  </section>`
}

function Unavailable({ status, profile }) {
  let title
  let reason
  if (status === 403) {
    title = 'Not available to a viewer'
    reason = html`Breakpoints need the operator role, and your token is a viewer token.`
  } else if (profile !== undefined && developmentProfiles.has(profile)) {
    title = 'Not available in this app'
    reason = html`The inspector was given no flows modules whose runs a breakpoint could stop.
      Pass them as <code>inspector({ flows: [orders] })</code>.`
  } else {
    title = 'Not available in this profile'
    reason = html`Breakpoints exist in the dev and test profiles only${profile ? html`, and this app runs in profile <strong>${profile}</strong>` : ''}.
      A breakpoint holds a run, and its worker slot, until someone lets it go: not something to do to production runs by hand.`
  }
  return html`<div class="card unavailable" data-unavailable=${status}>
    <h2>${title}</h2>
    <p>${reason}</p>
  </div>`
}

function BreakpointList({ breakpoints, reload, setNotice }) {
  const { api } = useApp()
  const [removing, setRemoving] = useState(undefined)
  const heading = useRef(undefined)

  const remove = async (point) => {
    setRemoving(point.id)
    try {
      await api.del(`/breakpoints/${encodeURIComponent(point.id)}`)
      const held = point.hits === 1 ? '1 run' : `${point.hits} runs`
      setNotice({ kind: 'ok', text: `Removed the breakpoint on ${pointLabel(point)} (it stopped ${held}).` })
      // The row (and the focused button in it) goes away: keep the keyboard in this list.
      heading.current?.focus()
    } catch (failure) {
      setNotice({
        kind: 'error',
        text: `Removing the breakpoint on ${pointLabel(point)} failed: ${failure.message}`,
      })
    } finally {
      setRemoving(undefined)
    }
    reload()
  }

  return html`<section class="card" aria-labelledby="breakpoints-title">
    <h2 id="breakpoints-title" ref=${heading} tabindex="-1">Current breakpoints</h2>
    ${breakpoints.length === 0 && html`<p class="muted empty" data-empty="breakpoints">No breakpoint is set. Runs go through every step.</p>`}
    ${
      breakpoints.length > 0 &&
      html`<table class="grid compact breakpoint-list">
      <caption class="sr-only">Breakpoints set on flow steps</caption>
      <thead><tr><th scope="col">Before step</th><th scope="col">When</th><th scope="col" class="num">Runs stopped</th>
        <th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>
        ${breakpoints.map(
          (point) => html`<tr key=${point.id} data-breakpoint=${point.id}>
            <th scope="row">${point.flow} · <strong>${point.step}</strong></th>
            <td><code>${describeCondition(point.when)}</code></td>
            <td class="num">${point.hits}</td>
            <td class="actions"><${OperatorButton} className="danger" busy=${removing === point.id}
              label=${`Remove the breakpoint on ${pointLabel(point)}`} onClick=${() => remove(point)}>Remove<//></td>
          </tr>`,
        )}
      </tbody>
    </table>`
    }
    <p class="muted small">Removing a breakpoint lets no held run go: Step or Resume them below.</p>
  </section>`
}

function BreakpointForm({ reload, setNotice }) {
  const { api, role } = useApp()
  const flows = usePoll(() => api.get('/flows'), 0)
  const choices = flowChoices(flows.data?.flows ?? [])
  const [flow, setFlow] = useState('')
  const [step, setStep] = useState('')
  const [pointer, setPointer] = useState('')
  const [equals, setEquals] = useState('')
  // Errors show from the first Set on, then follow the typing. Not on blur: an error appearing
  // as the field loses the focus to the button moves the button away from under the pointer.
  const [isChecked, setIsChecked] = useState(false)
  const [busy, setBusy] = useState(false)
  const pointerInput = useRef(undefined)
  const equalsInput = useRef(undefined)

  // The chosen flow and step, or the first ones until the user picks.
  const chosen = choices.find((c) => c.flow === flow) ?? choices[0]
  const chosenStep = chosen?.steps.includes(step) ? step : chosen?.steps[0]
  const { when, errors } = parseCondition(pointer, equals)
  const shown = isChecked ? errors : {}

  const submit = async (event) => {
    event.preventDefault()
    if (role !== 'operator' || busy || !chosen || !chosenStep) return
    setIsChecked(true)
    if (errors.pointer || errors.equals) {
      ;(errors.pointer ? pointerInput : equalsInput).current?.focus()
      return
    }
    setBusy(true)
    try {
      const point = await api.post('/breakpoints', {
        flow: chosen.flow,
        step: chosenStep,
        ...(when ? { when } : {}),
      })
      setNotice({
        kind: 'ok',
        text: `Breakpoint set: ${pointLabel(point)}, ${point.when ? `when ${describeCondition(point.when)}` : 'every run'}.`,
      })
      setIsChecked(false)
    } catch (failure) {
      setNotice({ kind: 'error', text: `The breakpoint was refused: ${failure.message}` })
    } finally {
      setBusy(false)
    }
    reload()
  }

  const field = (name, value, set, input, label, placeholder, hint) => {
    const id = `breakpoint-${name}`
    const describedBy = [`${id}-hint`, shown[name] ? `${id}-error` : ''].filter(Boolean).join(' ')
    return html`<div class="field">
      <label for=${id}>${label}</label>
      <input id=${id} ref=${input} type="text" spellcheck="false" autocomplete="off" value=${value}
        placeholder=${placeholder} aria-invalid=${shown[name] ? 'true' : 'false'} aria-describedby=${describedBy}
        onInput=${(e) => set(e.currentTarget.value)} />
      <span class="muted small" id=${`${id}-hint`}>${hint}</span>
      ${shown[name] && html`<p class="field-error" id=${`${id}-error`} data-error-for=${name}>${shown[name]}</p>`}
    </div>`
  }

  return html`<section class="card" aria-labelledby="breakpoint-form-title">
    <h2 id="breakpoint-form-title">Set a breakpoint</h2>
    ${flows.error && html`<p class="error" role="alert">The flows could not be read: ${flows.error.message}</p>`}
    ${flows.data && choices.length === 0 && html`<p class="muted">This app has no flow steps to stop before.</p>`}
    ${
      chosen &&
      html`<form class="breakpoint-form" noValidate onSubmit=${submit}>
      <div class="field-row">
        <div class="field">
          <label for="breakpoint-flow">Flow</label>
          <select id="breakpoint-flow" value=${chosen.flow} onChange=${(e) => {
            setFlow(e.currentTarget.value)
            setStep('')
          }}>
            ${choices.map((c) => html`<option key=${c.flow} value=${c.flow}>${c.flow}</option>`)}
          </select>
        </div>
        <div class="field">
          <label for="breakpoint-step">Before step</label>
          <select id="breakpoint-step" value=${chosenStep} onChange=${(e) => setStep(e.currentTarget.value)}>
            ${chosen.steps.map((s) => html`<option key=${s} value=${s}>${s}</option>`)}
          </select>
        </div>
      </div>
      <fieldset>
        <legend>Only when the step's input matches (optional)</legend>
        ${field('pointer', pointer, setPointer, pointerInput, 'JSON pointer', '/amount', html`Into the step's input: the flow's input for the first step, else what the step before returned. <code>/items/0/sku</code>`)}
        ${field('equals', equals, setEquals, equalsInput, 'equals (JSON)', '500', html`Compared as JSON: <code>500</code>, <code>"NL"</code>, <code>true</code>`)}
      </fieldset>
      <div class="buttons">
        <${OperatorButton} type="submit" className="primary" busy=${busy}>Set breakpoint<//>
      </div>
    </form>`
    }
  </section>`
}

function HeldRuns({ paused, breakpoints, reload }) {
  const { api } = useApp()
  // runId → { run, mode, state, message, order }: what was sent for each run, kept on screen.
  const [actions, setActions] = useState(new Map())
  const heading = useRef(undefined)
  // The run whose card had the focus when its button was pressed, until that card goes.
  const focusedRun = useRef(undefined)
  const listed = new Map(paused.map((run) => [run.runId, run]))

  // The card goes when its run runs on, and the focus with it: keep the keyboard in this section.
  useEffect(() => {
    const runId = focusedRun.current
    if (runId === undefined || listed.has(runId)) return
    focusedRun.current = undefined
    if (document.activeElement === document.body) heading.current?.focus()
  }, [paused])

  const act = async (run, mode) => {
    const order = Date.now()
    focusedRun.current = run.runId
    const update = (fields) =>
      setActions((previous) => new Map(previous).set(run.runId, { ...previous.get(run.runId), ...fields }))
    update({ run, mode, state: 'sending', message: undefined, order })
    try {
      await api.post(`/paused/${encodeURIComponent(run.runId)}/${mode}`)
      update({ state: 'accepted' })
    } catch (failure) {
      update({ state: 'failed', message: failure.message })
    }
    reload()
  }

  const recent = [...actions.values()]
    .filter((a) => !listed.has(a.run.runId))
    .sort((a, b) => b.order - a.order)
    .slice(0, maxRecent)

  return html`<section aria-labelledby="held-title" class="held-runs">
    <h2 id="held-title" ref=${heading} tabindex="-1">Held runs${paused.length > 0 ? ` (${paused.length})` : ''}</h2>
    ${paused.length === 0 && html`<p class="muted empty" data-empty="paused">No run is held. A run that reaches a breakpoint waits here, with its input.</p>`}
    ${paused.map((run) => {
      const action = actions.get(run.runId)
      const status = action ? actionStatus(action, run) : undefined
      return html`<${HeldRun} key=${run.runId} run=${run} breakpoints=${breakpoints} status=${status}
        busy=${action?.state === 'sending'} act=${act} />`
    })}
    ${
      recent.length > 0 &&
      html`<section class="recent-actions" aria-labelledby="held-recent-title">
      <h3 id="held-recent-title">Recent actions</h3>
      <ul>
        ${recent.map((action) => {
          const status = actionStatus(action, undefined)
          return html`<li key=${action.run.runId} data-action-for=${action.run.runId} class=${`state-${status.state}`}>
            ${action.run.flow} <code>${action.run.runId}</code>, held before ${action.run.step}:${' '}
            <strong class="action-status">${status.text}</strong>
          </li>`
        })}
      </ul>
    </section>`
    }
  </section>`
}

function HeldRun({ run, breakpoints, status, busy, act }) {
  const id = `held-${run.runId.replace(/[^A-Za-z0-9_-]/g, '_')}`
  const point = breakpoints.find((p) => p.id === run.breakpointId)
  let heldBy = 'a Step: it ran the step before and stopped here'
  if (run.breakpointId !== null) {
    heldBy = point
      ? `the breakpoint on ${pointLabel(point)}, ${describeCondition(point.when)}`
      : 'a breakpoint since removed'
  }
  return html`<article class="card held-run" data-paused-run=${run.runId} aria-labelledby=${`${id}-title`}>
    <header class="card-head">
      <h3 id=${`${id}-title`}><span class="tag">${run.flow}</span> <code>${run.runId}</code> held before <strong data-held-step>${run.step}</strong></h3>
    </header>
    <dl class="facts">
      <dt>Step key</dt><dd><code>${run.key}</code></dd>
      <dt>Held at</dt><dd><time datetime=${new Date(run.pausedAt).toISOString()}>${dateTime(run.pausedAt)}</time>
        <span class="muted small"> (${clock(run.pausedAt)})</span></dd>
      <dt>Held by</dt><dd data-held-by>${heldBy}</dd>
    </dl>
    <h4 class="small" id=${`${id}-input`}>Input of ${run.step}</h4>
    <pre class="json held-input" tabindex="0" aria-labelledby=${`${id}-input`}>${pretty(run.input)}</pre>
    <div class="buttons">
      <${OperatorButton} className="primary" busy=${busy} label=${`Step ${run.runId}`}
        onClick=${() => act(run, 'step')}>Step<//>
      <${OperatorButton} busy=${busy} label=${`Resume ${run.runId}`} onClick=${() => act(run, 'resume')}>Resume<//>
      <span class=${`action-status state-${status?.state ?? 'held'}`} role="status">${status?.text ?? 'held'}</span>
    </div>
    <p class="muted small">Step runs ${run.step} and holds the run before its next step; Resume lets it run on to its end.</p>
  </article>`
}
