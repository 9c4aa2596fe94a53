import type { DeploymentPlan } from '../deployment-plan.ts'

/**
 * The script of the image's HEALTHCHECK: Node's own fetch against the ready probe on loopback,
 * so the image needs no curl. Exit 0 when the probe answers 2xx, 1 otherwise (Docker reserves 2).
 * HTTPS skips certificate checks: the certificate names the public host, never 127.0.0.1.
 */
export function healthcheckScript(plan: DeploymentPlan): string {
  const serving = plan.ports[0]!
  const scheme = serving.name === 'https' ? 'https' : 'http'
  const url = `${scheme}://127.0.0.1:${serving.port}${plan.probes.ready}`
  const insecure = scheme === 'https' ? "process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'; " : ''
  return (
    `${insecure}fetch('${url}', { signal: AbortSignal.timeout(4000) })` +
    '.then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))'
  )
}
