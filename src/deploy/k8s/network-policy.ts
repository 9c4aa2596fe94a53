import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy'
import type { INetworkPolicyEgressRule } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyEgressRule'
import { parse } from 'yaml'
import type { BackingService, DeploymentPlan } from '../deployment-plan.ts'
import { objectMeta, selectorLabels } from './labels.ts'

/** The port each backing service listens on. */
export const backingServicePorts: Readonly<Record<BackingService, number>> = {
  postgres: 5432,
  redis: 6379,
  nats: 4222,
}

// Where webhook deliveries must not go: the pod network, node and cloud-metadata addresses. The app
// refuses them too (keel/webhooks private networks); the policy is the second wall.
const privateIpv4 = [
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.168.0.0/16',
]
const privateIpv6 = ['::1/128', 'fc00::/7', 'fe80::/10']

/**
 * Default deny, then exactly what the app needs. Ingress: the app's ports from anywhere (ingress
 * controllers and Prometheus live in namespaces the generator cannot know). Egress: DNS to
 * kube-dns; each backing service by port to any address, because managed databases (RDS, Cloud
 * SQL, Memorystore) live outside the cluster where no pod selector reaches and their addresses
 * are not known when the manifests are generated; HTTP(S) to public addresses only when the app
 * delivers webhooks; the OTLP collector's port when keel.yaml turns tracing on.
 */
export function networkPolicy(plan: DeploymentPlan): INetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: objectMeta(plan),
    spec: {
      podSelector: { matchLabels: selectorLabels(plan) },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ ports: plan.ports.map((p) => ({ protocol: 'TCP', port: p.port })) }],
      egress: egressRules(plan),
    },
  }
}

function egressRules(plan: DeploymentPlan): INetworkPolicyEgressRule[] {
  const rules: INetworkPolicyEgressRule[] = [
    {
      to: [
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
          podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
        },
      ],
      ports: [
        { protocol: 'UDP', port: 53 },
        { protocol: 'TCP', port: 53 },
      ],
    },
  ]
  const anywhere = [...plan.services.map((s) => backingServicePorts[s]), ...tracingPorts(plan)]
  if (anywhere.length > 0)
    rules.push({
      ports: [...new Set(anywhere)].sort((a, b) => a - b).map((port) => ({ protocol: 'TCP', port })),
    })
  if (deliversWebhooks(plan))
    rules.push({
      to: [
        { ipBlock: { cidr: '0.0.0.0/0', except: privateIpv4 } },
        { ipBlock: { cidr: '::/0', except: privateIpv6 } },
      ],
      ports: [
        { protocol: 'TCP', port: 80 },
        { protocol: 'TCP', port: 443 },
      ],
    })
  return rules
}

/** True when a module of the app sends webhooks (keel/webhooks describes itself so). */
const deliversWebhooks = (plan: DeploymentPlan): boolean =>
  plan.description.modules.some((module) => module.webhooks !== undefined)

/**
 * The OTLP collector's port when the deployed keel.yaml enables tracing: the endpoint's port, or
 * 4318 (OTLP/HTTP) when the endpoint is a `${VAR}` reference or has none of its own.
 */
function tracingPorts(plan: DeploymentPlan): number[] {
  const tracing = (parse(plan.config.file) as { tracing?: { enabled?: unknown; endpoint?: unknown } } | null)
    ?.tracing
  if (tracing?.enabled !== true) return []
  const endpoint = typeof tracing.endpoint === 'string' ? tracing.endpoint : ''
  if (!URL.canParse(endpoint)) return [4318]
  const url = new URL(endpoint)
  return [
    url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : url.protocol === 'http:' ? 80 : 4318,
  ]
}
