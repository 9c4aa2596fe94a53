export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const
export type LogLevel = (typeof logLevels)[number]

/** A parsed `log.level`: the root level and per-module overrides. */
export interface LevelSpec {
  level: LogLevel
  modules: ReadonlyMap<string, LogLevel>
}

const isLevel = (text: string): text is LogLevel => (logLevels as readonly string[]).includes(text)

/**
 * Parses `info,keel:http=debug,orders=warn`: the first bare level is the root level; `name=level`
 * pairs set a module's level. Unparseable parts fall back to `info` (see {@link levelSpecProblems}).
 */
export function parseLevelSpec(spec: string): LevelSpec {
  let level: LogLevel = 'info'
  const modules = new Map<string, LogLevel>()
  for (const part of spec.split(',').map((p) => p.trim().toLowerCase())) {
    const [name, value] = part.includes('=') ? part.split('=', 2) : [undefined, part]
    if (!value || !isLevel(value)) continue
    if (name) modules.set(name, value)
    else level = value
  }
  return { level, modules }
}

/** Every problem in a level spec, phrased for a config error. Empty when it is valid. */
export function levelSpecProblems(spec: string): string[] {
  const problems: string[] = []
  for (const part of spec.split(',').map((p) => p.trim())) {
    const [name, value] = part.includes('=') ? part.split('=', 2) : [undefined, part]
    if (name !== undefined && name === '') problems.push(`"${part}" has no module name before "="`)
    else if (!value || !isLevel(value.toLowerCase())) {
      problems.push(
        `unknown level "${value ?? ''}"${name ? ` for module ${name}` : ''} (use ${logLevels.join(', ')})`,
      )
    }
  }
  return problems
}
