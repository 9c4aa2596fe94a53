/**
 * The base image of both stages: Node 20 (Keel's floor) on Debian bookworm, slim variant. The
 * build stage needs npm; the runtime stage reuses the same image so native addons built by
 * `npm ci` match its glibc and Node ABI exactly.
 */
export const nodeImage = 'node:20-bookworm-slim'

/**
 * The user the service runs as: numeric, so Kubernetes can check `runAsNonRoot` without reading
 * /etc/passwd, above the range of host users (1000…) and matching the k8s generator's
 * `runAsUser`.
 */
export const runtimeUid = 10001

/** Where the image holds the build: server.mjs, keel.yaml, node_modules (the k8s ConfigMap mounts here). */
export const appDirectory = '/app'
