import { isBuiltin } from 'node:module'
import { kernelSections } from '../../config/index.ts'
import { usageError } from '../usage-error.ts'

/** A name `keel new` accepts, in the forms each place needs it. */
export interface ServiceName {
  /** The npm package name: `my-service` or `@acme/my-service`. */
  readonly packageName: string
  /** The name without scope, a DNS label: Kubernetes names, `service.name`, the default directory. */
  readonly label: string
  /** The app's config section: `myService`. */
  readonly section: string
  /** The prefix of the service's own environment variables: `MY_SERVICE`. */
  readonly envPrefix: string
}

// A DNS-1035 label (what Kubernetes Services need): starts with a letter, ends with a letter or digit.
const label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/
// An npm scope: URL-safe, lower case.
const scope = /^@[a-z0-9][a-z0-9._~-]*$/

/**
 * Checks a new service's name against npm's package name rules (lower case, URL-safe, at most
 * 214 characters, not a Node.js built-in module) and, without its scope, a DNS label of at most
 * 63 characters, since it names the Deployment, Service and image. Throws a usage error naming
 * the rule it breaks.
 */
export function serviceName(name: string): ServiceName {
  const refuse = (why: string) => usageError(`name "${name}": ${why}`)
  if (name.length === 0) throw usageError('keel new needs a name: keel new my-service')
  if (name.length > 214) throw refuse('an npm package name has at most 214 characters')
  const parts = name.split('/')
  if (parts.length > 2 || (parts.length === 2 && !scope.test(parts[0]!)))
    throw refuse('a scoped name is @scope/name, with a lower-case URL-safe scope')
  const bare = parts.at(-1)!
  if (bare.length > 63) throw refuse(`"${bare}" names Kubernetes objects, which allow at most 63 characters`)
  if (!label.test(bare)) {
    throw refuse(
      'use lower-case letters, digits and dashes, starting with a letter and not ending with a dash (it is an npm package name and a DNS label)',
    )
  }
  if (parts.length === 1 && isBuiltin(bare))
    throw refuse(`"${bare}" is a Node.js built-in module; npm refuses it as a package name`)
  const camel = bare.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())
  return {
    packageName: name,
    label: bare,
    // A service called `metrics` must not take over Keel's own `metrics:` section.
    section: takenSections.has(camel) ? `${camel}Service` : camel,
    envPrefix: bare.replace(/-/g, '_').toUpperCase(),
  }
}

/** Sections Keel and its modules already read from keel.yaml. */
const takenSections = new Set<string>([
  ...kernelSections.map((section) => section.name),
  ...['audit', 'cache', 'data', 'flows', 'inspector', 'jobs', 'resources', 'webhooks', 'profiles'],
])
