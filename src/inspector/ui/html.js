// The UI's template tag: htm over Preact's h(), so the views are plain ES modules with no build step.
import htm from 'htm'
import { h } from 'preact'

/** Tagged template that builds Preact elements: html`<p>${text}</p>`. */
export const html = htm.bind(h)
