import { preStopSeconds } from '../k8s/names.ts'
import { fail, pass, type ReadinessCheck, warn, whereSet } from './readiness-check.ts'

/** Below this margin between the app's deadline and Kubernetes' SIGKILL, a slow exit gets killed. */
export const GRACE_MARGIN_MS = 2000

/**
 * The app's own shutdown deadline fires before Kubernetes kills the pod. The grace period starts
 * with the generated preStop wait (the drain delay, see `keel gen k8s`), so the app has the rest
 * after SIGTERM: a deadline at or past that fails (the pod is killed mid-shutdown, without the
 * app's report), a margin under {@link GRACE_MARGIN_MS} warns (logs flush and the process exits in it).
 */
export const shutdownDeadlineCheck: ReadinessCheck = {
  id: 'shutdown-deadline',
  title: 'shutdown deadline within the grace period',
  run(context) {
    const { plan } = context
    const deadlineMs = plan.shutdown.deadlineMs
    const preStop = preStopSeconds(plan)
    const afterSigtermMs = (plan.terminationGracePeriodSeconds - preStop) * 1000
    const marginMs = afterSigtermMs - deadlineMs
    const facts = `shutdown.deadlineMs ${deadlineMs}, terminationGracePeriodSeconds ${plan.terminationGracePeriodSeconds}${preStop > 0 ? ` less the ${preStop} s preStop wait` : ''}`
    const needed = Math.ceil((deadlineMs + GRACE_MARGIN_MS) / 1000) + preStop
    const fix = `${whereSet(context, 'deploy.terminationGracePeriodSeconds')}: raise it to at least ${needed}, or lower shutdown.deadlineMs (${whereSet(context, 'shutdown.deadlineMs')}); 0 derives it as drain delay + deadline + 5 s`
    if (marginMs <= 0) return fail(`${facts}: Kubernetes kills the pod before the app's own deadline`, fix)
    if (marginMs < GRACE_MARGIN_MS)
      return warn(`${facts}: only ${marginMs} ms between the app's deadline and the kill`, fix)
    return pass(`${facts}: ${marginMs / 1000} s margin`)
  },
}

/**
 * A drain delay keeps serving while load balancers notice /ready answering 503; without one, a
 * rollout drops the requests they still send to a closing pod.
 */
export const drainDelayCheck: ReadinessCheck = {
  id: 'drain-delay',
  title: 'drain delay before the listener closes',
  run(context) {
    const { drainDelayMs } = context.plan.shutdown
    if (drainDelayMs > 0) return pass(`shutdown.drainDelayMs ${drainDelayMs}`)
    return warn(
      'shutdown.drainDelayMs is 0: load balancers keep sending requests to a pod that stopped listening during a rollout',
      `${whereSet(context, 'shutdown.drainDelayMs')}: set 5000 (the prod profile's default) or more in profiles.${context.plan.profile}`,
    )
  },
}
