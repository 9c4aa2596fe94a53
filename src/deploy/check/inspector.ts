import { fail, pass, type ReadinessCheck, skip, warn } from './readiness-check.ts'

/** What the inspector module says about itself in `app.describe()` (see keel/inspector). */
interface InspectorFacts {
  readonly enabled?: boolean
  readonly tokenRequired?: boolean
  /** Its own port (`inspector.port`), or null on the app's. */
  readonly port?: number | null
  readonly tokensConfigured?: { readonly viewer: number; readonly operator: number }
}

/**
 * The inspector shows traces, dead letters and payloads: in production it must be off or demand
 * a token. Behind a token on the app port it is reachable through the Ingress, so that is a warning:
 * a port of its own keeps it inside the cluster. Read from the module named `inspector` and its
 * `inspector` description.
 */
export const inspectorCheck: ReadinessCheck = {
  id: 'inspector',
  title: 'inspector behind a token',
  run({ plan }) {
    const module = plan.description.modules.find((m) => m.name === 'inspector')
    if (!module) return skip('no inspector in this app')
    const facts = (module.inspector ?? {}) as InspectorFacts
    if (facts.enabled === false) return pass(`the inspector is off in profile ${plan.profile}`)
    if (facts.tokenRequired === true) {
      const tokens = facts.tokensConfigured
      const guarded = `the inspector requires a token${tokens ? ` (${tokens.viewer} viewer, ${tokens.operator} operator)` : ''}`
      if (facts.port === null) {
        return warn(
          `${guarded}, but it is served on the app port, which the Ingress exposes`,
          `set inspector.port (e.g. 9465) in profiles.${plan.profile} of keel.yaml: a port of its own is reachable in the cluster (kubectl port-forward), not through the Ingress`,
        )
      }
      return pass(`${guarded}, on port ${facts.port} of its own`)
    }
    // The app loaded, so this profile is dev or test: elsewhere createApp() refuses requireToken false.
    return fail(
      `the inspector answers without a token in profile ${plan.profile}: traces, payloads and dead letters are open to anyone who reaches it`,
      `outside the dev and test profiles the app refuses to start with inspector.requireToken: false; remove it (or set it to true) and set inspector.tokens from \${VAR} references in profiles.${plan.profile} of keel.yaml, or set inspector.enabled: false`,
    )
  },
}
