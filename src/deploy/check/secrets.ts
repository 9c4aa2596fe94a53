import { describeSource } from '../../config/index.ts'
import { envNameOf } from '../deployed-config.ts'
import { fail, pass, type ReadinessCheck } from './readiness-check.ts'

/**
 * Every secret of the profile comes from a `${VAR}` reference, so the value lives in the
 * platform's Secret and never in the repository. A literal in keel.yaml, a `${VAR:default}`
 * whose default would ship, or a non-empty default in code fails, naming the file and line.
 */
export const secretsCheck: ReadinessCheck = {
  id: 'secrets',
  title: 'secrets come from the environment',
  run({ app, plan }) {
    const entries = app.config.entries()
    const literal = new Set(plan.config.literalSecrets)
    // Defaults are not in the deployed file, but a non-empty secret default in code ships too.
    for (const entry of entries) {
      if (entry.isSecret && entry.source.kind === 'default' && typeof entry.value === 'string' && entry.value)
        literal.add(entry.key)
    }
    if (literal.size === 0) {
      const secrets = entries.filter((e) => e.isSecret && e.value !== '' && e.value !== undefined)
      const names = secrets.map((e) => e.key)
      return pass(
        names.length === 0
          ? 'no secret values in this profile'
          : `${names.length} secret${names.length === 1 ? '' : 's'} from \${VAR} references: ${names.join(', ')}`,
      )
    }
    const places = [...literal].sort().map((key) => {
      const entry = entries.find((e) => e.key === key)
      const where = entry ? describeSource(entry.source) : 'keel.yaml'
      return { key, where, variable: envNameOf(key.split('.')) }
    })
    return fail(
      `literal secret value${places.length === 1 ? '' : 's'} in profile ${plan.profile}: ${places.map((p) => `${p.key} at ${p.where}`).join(', ')}`,
      places
        .map(
          (p) =>
            `${p.where} ${p.key}: write \${${p.variable}} (a variable without default) in profiles.${plan.profile} and put the value in the Secret`,
        )
        .join('; '),
    )
  },
}
