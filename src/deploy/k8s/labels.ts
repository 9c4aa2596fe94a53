import type { DeploymentPlan } from '../deployment-plan.ts'

/** The label the Deployment, Service, PDB and NetworkPolicy select pods by; it never changes. */
export function selectorLabels(plan: DeploymentPlan): Record<string, string> {
  return { 'app.kubernetes.io/name': plan.name }
}

/**
 * The recommended `app.kubernetes.io/*` labels on every object. The version is here but not in
 * selectors: selectors of a Deployment are immutable, labels are not.
 */
export function standardLabels(plan: DeploymentPlan): Record<string, string> {
  return {
    'app.kubernetes.io/managed-by': 'keel',
    'app.kubernetes.io/name': plan.name,
    'app.kubernetes.io/part-of': plan.name,
    'app.kubernetes.io/version': labelValue(plan.version),
  }
}

/** Label values allow 63 characters of `[A-Za-z0-9._-]`, starting and ending alphanumeric. */
function labelValue(text: string): string {
  return text
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '')
}

/** Metadata of a namespaced object of the app: its name and the standard labels. */
export function objectMeta(
  plan: DeploymentPlan,
  name = plan.name,
): { name: string; labels: Record<string, string> } {
  return { name, labels: standardLabels(plan) }
}
