import { configValue, fail, pass, type ReadinessCheck, whereSet } from './readiness-check.ts'

const loopback = new Set(['127.0.0.1', 'localhost', '::1'])

/**
 * In a container the app must listen on every interface: bound to loopback, the kubelet's probes
 * and the Service never reach it, and the pod never becomes ready.
 */
export const serverHostCheck: ReadinessCheck = {
  id: 'server-host',
  title: 'listens on every interface',
  run(context) {
    const host = configValue<string>(context, 'server.host') ?? ''
    if (loopback.has(host) || host.startsWith('127.'))
      return fail(
        `server.host ${host}: inside a container nothing outside the pod reaches the app, probes included`,
        `${whereSet(context, 'server.host')}: set 0.0.0.0 (the prod profile's default) in profiles.${context.plan.profile}`,
      )
    return pass(`server.host ${host}`)
  },
}
