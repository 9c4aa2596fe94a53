import type { AppDescription } from '../../app/index.ts'
import { fail, pass, type ReadinessCheck, warn } from './readiness-check.ts'

type GuardDescription = AppDescription['guards'][number]

interface CorsFacts {
  readonly where: string
  readonly origins: unknown
  readonly isCredentialed: boolean
}

/**
 * CORS, judged from each `cors` guard's description: any origin together with credentials fails
 * (any site could act as a signed-in user; `cors()` itself refuses `'*'` with credentials, so this
 * catches other guards that call themselves `cors`); any origin alone warns; a predicate with
 * credentials warns, since keel check cannot see which origins it accepts; a plain-HTTP origin
 * warns. No cors guard passes: CORS stays closed.
 */
export const corsCheck: ReadinessCheck = {
  id: 'cors',
  title: 'CORS origins',
  run({ plan }) {
    const guards = corsGuards(plan.description)
    if (guards.length === 0) return pass('no cors guard: browsers on other origins cannot read responses')
    const failures: string[] = []
    const warnings: string[] = []
    for (const guard of guards) {
      const isAny = guard.origins === '*'
      const isPredicate = guard.origins === '[function]'
      if (isAny && guard.isCredentialed) failures.push(`${guard.where}: origins "*" with credentials: true`)
      else if (isAny) warnings.push(`${guard.where}: origins "*": any site may read the responses`)
      else if (isPredicate && guard.isCredentialed)
        warnings.push(`${guard.where}: a predicate decides the origins, with credentials: true`)
      const plain = Array.isArray(guard.origins)
        ? guard.origins.filter((o): o is string => typeof o === 'string' && o.startsWith('http://'))
        : []
      if (plain.length > 0) warnings.push(`${guard.where}: plain-HTTP origin ${plain.join(', ')}`)
    }
    const fix =
      'list the exact origins: cors({ origins: ["https://app.example.com"], credentials: true }); never answer any origin with credentials'
    if (failures.length > 0) return fail(failures.join('; '), fix)
    if (warnings.length > 0)
      return warn(warnings.join('; '), `${fix}; a predicate must never accept an arbitrary origin`)
    const listed = [...new Set(guards.flatMap((g) => (Array.isArray(g.origins) ? g.origins : [])))]
    return pass(`explicit origins only: ${listed.join(', ')}`)
  },
}

function corsGuards(description: AppDescription): CorsFacts[] {
  const facts = (where: string, guard: GuardDescription): CorsFacts => ({
    where,
    origins: guard.options?.origins,
    isCredentialed: guard.options?.credentials === true,
  })
  const found = description.guards.filter((g) => g.name === 'cors').map((g) => facts('app', g))
  const seen = new Set<string>()
  for (const route of description.routes) {
    for (const guard of route.guards) {
      if (guard.name !== 'cors') continue
      // A group's guard shows on each of its routes; report each distinct guard once.
      const key = JSON.stringify(guard.options ?? {})
      if (seen.has(key)) continue
      seen.add(key)
      found.push(facts(`${route.method} ${route.path}`, guard))
    }
  }
  return found
}
