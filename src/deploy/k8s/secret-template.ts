import type { ISecret } from 'kubernetes-models/v1/Secret'
import type { DeploymentPlan } from '../deployment-plan.ts'
import { objectMeta } from './labels.ts'
import { secretName, stagingNamespace } from './names.ts'

/**
 * The Secret the Deployment reads its environment from, with every variable the app needs and
 * no value. It is a template, outside every kustomization: applied with the overlays, its empty
 * values would overwrite the real Secret on each deploy.
 */
export function secretTemplate(plan: DeploymentPlan): ISecret {
  const { name: _name, labels } = objectMeta(plan)
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: secretName(plan), labels },
    type: 'Opaque',
    stringData: Object.fromEntries(plan.config.secretNames.map((name) => [name, ''])),
  }
}

/** How to create the real Secret, as the comment above the template says it. */
export function secretInstructions(plan: DeploymentPlan): string {
  const literals = plan.config.secretNames.map((name) => `#     --from-literal=${name}='...' \\`)
  return [
    `# The Secret ${secretName(plan)}: the variables the app reads from its environment, names only.`,
    '# This file is NOT part of the kustomizations (applying empty values would wipe the real ones).',
    `# Create the real Secret in each namespace (${plan.namespace}, ${stagingNamespace(plan)}) before the first`,
    '# deploy, for example:',
    '#',
    `#   kubectl -n ${plan.namespace} create secret generic ${secretName(plan)} \\`,
    ...literals,
    '#     --dry-run=client -o yaml | kubectl apply -f -',
    '#',
    '# or let an operator (External Secrets, Sealed Secrets, a CSI secrets store) create it under',
    '# this name. The pod does not start while the Secret is missing (CreateContainerConfigError),',
    '# and reads it only at start: run `kubectl rollout restart deployment` after rotating a value.',
    '',
  ].join('\n')
}
