import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parse } from 'yaml'
import { dnsLabel } from '../deployment-plan.ts'

/** Name and version of the service, for `dist/package.json`. */
export interface ServiceIdentity {
  readonly name: string
  readonly version: string
}

// npm's rules for a package name (lower case, URL-safe, optional scope).
const npmName = /^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/
const semver = /^\d+\.\d+\.\d+(-[0-9A-Za-z-.]+)?(\+[0-9A-Za-z-.]+)?$/

/**
 * What the running app will call itself: `service.name` / `service.version` of keel.yaml when
 * written there literally, else the package.json beside the entry, else the one in the working
 * directory, else Keel's defaults (`keel-service`, `0.0.0`). The app reads `dist/package.json` at
 * run time below keel.yaml, so both agree. A name npm would refuse becomes a DNS label.
 */
export async function serviceIdentity(options: {
  keelYaml: string | undefined
  packageDirectories: readonly string[]
}): Promise<ServiceIdentity> {
  const fromYaml = options.keelYaml ? await serviceSection(options.keelYaml) : {}
  let fromPackage: { name?: string; version?: string } = {}
  for (const directory of options.packageDirectories) {
    const manifest = await readJson(join(directory, 'package.json'))
    if (manifest) {
      fromPackage = {
        name: literal(manifest.name),
        version: literal(manifest.version),
      }
      break
    }
  }
  const name = fromYaml.name ?? fromPackage.name ?? 'keel-service'
  const version = fromYaml.version ?? fromPackage.version ?? '0.0.0'
  return {
    name: npmName.test(name) && name.length <= 214 ? name : dnsLabel(name),
    version: semver.test(version) ? version : '0.0.0',
  }
}

async function serviceSection(file: string): Promise<{ name?: string; version?: string }> {
  try {
    const document = parse(await readFile(file, 'utf8')) as { service?: Record<string, unknown> } | null
    return { name: literal(document?.service?.name), version: literal(document?.service?.version) }
  } catch {
    // The app reports a broken keel.yaml itself when it starts; the build only names the service.
    return {}
  }
}

/** A string that does not wait for `${VAR}` interpolation at run time. */
function literal(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' && !value.includes('${') ? value : undefined
}

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>
  } catch {
    return undefined
  }
}
