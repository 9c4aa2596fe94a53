/**
 * Halves a Kubernetes resource quantity for a smaller environment, never below `floor` and never
 * above the quantity itself: CPU in millicores (`250m` → `125m`, `1` → `500m`), memory in MiB
 * (`256Mi` → `128Mi`, `1Gi` → `512Mi`). keel.yaml's schema admits exactly these forms.
 */
export function halfCpu(quantity: string, floorMillicores = 50): string {
  const millicores = quantity.endsWith('m') ? Number(quantity.slice(0, -1)) : Number(quantity) * 1000
  return `${Math.round(Math.min(millicores, Math.max(millicores / 2, floorMillicores)))}m`
}

const bytesPer: Readonly<Record<string, number>> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
}

/** See {@link halfCpu}; memory is rounded down to whole MiB. */
export function halfMemory(quantity: string, floorMebibytes = 64): string {
  const match = /^([0-9]+)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity)
  if (!match) return quantity
  const mebibytes = (Number(match[1]) * (bytesPer[match[2] ?? ''] ?? 1)) / 2 ** 20
  const half = Math.min(mebibytes, Math.max(mebibytes / 2, floorMebibytes))
  return half >= 1 ? `${Math.floor(half)}Mi` : quantity
}
