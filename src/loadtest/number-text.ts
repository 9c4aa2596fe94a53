/** A share (0-1) as a percentage with up to four decimals: `0.1%`, `100%`. */
export const percentText = (rate: number): string => `${Number((rate * 100).toFixed(4))}%`

/** Status codes as `200×950 500×50`, in code order; `-` for none. */
export function statusCodesText(statusCodes: Readonly<Record<string, number>>): string {
  const entries = Object.entries(statusCodes).sort(([a], [b]) => Number(a) - Number(b))
  return entries.length === 0 ? '-' : entries.map(([status, count]) => `${status}×${count}`).join(' ')
}
