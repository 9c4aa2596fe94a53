// The token form: shown when the API answers 401. The token stays in this tab's sessionStorage
// (never in a URL or a cookie) and goes out as `Authorization: Bearer` and, for the live feed,
// as the `bearer.<token>` WebSocket subprotocol.
import { useEffect, useRef, useState } from 'preact/hooks'
import { storedToken } from './api.js'
import { html } from './html.js'

export function TokenForm({ onSubmit, refused }) {
  const [token, setToken] = useState('')
  const input = useRef(undefined)
  useEffect(() => input.current?.focus(), [])
  return html`<section class="token card" aria-labelledby="token-title">
    <h1 id="token-title">This inspector needs a token</h1>
    <p>Enter a viewer or operator token (<code>inspector.tokens</code> in the app's configuration).
      It is kept for this tab only.</p>
    ${refused && storedToken() !== '' && html`<p class="error" role="alert">The token was refused. Check it and try again.</p>`}
    <form onSubmit=${(event) => {
      event.preventDefault()
      if (token.trim() !== '') onSubmit(token.trim())
    }}>
      <label for="token-input">Inspector token</label>
      <div class="row">
        <input id="token-input" ref=${input} type="password" autocomplete="off" spellcheck="false"
          value=${token} onInput=${(e) => setToken(e.currentTarget.value)} required />
        <button type="submit" class="primary">Open the inspector</button>
      </div>
    </form>
  </section>`
}
