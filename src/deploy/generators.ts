import { generateCompose } from './compose/index.ts'
import { generateDocker } from './docker/index.ts'
import type { Generator } from './generated-file.ts'
import { generateKubernetes } from './k8s/index.ts'
import { generateObservability } from './observability/index.ts'

/** The `keel gen` targets, each writing under its own folder of `--out`. */
export const generators = {
  docker: generateDocker,
  k8s: generateKubernetes,
  compose: generateCompose,
  observability: generateObservability,
} as const satisfies Record<string, Generator>

export type GeneratorTarget = keyof typeof generators
