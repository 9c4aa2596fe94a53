const reference = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}/g

/** The result of interpolating one string: the new text, or the variables it needs but lack. */
export interface Interpolation {
  text: string
  missing: string[]
  changed: boolean
}

/**
 * Replaces `${VAR}` and `${VAR:default}` with values from `env`. `$${` escapes a literal `${`.
 * An unset variable without a default is reported in `missing`, never replaced by an empty string.
 */
export function interpolate(text: string, env: NodeJS.ProcessEnv): Interpolation {
  const missing: string[] = []
  let changed = false
  const result = text.replace(reference, (match, name: string | undefined, fallback: string | undefined) => {
    changed = true
    if (match === '$${') return '${'
    const value = env[name!]
    if (value !== undefined) return value
    if (fallback !== undefined) return fallback
    missing.push(name!)
    return match
  })
  return { text: result, missing, changed }
}
