// A button for operator actions (retry, discard, relay, breakpoints). For a viewer it stays
// focusable but inert, with the reason as its tooltip and description: a disabled button could not
// be reached with the keyboard, so a keyboard user would never learn why it does nothing.
import { useApp } from './hooks.js'
import { html } from './html.js'

const needsOperator = 'Needs the operator role: your token is a viewer token'

/**
 * A button that acts only for the operator role. `type="submit"` submits its form (Enter in a
 * field included) only when it is not inert; `onClick` is then optional.
 */
export function OperatorButton({ onClick, children, busy = false, className = '', label, type = 'button' }) {
  const { role } = useApp()
  const isOperator = role === 'operator'
  const inert = !isOperator || busy
  return html`<button type=${type} class=${`action ${className}`} aria-disabled=${inert ? 'true' : 'false'}
      title=${isOperator ? undefined : needsOperator} aria-label=${label}
      aria-description=${isOperator ? undefined : needsOperator}
      onClick=${(event) => {
        if (inert) event.preventDefault()
        else onClick?.(event)
      }}>${busy ? 'Working…' : children}</button>`
}
