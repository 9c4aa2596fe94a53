import { cpuMillicores, memoryBytes } from '../quantity.ts'
import { fail, isChosen, pass, type ReadinessCheck, warn, whereSet } from './readiness-check.ts'

/**
 * CPU and memory requests and limits: a request above its limit is refused by Kubernetes, so it
 * fails; a section nobody set (all defaults) warns, since the defaults fit no service in particular.
 */
export const resourcesCheck: ReadinessCheck = {
  id: 'resources',
  title: 'resource requests and limits',
  run(context) {
    const { cpu, cpuLimit, memory, memoryLimit } = context.plan.deploy.resources
    const over: string[] = []
    const hints: string[] = []
    if ((cpuMillicores(cpu) ?? 0) > (cpuMillicores(cpuLimit) ?? Number.POSITIVE_INFINITY)) {
      over.push(`cpu ${cpu} > cpuLimit ${cpuLimit}`)
      hints.push(
        `${whereSet(context, 'deploy.resources.cpu')}: lower it to at most deploy.resources.cpuLimit (${cpuLimit}), or raise the limit`,
      )
    }
    if ((memoryBytes(memory) ?? 0) > (memoryBytes(memoryLimit) ?? Number.POSITIVE_INFINITY)) {
      over.push(`memory ${memory} > memoryLimit ${memoryLimit}`)
      hints.push(
        `${whereSet(context, 'deploy.resources.memory')}: lower it to at most deploy.resources.memoryLimit (${memoryLimit}), or raise the limit`,
      )
    }
    const summary = `requests cpu ${cpu}, memory ${memory}; limits cpu ${cpuLimit}, memory ${memoryLimit}`
    if (over.length > 0) return fail(`a request exceeds its limit: ${over.join(', ')}`, hints.join('; '))
    if (!isChosen(context, 'deploy.resources'))
      return warn(
        `deploy.resources is all defaults (${summary}): nobody sized this service`,
        `deploy.resources (not set): set cpu, memory, cpuLimit and memoryLimit in profiles.${context.plan.profile} of keel.yaml from a load test (keel loadtest)`,
      )
    return pass(summary)
  },
}
