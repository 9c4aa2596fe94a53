/** Where one configuration value came from; shown in errors and by `keel config`. */
export type ValueSource =
  | { kind: 'default'; profile?: string }
  | { kind: 'package'; file: string }
  | { kind: 'file'; file: string; line?: number }
  | { kind: 'profile'; profile: string; file: string; line?: number }
  | { kind: 'env'; name: string }
  | { kind: 'override' }

/** A value's source as a short phrase: `keel.yaml:12`, `env KEEL_SERVER__PORT`, `default`. */
export function describeSource(source: ValueSource): string {
  switch (source.kind) {
    case 'default':
      return source.profile ? `default for profile ${source.profile}` : 'default'
    case 'package':
      return source.file
    case 'file':
      return source.line ? `${source.file}:${source.line}` : source.file
    case 'profile':
      return `${source.file}:${source.line ?? '?'} (profile ${source.profile})`
    case 'env':
      return `env ${source.name}`
    case 'override':
      return 'programmatic override'
  }
}

/** Dotted key path, the form users see (`server.port`). */
export const keyOf = (path: readonly string[]): string => path.join('.')
