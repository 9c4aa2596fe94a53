// What recording one request in the HTTP RED metrics costs: prom-client bound children (as
// before) against the bound metrics Keel uses now. Run: node --conditions=source --import tsx bench/http-metrics.ts
import { Counter, Histogram, Registry } from 'prom-client'
import { createMetrics } from '../src/telemetry/metrics.ts'

const N = 1_000_000
const bound = createMetrics({ defaultMetrics: false }).http
const reg = new Registry()
const labelNames = ['method', 'route', 'status'] as const
const c = new Counter({ name: 'a_total', help: 'a', labelNames, registers: [reg] })
const h = new Histogram({
  name: 'b',
  help: 'b',
  labelNames,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [reg],
})
const cc = c.labels('GET', '/hello', '200')
const hc = h.labels('GET', '/hello', '200')
const old = () => {
  cc.inc()
  hc.observe(0.0012)
}
for (let round = 0; round < 3; round++) {
  let t = performance.now()
  for (let i = 0; i < N; i++) old()
  const a = performance.now() - t
  t = performance.now()
  for (let i = 0; i < N; i++) bound.observe('GET', '/hello', 200, 0.0012)
  const b = performance.now() - t
  console.log(
    `prom-client bound children: ${((a * 1e6) / N).toFixed(0)} ns/request; keel bound metrics: ${((b * 1e6) / N).toFixed(0)} ns/request`,
  )
}
