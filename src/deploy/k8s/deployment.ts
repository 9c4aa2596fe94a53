import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment'
import type { IContainer } from 'kubernetes-models/v1/Container'
import type { IProbe } from 'kubernetes-models/v1/Probe'
import type { DeploymentPlan } from '../deployment-plan.ts'
import { objectMeta, selectorLabels, standardLabels } from './labels.ts'
import {
  configMapName,
  configPath,
  gracePeriodSeconds,
  preStopSeconds,
  runAsId,
  secretName,
  trafficPort,
} from './names.ts'

/**
 * The app's Deployment: probes at the app's own health paths, the effective keel.yaml from the
 * ConfigMap, secrets from the operator's Secret, the restricted Pod Security profile, a preStop
 * sleep for the drain and a grace period longer than the app's shutdown deadline.
 *
 * `spec.replicas` is left out on purpose: the HorizontalPodAutoscaler owns the count, and a
 * replica count in the manifest would reset it on every `kubectl apply` (the Kubernetes docs
 * advise removing it). The HPA raises a new Deployment to `deploy.replicas.min` at once.
 */
export function deployment(plan: DeploymentPlan): IDeployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: objectMeta(plan),
    spec: {
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(plan) },
      // One extra pod at a time and never one fewer: capacity holds during a rollout.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: standardLabels(plan), ...scrapeAnnotations(plan) },
        spec: {
          automountServiceAccountToken: false,
          // Service links put a variable per Service of the namespace into the environment; the app
          // reads its configuration from keel.yaml and the Secret only.
          enableServiceLinks: false,
          terminationGracePeriodSeconds: gracePeriodSeconds(plan),
          securityContext: {
            runAsNonRoot: true,
            runAsUser: runAsId,
            runAsGroup: runAsId,
            fsGroup: runAsId,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [container(plan)],
          volumes: [
            { name: 'config', configMap: { name: configMapName(plan) } },
            // The root file system is read-only; Node and libraries still want a writable /tmp.
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
          ],
          topologySpreadConstraints: ['kubernetes.io/hostname', 'topology.kubernetes.io/zone'].map(
            (topologyKey) => ({
              maxSkew: 1,
              topologyKey,
              // A preference, so a one-node or one-zone cluster still schedules every replica.
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: selectorLabels(plan) },
              // Count only the pods of the same ReplicaSet, not the old ones a rollout replaces.
              matchLabelKeys: ['pod-template-hash'],
            }),
          ),
        },
      },
    },
  }
}

function container(plan: DeploymentPlan): IContainer {
  const { resources } = plan.deploy
  const sleep = preStopSeconds(plan)
  return {
    name: plan.name,
    image: plan.image,
    imagePullPolicy: 'IfNotPresent',
    ports: plan.ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: 'TCP' })),
    env: [
      { name: 'KEEL_PROFILE', value: plan.profile },
      { name: 'NODE_ENV', value: 'production' },
    ],
    // Without secrets there is no Secret to wait for.
    ...(plan.config.secretNames.length > 0 ? { envFrom: [{ secretRef: { name: secretName(plan) } }] } : {}),
    resources: {
      requests: { cpu: resources.cpu, memory: resources.memory },
      limits: { cpu: resources.cpuLimit, memory: resources.memoryLimit },
    },
    // The app starts once (migrations, connections), then answers /live and /ready cheaply.
    startupProbe: probe(plan, plan.probes.startup, { periodSeconds: 2, failureThreshold: 60 }),
    livenessProbe: probe(plan, plan.probes.live, { periodSeconds: 10, failureThreshold: 3 }),
    readinessProbe: probe(plan, plan.probes.ready, { periodSeconds: 5, failureThreshold: 2 }),
    // The native sleep action (Kubernetes 1.30+): the image needs no shell or `sleep` binary.
    ...(sleep > 0 ? { lifecycle: { preStop: { sleep: { seconds: sleep } } } } : {}),
    securityContext: {
      runAsNonRoot: true,
      runAsUser: runAsId,
      runAsGroup: runAsId,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts: [
      // subPath: the file replaces /app/keel.yaml and leaves the rest of /app from the image.
      { name: 'config', mountPath: configPath, subPath: 'keel.yaml', readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  }
}

function probe(
  plan: DeploymentPlan,
  path: string,
  timing: { periodSeconds: number; failureThreshold: number },
): IProbe {
  const port = trafficPort(plan)
  return {
    httpGet: { path, port: port.name, scheme: port.name === 'https' ? 'HTTPS' : 'HTTP' },
    ...timing,
    timeoutSeconds: 3,
  }
}

/** The `prometheus.io/*` annotations annotation-based scrape configs look for. */
function scrapeAnnotations(plan: DeploymentPlan): { annotations?: Record<string, string> } {
  if (!plan.metrics.enabled) return {}
  const onHttps = plan.ports.some((p) => p.name === 'https' && p.port === plan.metrics.port)
  return {
    annotations: {
      'prometheus.io/path': plan.metrics.path,
      'prometheus.io/port': String(plan.metrics.port),
      ...(onHttps ? { 'prometheus.io/scheme': 'https' } : {}),
      'prometheus.io/scrape': 'true',
    },
  }
}
