const cpuPattern = /^([0-9]+(?:\.[0-9]+)?)(m?)$/
const memoryPattern = /^([0-9]+)(Ki|Mi|Gi|Ti|k|M|G|T)?$/
const memoryFactors: Readonly<Record<string, number>> = {
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

/**
 * A Kubernetes CPU quantity in millicores: `250m` → 250, `1` → 1000, `0.5` → 500. `undefined` for
 * text that is not one (the `deploy` section's schema already refuses those).
 */
export function cpuMillicores(quantity: string): number | undefined {
  const match = cpuPattern.exec(quantity)
  if (!match) return undefined
  const amount = Number(match[1])
  return match[2] === 'm' ? amount : amount * 1000
}

/** A Kubernetes memory quantity in bytes: `256Mi` → 268435456, `1G` → 1e9, `512` → 512. */
export function memoryBytes(quantity: string): number | undefined {
  const match = memoryPattern.exec(quantity)
  if (!match) return undefined
  return Number(match[1]) * memoryFactors[match[2] ?? '']!
}
