import { Type } from '@sinclair/typebox'
import { defineConfigSection, type SectionProblem } from './schema-section.ts'

const quantity = (pattern: string, fallback: string, description: string) =>
  Type.String({ pattern, default: fallback, description })
// Kubernetes resource quantities: CPU in cores or millicores, memory in bytes with a binary suffix.
const cpu = (fallback: string, description: string) =>
  quantity('^[0-9]+(\\.[0-9]+)?m?$', fallback, description)
const memory = (fallback: string, description: string) =>
  quantity('^[0-9]+(Ki|Mi|Gi|Ti|k|M|G|T)?$', fallback, description)

/**
 * The `deploy` section: what the generators (`keel gen`) and `keel check` need that the app cannot
 * say about itself: image, replicas, resources, ingress and service-level objectives. Apps never
 * read it at run time; it lives in keel.yaml so profiles can differ (staging smaller than prod).
 */
export const deploySection = defineConfigSection(
  'deploy',
  {
    image: Type.String({
      default: '',
      description: 'container image without tag; empty: the service name',
    }),
    namespace: Type.String({
      default: '',
      pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$',
      description: 'Kubernetes namespace; empty: the service name',
    }),
    replicas: Type.Object(
      {
        min: Type.Integer({
          minimum: 1,
          default: 2,
          description: 'HPA floor; also the initial replica count',
        }),
        max: Type.Integer({ minimum: 1, default: 10, description: 'HPA ceiling' }),
        targetCpuPercent: Type.Integer({ minimum: 1, maximum: 100, default: 70 }),
      },
      { additionalProperties: false, default: {} },
    ),
    resources: Type.Object(
      {
        cpu: cpu('250m', 'CPU request'),
        memory: memory('256Mi', 'memory request'),
        cpuLimit: cpu('1', 'CPU limit'),
        memoryLimit: memory('512Mi', 'memory limit'),
      },
      { additionalProperties: false, default: {} },
    ),
    terminationGracePeriodSeconds: Type.Integer({
      minimum: 0,
      default: 0,
      description:
        'time Kubernetes gives a pod to stop; 0: the drain delay (preStop) plus shutdown.deadlineMs plus 5 s',
    }),
    ingress: Type.Object(
      {
        host: Type.String({ default: '', description: 'public host name; empty: no Ingress is generated' }),
        className: Type.String({ default: '', description: 'ingressClassName; empty: the cluster default' }),
        tlsSecret: Type.String({ default: '', description: 'TLS Secret name; empty: <service>-tls' }),
      },
      { additionalProperties: false, default: {} },
    ),
    slos: Type.Object(
      {
        availabilityPercent: Type.Number({
          exclusiveMinimum: 0,
          exclusiveMaximum: 100,
          default: 99.9,
          description:
            'share of requests answered without a 5xx; the error-rate alert fires above its budget',
        }),
        latencyP99Ms: Type.Integer({
          minimum: 1,
          default: 500,
          description: 'p99 request latency objective',
        }),
        jobBacklog: Type.Integer({
          minimum: 1,
          default: 1000,
          description: 'queued jobs per queue before the backlog alert fires',
        }),
        dbPoolSaturationPercent: Type.Integer({
          minimum: 1,
          maximum: 100,
          default: 90,
          description: 'share of the database pool in use before the saturation alert fires',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  {
    check: (deploy) => {
      const problems: SectionProblem[] = []
      if (deploy.replicas.min > deploy.replicas.max)
        problems.push({
          key: 'replicas.min',
          message: `must not exceed deploy.replicas.max (${deploy.replicas.max}), got ${deploy.replicas.min}`,
        })
      return problems
    },
  },
)
