import type { DeploymentPlan } from '../deployment-plan.ts'
import type { GeneratedFile } from '../generated-file.ts'
import { splitImage } from './image.ts'
import { kustomization } from './kustomization.ts'
import { stagingNamespace } from './names.ts'
import { halfCpu, halfMemory } from './quantity.ts'
import { generatedHeader, yamlFile } from './yaml-document.ts'

/** Largest replica count staging scales to. */
const stagingMaxReplicas = 2

/**
 * `k8s/overlays/prod/`: the base as the plan describes it, with the image pinned through
 * kustomize's `images:` (the one place a pipeline changes the tag).
 */
export function prodOverlay(plan: DeploymentPlan): GeneratedFile[] {
  const overlay = kustomization({ resources: ['../../base'], images: [imageEntry(plan)] })
  return [yamlFile('k8s/overlays/prod/kustomization.yaml', generatedHeader(plan), [overlay])]
}

/**
 * `k8s/overlays/staging/`: the same objects in their own namespace `<namespace>-staging` (same
 * names, so nothing else has to be renamed, and the Secret is created per namespace), one to
 * two replicas, half the resource requests (limits stay, so staging fails where prod would) and,
 * with an Ingress, the host `staging.<host>`.
 */
export function stagingOverlay(plan: DeploymentPlan): GeneratedFile[] {
  const header = generatedHeader(plan)
  const { resources } = plan.deploy
  const patches: Array<[file: string, patch: unknown]> = [
    [
      'deployment-patch.yaml',
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: plan.name },
        spec: {
          template: {
            spec: {
              containers: [
                {
                  name: plan.name,
                  resources: {
                    requests: { cpu: halfCpu(resources.cpu), memory: halfMemory(resources.memory) },
                  },
                },
              ],
            },
          },
        },
      },
    ],
    [
      'hpa-patch.yaml',
      {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: plan.name },
        spec: { minReplicas: 1, maxReplicas: Math.min(plan.deploy.replicas.max, stagingMaxReplicas) },
      },
    ],
  ]
  const { host } = plan.deploy.ingress
  if (host) {
    const stagingHost = `staging.${host}`
    patches.push([
      'ingress-patch.yaml',
      [
        { op: 'replace', path: '/spec/rules/0/host', value: stagingHost },
        { op: 'replace', path: '/spec/tls/0/hosts/0', value: stagingHost },
      ],
    ])
  }
  const overlay = kustomization({
    namespace: stagingNamespace(plan),
    resources: ['../../base'],
    images: [imageEntry(plan)],
    patches: patches.map(([path, patch]) =>
      Array.isArray(patch) ? { path, target: { kind: 'Ingress', name: plan.name } } : { path },
    ),
  })
  return [
    yamlFile('k8s/overlays/staging/kustomization.yaml', header, [overlay]),
    ...patches.map(([path, patch]) => yamlFile(`k8s/overlays/staging/${path}`, header, [patch])),
  ]
}

function imageEntry(plan: DeploymentPlan): { name: string; newTag?: string } {
  const { name, tag } = splitImage(plan.image)
  return tag ? { name, newTag: tag } : { name }
}
