import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment'
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler'
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress'
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy'
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap'
import type { ISecret } from 'kubernetes-models/v1/Secret'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { loadAppForDeploy } from '../../src/cli/load-for-deploy.ts'
import { type DeploymentPlan, deploymentPlan } from '../../src/deploy/deployment-plan.ts'
import { generateKubernetes } from '../../src/deploy/k8s/index.ts'
import { type KubeObject, kustomize, only, parsedFile, validateObject, writeTree } from './k8s-support.ts'

// What `kubectl apply -k k8s/overlays/<env>` would send, rendered by the real kubectl (no cluster).
const todoEntry = 'examples/todo/app.ts'
const edgeEntry = 'test/deploy/fixtures/k8s-edge-app/app.ts'
const roots: string[] = []

let todo: DeploymentPlan
let prod: KubeObject[]
let staging: KubeObject[]
beforeAll(async () => {
  todo = deploymentPlan(await loadAppForDeploy(todoEntry, 'prod'), { entry: todoEntry })
  const root = writeTree(generateKubernetes(todo))
  roots.push(root)
  prod = kustomize(join(root, 'k8s/overlays/prod'))
  staging = kustomize(join(root, 'k8s/overlays/staging'))
})
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true })
})

const container = (objects: KubeObject[]) =>
  only<IDeployment>(objects, 'Deployment').spec!.template.spec!.containers[0]!

describe('kubectl kustomize of the todo overlays', () => {
  it('renders objects that all validate against the Kubernetes schemas', () => {
    for (const objects of [prod, staging]) {
      expect(objects.map((o) => o.kind).sort()).toEqual([
        'ConfigMap',
        'Deployment',
        'HorizontalPodAutoscaler',
        'Namespace',
        'NetworkPolicy',
        'PodDisruptionBudget',
        'Service',
      ])
      for (const object of objects) expect(() => validateObject(object), object.kind).not.toThrow()
    }
  })

  it('probes the health paths and outlasts the shutdown deadline with the preStop sleep', () => {
    const app = container(prod)
    expect(app.startupProbe!.httpGet!.path).toBe('/startup')
    expect(app.livenessProbe!.httpGet!.path).toBe('/live')
    expect(app.readinessProbe!.httpGet!.path).toBe('/ready')
    expect(app.lifecycle!.preStop!.sleep!.seconds).toBe(5)
    const grace = only<IDeployment>(prod, 'Deployment').spec!.template.spec!.terminationGracePeriodSeconds!
    expect(grace).toBeGreaterThan(todo.shutdown.deadlineMs / 1000)
    expect(grace).toBeGreaterThan(5 + todo.shutdown.deadlineMs / 1000)
  })

  it('mounts the hashed ConfigMap whose keel.yaml refers to secrets and holds no placeholder', () => {
    const configMap = only<IConfigMap>(prod, 'ConfigMap')
    expect(configMap.metadata!.name).toMatch(/^todo-config-[a-z0-9]{10}$/)
    const file = configMap.data!['keel.yaml']!
    expect(file).toContain('${TODO_JWT_SECRET}')
    expect(file).toContain('${TODO_ADMIN_KEY}')
    expect(file).not.toContain('keel-deploy-placeholder')
    expect(parse(file)).toMatchObject({ service: { name: 'todo' }, shutdown: { deadlineMs: 25000 } })
    const volumes = only<IDeployment>(prod, 'Deployment').spec!.template.spec!.volumes!
    expect(volumes.find((v) => v.name === 'config')!.configMap!.name).toBe(configMap.metadata!.name)
    for (const object of [...prod, ...staging])
      expect(JSON.stringify(object)).not.toContain('keel-deploy-placeholder')
  })

  it('leaves the Secret out of what is applied, and the template lists its names with empty values', () => {
    expect([...prod, ...staging].some((o) => o.kind === 'Secret')).toBe(false)
    const template = parsedFile<ISecret>(generateKubernetes(todo), 'k8s/secret.template.yaml')
    expect(() => validateObject(template as KubeObject)).not.toThrow()
    expect(template.stringData).toEqual({ DATABASE_URL: '', TODO_ADMIN_KEY: '', TODO_JWT_SECRET: '' })
    expect(container(prod).envFrom).toEqual([{ secretRef: { name: template.metadata!.name } }])
  })

  it('allows egress to DNS and PostgreSQL, and to public HTTP(S) for webhook deliveries only', () => {
    const policy = only<INetworkPolicy>(prod, 'NetworkPolicy')
    const ports = policy.spec!.egress!.flatMap((rule) => rule.ports!.map((p) => `${p.protocol}/${p.port}`))
    expect(ports.sort()).toEqual(['TCP/443', 'TCP/53', 'TCP/5432', 'TCP/80', 'UDP/53'])
    const web = policy.spec!.egress!.find((rule) => rule.ports!.some((p) => p.port === 443))!
    expect(web.to!.every((peer) => peer.ipBlock !== undefined && peer.ipBlock.except!.length > 0)).toBe(true)
  })

  it('puts prod in the plan namespace at the plan size and staging in its own, smaller', () => {
    expect(new Set(prod.filter((o) => o.kind !== 'Namespace').map((o) => o.metadata.namespace))).toEqual(
      new Set(['todo']),
    )
    expect(new Set(staging.filter((o) => o.kind !== 'Namespace').map((o) => o.metadata.namespace))).toEqual(
      new Set(['todo-staging']),
    )
    expect(only<KubeObject>(staging, 'Namespace').metadata.name).toBe('todo-staging')
    const prodHpa = only<IHorizontalPodAutoscaler>(prod, 'HorizontalPodAutoscaler').spec!
    const stagingHpa = only<IHorizontalPodAutoscaler>(staging, 'HorizontalPodAutoscaler').spec!
    expect([prodHpa.minReplicas, prodHpa.maxReplicas]).toEqual([2, 10])
    expect([stagingHpa.minReplicas, stagingHpa.maxReplicas]).toEqual([1, 2])
    // The behaviour survives the strategic merge of the patch.
    expect(stagingHpa.behavior).toEqual(prodHpa.behavior)
    expect(container(prod).resources).toEqual({
      requests: { cpu: '250m', memory: '256Mi' },
      limits: { cpu: '1', memory: '512Mi' },
    })
    expect(container(staging).resources).toEqual({
      requests: { cpu: '125m', memory: '128Mi' },
      limits: { cpu: '1', memory: '512Mi' },
    })
    // The patch merged into the container: probes, mounts and security are still there.
    expect(container(staging).readinessProbe).toEqual(container(prod).readinessProbe)
    expect(container(staging).securityContext).toEqual(container(prod).securityContext)
    expect(container(staging).image).toBe('todo:0.0.0')
  })

  it('rolls the pods when the config changes: another keel.yaml, another ConfigMap name', () => {
    const changed = {
      ...todo,
      config: { ...todo.config, file: todo.config.file.replace('level: info', 'level: debug') },
    }
    expect(changed.config.file).not.toBe(todo.config.file)
    const root = writeTree(generateKubernetes(changed))
    roots.push(root)
    const rendered = kustomize(join(root, 'k8s/overlays/prod'))
    const name = only<IConfigMap>(rendered, 'ConfigMap').metadata!.name
    expect(name).not.toBe(only<IConfigMap>(prod, 'ConfigMap').metadata!.name)
    const volumes = only<IDeployment>(rendered, 'Deployment').spec!.template.spec!.volumes!
    expect(volumes.find((v) => v.name === 'config')!.configMap!.name).toBe(name)
  })

  it('fails loudly on a broken tree, so the renders above are real', () => {
    const root = writeTree(generateKubernetes(todo))
    roots.push(root)
    writeFileSync(join(root, 'k8s/base/kustomization.yaml'), 'resources: [missing.yaml]\n')
    expect(() => kustomize(join(root, 'k8s/overlays/prod'))).toThrow(/missing\.yaml/)
  })
})

describe('kubectl kustomize of an app with a host, Redis and a TLS port', () => {
  it('publishes prod on the host and staging on staging.<host>, both valid', async () => {
    const edge = deploymentPlan(await loadAppForDeploy(edgeEntry, 'prod'), { entry: edgeEntry })
    const root = writeTree(generateKubernetes(edge))
    roots.push(root)
    const rendered = {
      prod: kustomize(join(root, 'k8s/overlays/prod')),
      staging: kustomize(join(root, 'k8s/overlays/staging')),
    }
    for (const objects of Object.values(rendered))
      for (const object of objects) expect(() => validateObject(object), object.kind).not.toThrow()
    const prodIngress = only<IIngress>(rendered.prod, 'Ingress')
    const stagingIngress = only<IIngress>(rendered.staging, 'Ingress')
    expect(prodIngress.spec!.rules![0]!.host).toBe('edge.example.com')
    expect(prodIngress.spec!.tls).toEqual([{ hosts: ['edge.example.com'], secretName: 'edge-cache-tls' }])
    expect(stagingIngress.spec!.rules![0]!.host).toBe('staging.edge.example.com')
    expect(stagingIngress.spec!.tls).toEqual([
      { hosts: ['staging.edge.example.com'], secretName: 'edge-cache-tls' },
    ])
    expect(stagingIngress.metadata!.namespace).toBe('edge-staging')
    const egress = only<INetworkPolicy>(rendered.prod, 'NetworkPolicy').spec!.egress!
    expect(egress.flatMap((rule) => rule.ports!.map((p) => p.port))).toContain(6379)
    expect(only<IDeployment>(rendered.prod, 'Deployment').spec!.template.spec!.containers[0]!.image).toBe(
      'registry.example.com:5000/acme/edge-cache:2.4.1',
    )
  })
})
