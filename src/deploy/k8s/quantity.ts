import { cpuMillicores, memoryBytes } from '../quantity.ts'

/**
 * Halves a Kubernetes resource quantity for a smaller environment, never below `floor` and never
 * above the quantity itself: CPU in millicores (`250m` → `125m`, `1` → `500m`), memory in MiB
 * (`256Mi` → `128Mi`, `1Gi` → `512Mi`). keel.yaml's schema admits exactly these forms.
 */
export function halfCpu(quantity: string, floorMillicores = 50): string {
  const millicores = cpuMillicores(quantity)
  if (millicores === undefined) return quantity
  return `${Math.round(Math.min(millicores, Math.max(millicores / 2, floorMillicores)))}m`
}

/** See {@link halfCpu}; memory is rounded down to whole MiB. */
export function halfMemory(quantity: string, floorMebibytes = 64): string {
  const bytes = memoryBytes(quantity)
  if (bytes === undefined) return quantity
  const mebibytes = bytes / 2 ** 20
  const half = Math.min(mebibytes, Math.max(mebibytes / 2, floorMebibytes))
  return half >= 1 ? `${Math.floor(half)}Mi` : quantity
}
