import { KeelError } from '../errors/index.ts'
import type { KeelModule } from './module.ts'

/**
 * Modules sorted so each comes after everything it depends on, keeping registration order
 * otherwise. Missing dependencies and cycles are errors naming the modules involved.
 */
export function startOrder(modules: readonly KeelModule[]): KeelModule[] {
  const byName = new Map<string, KeelModule>()
  for (const module of modules) {
    if (!module || typeof module.name !== 'string' || module.name === '') {
      throw new KeelError('KEEL_MODULE_INVALID', 'every module needs a non-empty string name')
    }
    if (byName.has(module.name))
      throw new KeelError('KEEL_MODULE_INVALID', `module "${module.name}" is registered twice`)
    byName.set(module.name, module)
  }
  const ordered: KeelModule[] = []
  const state = new Map<string, 'visiting' | 'done'>()
  const visit = (module: KeelModule, trail: string[]) => {
    const seen = state.get(module.name)
    if (seen === 'done') return
    if (seen === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(module.name)), module.name].join(' -> ')
      throw new KeelError('KEEL_MODULE_DEPENDENCY', `module dependency cycle: ${cycle}`)
    }
    state.set(module.name, 'visiting')
    for (const dependency of module.dependsOn ?? []) {
      const target = byName.get(dependency)
      if (!target) {
        throw new KeelError(
          'KEEL_MODULE_DEPENDENCY',
          `module "${module.name}" depends on "${dependency}", which is not registered`,
        )
      }
      visit(target, [...trail, module.name])
    }
    state.set(module.name, 'done')
    ordered.push(module)
  }
  for (const module of modules) visit(module, [])
  return ordered
}
