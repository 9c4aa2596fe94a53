import { fail, pass, type ReadinessCheck, skip } from './readiness-check.ts'

/**
 * The inspector shows traces, dead letters and payloads: in production it must demand a token.
 * Keel has no inspector module yet, so this skips; it looks for a module named `inspector` whose
 * description says `tokenRequired: true`, and will judge one as soon as it lands.
 */
export const inspectorCheck: ReadinessCheck = {
  id: 'inspector',
  title: 'inspector behind a token',
  run({ plan }) {
    const inspector = plan.description.modules.find((m) => m.name === 'inspector')
    if (!inspector) return skip('no inspector in this app')
    if (inspector.tokenRequired === true) return pass('the inspector requires a token')
    return fail(
      'the inspector answers without a token: traces, payloads and dead letters are open to anyone who reaches it',
      `configure the inspector module's token in profiles.${plan.profile} of keel.yaml, from a \${VAR} reference`,
    )
  },
}
