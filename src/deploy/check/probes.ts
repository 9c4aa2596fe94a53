import { pass, type ReadinessCheck } from './readiness-check.ts'

/**
 * The probes the manifests point at. Every Keel app serves them, so this passes and names them;
 * it is in the report so a reader sees what Kubernetes will call.
 */
export const probesCheck: ReadinessCheck = {
  id: 'probes',
  title: 'liveness, readiness and startup probes',
  run({ plan }) {
    const { live, ready, startup } = plan.probes
    return pass(`live ${live}, ready ${ready}, startup ${startup} (built in)`)
  },
}
