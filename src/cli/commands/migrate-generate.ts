import { mkdir, stat, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { didYouMean } from '../../config/did-you-mean.ts'
import { type Migration, readMigrationFiles } from '../../data/index.ts'
import { KeelError } from '../../errors/index.ts'
import { createTableSql, loadResources, type ResourceDefinition } from '../../resources/index.ts'
import { parseFlags } from '../parse-flags.ts'
import { usageError } from '../usage-error.ts'
import { requireDirectory } from './validate.ts'

export const migrateGenerateHelp = `keel migrate generate: write the migration that creates a resource's table

Usage: keel migrate generate <resource> [--dir DIR] [--migrations DIR] [--json]

  <resource>        the resource name (resource: in its file)
  --dir DIR         directory of the resource files (default: resources)
  --migrations DIR  directory of the migration files (default: migrations; created if missing)
  --json            machine-readable output: { file, id, resource }

Writes <migrations>/<next number>_create_<resource>.sql with a -- migrate:up section (create
table, indexes) and a -- migrate:down section (drop table). Every resource file is validated
first. Refuses when a migration already creates the table, when a table the resource references
has no migration yet (generate that one first), and never overwrites a file.
Exit codes: 0 written, 1 invalid resources or refused, 2 bad arguments.`

/** What the command printed and the exit code it chose. */
export interface MigrateGenerateOutcome {
  readonly text: string
  readonly code: number
}

/** Runs `keel migrate generate` with the arguments after `generate`. */
export async function migrateGenerateCommand(args: string[]): Promise<MigrateGenerateOutcome> {
  const { values, positionals } = parseFlags(
    args,
    {
      dir: { type: 'string' },
      migrations: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  )
  if (values.help) return { text: `${migrateGenerateHelp}\n`, code: 0 }
  if (positionals.length !== 1) {
    throw usageError(
      positionals.length === 0
        ? 'migrate generate needs a resource name: keel migrate generate <resource>'
        : `migrate generate takes one resource, got ${positionals.length}: ${positionals.join(' ')}`,
    )
  }
  const name = positionals[0]!
  const dir = (values.dir as string | undefined) ?? 'resources'
  const migrationsDir = (values.migrations as string | undefined) ?? 'migrations'
  await requireDirectory(dir)
  const resources = await loadResources(dir)
  const resource = resources.find((candidate) => candidate.name === name)
  if (!resource) {
    const names = resources.map((candidate) => candidate.name)
    const guess = didYouMean(name, names)
    throw usageError(
      `unknown resource "${name}" in ${dir}${guess ? `; did you mean "${guess}"?` : names.length > 0 ? ` (resources: ${names.join(', ')})` : ''}`,
    )
  }
  const existing = (await exists(migrationsDir)) ? await readMigrationFiles(migrationsDir) : []
  refuseDuplicate(resource, existing, migrationsDir)
  refuseMissingReferences(resource, existing, migrationsDir)
  const id = `${nextNumber(existing)}_create_${resource.name}`
  const file = join(migrationsDir, `${id}.sql`)
  await writeMigration(file, migrationText(resource))
  if (values.json)
    return { text: `${JSON.stringify({ file: shown(file), id, resource: name }, null, 2)}\n`, code: 0 }
  return { text: `wrote ${shown(file)} (apply it with keel migrate)\n`, code: 0 }
}

/** The migration file: a comment naming its origin, the up section, the down section. */
function migrationText(resource: ResourceDefinition): string {
  const { up, down } = createTableSql(resource)
  return `-- Created by keel migrate generate from ${resource.file} (resource ${resource.name}, version ${resource.version}).\n-- migrate:up\n${up}\n\n-- migrate:down\n${down}\n`
}

/** True when a migration's up section creates `table` (quoted or not, schema-qualified or not). */
function createsTable(migration: Migration, table: string): boolean {
  const pattern = new RegExp(
    `\\bcreate\\s+table\\s+(?:if\\s+not\\s+exists\\s+)?(?:(?:"[^"]+"|\\w+)\\.)?(?:"${table}"|${table})(?![\\w"])`,
    'i',
  )
  return pattern.test(migration.up)
}

function refuseDuplicate(resource: ResourceDefinition, existing: readonly Migration[], dir: string): void {
  const found = existing.find((migration) => createsTable(migration, resource.name))
  if (found) {
    throw new KeelError(
      'KEEL_RESOURCE_MIGRATION',
      `migrate generate: ${found.source ?? join(dir, `${found.id}.sql`)} already creates table ${resource.name}; nothing written (to change the table, add a migration that alters it)`,
    )
  }
}

function refuseMissingReferences(
  resource: ResourceDefinition,
  existing: readonly Migration[],
  dir: string,
): void {
  const targets = new Set(
    resource.fields.flatMap((field) =>
      field.ref && field.ref.resource !== resource.name ? [field.ref.resource] : [],
    ),
  )
  const missing = [...targets].filter(
    (table) => !existing.some((migration) => createsTable(migration, table)),
  )
  if (missing.length > 0) {
    throw new KeelError(
      'KEEL_RESOURCE_MIGRATION',
      `migrate generate: ${resource.name} references ${missing.join(', ')}, but no migration in ${dir} creates ${missing.length === 1 ? 'that table' : 'those tables'}; nothing written (run ${missing.map((table) => `keel migrate generate ${table}`).join(', then ')} first)`,
    )
  }
}

/** One more than the highest number in use, zero-padded like the others (at least 4 digits). */
function nextNumber(existing: readonly Migration[]): string {
  let highest = 0n
  let width = 4
  for (const migration of existing) {
    const digits = /^(\d+)_/.exec(migration.id)?.[1]
    if (!digits) continue
    width = Math.max(width, digits.length)
    if (BigInt(digits) > highest) highest = BigInt(digits)
  }
  return (highest + 1n).toString().padStart(width, '0')
}

async function writeMigration(file: string, text: string): Promise<void> {
  try {
    await mkdir(join(file, '..'), { recursive: true })
    await writeFile(file, text, { flag: 'wx' })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EEXIST') {
      throw new KeelError(
        'KEEL_RESOURCE_MIGRATION',
        `migrate generate: ${shown(file)} exists; refusing to overwrite it`,
      )
    }
    throw new KeelError(
      'KEEL_CLI_OUTPUT',
      `migrate generate: cannot write ${shown(file)}: ${code ?? (error as Error).message}`,
      {
        cause: error,
      },
    )
  }
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  )

/** A path as users see it: relative to the working directory when inside it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path)
  return rel && !rel.startsWith('..') ? rel : path
}
