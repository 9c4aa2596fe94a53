// A button for operator actions (retry, discard, relay). For a viewer it stays focusable but
// inert, with the reason as its tooltip and description: a disabled button could not be reached
// with the keyboard, so a keyboard user would never learn why it does nothing.
import { useApp } from './hooks.js'
import { html } from './html.js'

const needsOperator = 'Needs the operator role: your token is a viewer token'

/** A button that acts only for the operator role. */
export function OperatorButton({ onClick, children, busy = false, className = '', label }) {
  const { role } = useApp()
  const isOperator = role === 'operator'
  const inert = !isOperator || busy
  return html`<button type="button" class=${`action ${className}`} aria-disabled=${inert ? 'true' : 'false'}
      title=${isOperator ? undefined : needsOperator} aria-label=${label}
      aria-description=${isOperator ? undefined : needsOperator}
      onClick=${(event) => {
        if (!inert) onClick(event)
      }}>${busy ? 'Working…' : children}</button>`
}
