/**
 * Keel's CidrList against Node's own net.BlockList, on the same addresses in the same run.
 *
 *   node --conditions=source --import tsx bench/cidr-match.ts
 *
 * Prints ns per check for each and the ratio (BlockList / CidrList; above 1 means Keel is faster).
 */
import { BlockList } from 'node:net'
import { CidrList } from 'keel/http'

const ranges: Array<[string, number, 'ipv4' | 'ipv6']> = [
  ['10.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['2001:db8::', 32, 'ipv6'],
  ['fd00::', 8, 'ipv6'],
]
const keel = new CidrList(ranges.map(([base, prefix]) => `${base}/${prefix}`))
const node = new BlockList()
for (const [base, prefix, family] of ranges) node.addSubnet(base, prefix, family)

const v4 = Array.from({ length: 256 }, (_, i) => `192.168.${i}.${(i * 7) & 255}`)
const v6 = Array.from({ length: 256 }, (_, i) => `2001:db8::${i.toString(16)}`)
const checks = 2_000_000

function time(check: (i: number) => boolean): number {
  let hits = 0
  for (let i = 0; i < 200_000; i++) if (check(i)) hits++
  const start = performance.now()
  for (let i = 0; i < checks; i++) if (check(i)) hits++
  const ns = ((performance.now() - start) * 1e6) / checks
  if (hits < 0) console.log(hits) // keeps the loop observable
  return ns
}

for (const [family, addresses] of [
  ['ipv4', v4],
  ['ipv6', v6],
] as const) {
  const keelNs = time((i) => keel.has(addresses[i & 255]!))
  const nodeNs = time((i) => node.check(addresses[i & 255]!, family))
  console.log(
    `${family}: CidrList ${keelNs.toFixed(0)} ns, BlockList ${nodeNs.toFixed(0)} ns, ratio ${(nodeNs / keelNs).toFixed(1)}x`,
  )
}
