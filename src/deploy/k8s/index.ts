import type { Generator } from '../generated-file.ts'
import { baseFiles } from './base.ts'
import { prodOverlay, stagingOverlay } from './overlays.ts'
import { secretInstructions, secretTemplate } from './secret-template.ts'
import { generatedHeader, yamlFile } from './yaml-document.ts'

/**
 * `keel gen k8s`: a kustomize tree under `k8s/`: `base/` (Namespace, Deployment, Service, HPA,
 * PDB, NetworkPolicy, Ingress when `deploy.ingress.host` is set, and a ConfigMap generated from
 * the effective keel.yaml), `overlays/staging` and `overlays/prod`, and `secret.template.yaml`,
 * the names of the Secret the operator creates (when the app reads any). Deploy with
 * `kubectl apply -k k8s/overlays/prod`; docs/deploy-kubernetes.md explains every choice.
 *
 * @example
 * ```ts
 * const plan = deploymentPlan(await loadAppForDeploy('app.ts', 'prod'), { entry: 'app.ts' })
 * for (const file of generateKubernetes(plan)) console.log(file.path)
 * ```
 */
export const generateKubernetes: Generator = (plan) => [
  ...baseFiles(plan),
  ...stagingOverlay(plan),
  ...prodOverlay(plan),
  // An app that reads no secret gets no Secret to create.
  ...(plan.config.secretNames.length > 0
    ? [
        yamlFile('k8s/secret.template.yaml', `${generatedHeader(plan)}#\n${secretInstructions(plan)}`, [
          secretTemplate(plan),
        ]),
      ]
    : []),
]
