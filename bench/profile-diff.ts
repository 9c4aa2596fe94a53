// Compares two per-function tables written by bench/profile-http.ts: the functions whose self µs
// per request moved most, largest first.
// usage: node bench/profile-diff.ts <before.json> <after.json> [top]
import { readFileSync } from 'node:fs'

const [beforeFile, afterFile, top = '30'] = process.argv.slice(2)
if (!beforeFile || !afterFile)
  throw new Error('usage: bench/profile-diff.ts <before.json> <after.json> [top]')
const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>
const before = read(beforeFile)
const after = read(afterFile)
const rows = [...new Set([...Object.keys(before), ...Object.keys(after)])].map((name) => ({
  name,
  before: before[name] ?? 0,
  after: after[name] ?? 0,
}))
rows.sort((a, b) => Math.abs(b.after - b.before) - Math.abs(a.after - a.before))
console.log('  change  before   after  function')
for (const row of rows.slice(0, Number(top))) {
  const cells = [row.after - row.before, row.before, row.after].map((us) => us.toFixed(2).padStart(7))
  console.log(`${cells.join(' ')}  ${row.name}`)
}
const total = (table: Record<string, number>) => Object.values(table).reduce((sum, us) => sum + us, 0)
console.log(`busy µs per request: ${total(before).toFixed(1)} -> ${total(after).toFixed(1)}`)
