/**
 * Deployment artifacts are generated on a developer's machine or in CI, where the variables a
 * profile needs from its environment (`${TODO_JWT_SECRET}` without a default) are not set and must
 * not be. The app is loaded with a recognisable placeholder in each; the generators turn every
 * placeholder back into a `${NAME}` reference that the running pod resolves from its Secret.
 */
const PREFIX = 'keel-deploy-placeholder:'
// Long enough for secrets an app checks for length (32 bytes is the common floor).
const LENGTH = 64

/** The placeholder standing in for environment variable `name` while an app is described. */
export function placeholderFor(name: string): string {
  return `${PREFIX}${name}:`.padEnd(LENGTH, 'x')
}

const placeholders = new RegExp(`${PREFIX}([A-Za-z_][A-Za-z0-9_]*):x*`, 'g')

/** `text` with every placeholder replaced by the `${NAME}` reference it stands for. */
export function restoreReferences(text: string): string {
  return text.replace(placeholders, (_, name: string) => `\${${name}}`)
}

/** The variable names whose placeholders occur in `text`. */
export function placeholderNames(text: string): string[] {
  return [...text.matchAll(placeholders)].map((match) => match[1]!)
}
