import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { KeelError } from '../../errors/index.ts'
import type { ServiceName } from './service-name.ts'
import { type DependencyVersions, scaffoldFiles } from './templates.ts'

/**
 * Writes a new service into `dir`, which must not exist or be empty: `keel new` never mixes its
 * files with someone's work. Returns the paths written, relative to `dir`.
 */
export async function writeScaffold(dir: string, name: ServiceName): Promise<string[]> {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory())
      throw new KeelError('KEEL_CLI_OUTPUT', `--dir ${dir}: is a file, not a directory`)
    const present = readdirSync(dir)
    if (present.length > 0) {
      throw new KeelError(
        'KEEL_CLI_OUTPUT',
        `${dir} is not empty (${present.slice(0, 3).join(', ')}${present.length > 3 ? ', …' : ''}): choose a new directory with --dir`,
      )
    }
  }
  const files = scaffoldFiles(name, keelVersions())
  try {
    await mkdir(dir, { recursive: true })
    for (const file of files) await writeFile(join(dir, file.path), file.content, { flag: 'wx' })
  } catch (error) {
    throw new KeelError(
      'KEEL_CLI_OUTPUT',
      `cannot write the service into ${dir}: ${(error as Error).message}`,
      { cause: error },
    )
  }
  return files.map((file) => file.path)
}

/** Keel's own version and the versions of the tools it is built with, from its package.json. */
export function keelVersions(): DependencyVersions {
  // src/cli/scaffold/ and dist/cli/scaffold/ are both three levels below the package root.
  const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string
    dependencies: Record<string, string>
    devDependencies: Record<string, string>
  }
  const bare = (spec: string | undefined, fallback: string) => spec?.replace(/^[\^~]/, '') ?? fallback
  return {
    keel: manifest.version,
    tsx: bare(manifest.dependencies.tsx, '4.0.0'),
    typescript: bare(manifest.devDependencies.typescript, '5.0.0'),
    typesNode: bare(manifest.devDependencies['@types/node'], '20.0.0'),
  }
}
