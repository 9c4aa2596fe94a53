import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { KeelError } from '../errors/index.ts'
import type { Migration } from './migrate.ts'

/** The scope migration files apply under in `keel_migrations`. */
export const appMigrationScope = 'app'

/** A file's name: a number, an underscore, a name (`0001_create_users.sql`). */
const fileName = /^(\d+)_([A-Za-z0-9][\w-]*)\.sql$/

/** A section marker: `-- migrate:up` or `-- migrate:down`, alone on its line. */
const marker = /^--\s*migrate:\s*(\S*)\s*$/i

/**
 * Reads the migrations in `dir` (default `./migrations`): every `*.sql` file, sorted by name,
 * named `<number>_<name>.sql`, whose id is the name without `.sql`. Each file holds a
 * `-- migrate:up` section and, optionally, a `-- migrate:down` section that undoes it:
 *
 * ```sql
 * -- migrate:up
 * create table users (id uuid primary key, email text not null unique);
 *
 * -- migrate:down
 * drop table users;
 * ```
 *
 * Only comments and blank lines may come before the first marker. A file without an up section,
 * with an empty one, with a marker twice or an unknown marker, a `.sql` file with a bad name, and
 * two files sharing a number all reject with `KEEL_MIGRATION_FAILED` naming the file (and the
 * line). Other files (a README) are ignored. Apply the result with
 * `migrate(db, appMigrationScope, migrations)`.
 */
export async function readMigrationFiles(dir = 'migrations'): Promise<Migration[]> {
  let names: string[]
  try {
    names = (await readdir(dir, { withFileTypes: true }))
      .filter((entry) => entry.isFile() && entry.name.toLowerCase().endsWith('.sql'))
      .map((entry) => entry.name)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new KeelError(
      'KEEL_MIGRATION_FAILED',
      `migrations: cannot read the directory ${dir}: ${code === 'ENOENT' ? 'it does not exist' : (code ?? (error as Error).message)}`,
      { cause: error },
    )
  }
  names.sort((a, b) => a.localeCompare(b))
  const byNumber = new Map<bigint, string>()
  const migrations: Migration[] = []
  for (const name of names) {
    const source = shown(join(dir, name))
    const match = fileName.exec(name)
    if (!match) {
      throw fileError(
        `${source}: a migration file is named <number>_<name>.sql (0001_create_users.sql), got "${name}"`,
      )
    }
    const number = BigInt(match[1]!)
    const other = byNumber.get(number)
    if (other !== undefined) {
      throw fileError(
        `${source}: duplicate migration number ${match[1]}, also used by ${shown(join(dir, other))}`,
      )
    }
    byNumber.set(number, name)
    migrations.push({
      id: name.slice(0, -'.sql'.length),
      ...parseMigrationFile(await readFile(join(dir, name), 'utf8'), source),
      source,
    })
  }
  return migrations
}

/**
 * Splits one migration file's text into its `up` and `down` parts. `source` names the file in
 * errors (`migrations/0001_create_users.sql:3: …`). An empty down section counts as none.
 */
export function parseMigrationFile(text: string, source: string): { up: string; down?: string } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  const sections: { up?: { line: number; body: string[] }; down?: { line: number; body: string[] } } = {}
  let current: string[] | undefined
  lines.forEach((line, index) => {
    const at = `${source}:${index + 1}`
    const found = marker.exec(line.trim())
    if (found) {
      const kind = found[1]!.toLowerCase()
      if (kind !== 'up' && kind !== 'down') {
        throw fileError(`${at}: unknown marker "${line.trim()}"; use "-- migrate:up" or "-- migrate:down"`)
      }
      if (sections[kind]) {
        throw fileError(`${at}: a second "-- migrate:${kind}" (the first is on line ${sections[kind].line})`)
      }
      sections[kind] = { line: index + 1, body: [] }
      current = sections[kind].body
      return
    }
    if (current) current.push(line)
    else if (!isBlankOrComment(line)) {
      throw fileError(`${at}: SQL before "-- migrate:up"; every statement belongs to an up or down section`)
    }
  })
  if (!sections.up) {
    const line = sections.down?.line ?? 1
    throw fileError(`${source}:${line}: no "-- migrate:up" section; start the file's forward SQL with it`)
  }
  const up = sections.up.body.join('\n').trim()
  if (sections.up.body.every(isBlankOrComment)) {
    throw fileError(`${source}:${sections.up.line}: the "-- migrate:up" section is empty`)
  }
  const down = sections.down?.body.join('\n').trim()
  return sections.down && !sections.down.body.every(isBlankOrComment) ? { up, down } : { up }
}

const isBlankOrComment = (line: string) => /^\s*(--.*)?$/.test(line)

const fileError = (message: string) => new KeelError('KEEL_MIGRATION_FAILED', `migrations: ${message}`)

/** A path as users see it: relative to the working directory when inside it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path)
  return rel && !rel.startsWith('..') ? rel : path
}
