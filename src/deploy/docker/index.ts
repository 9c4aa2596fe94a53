import type { Generator } from '../generated-file.ts'
import { dockerfile } from './dockerfile.ts'
import { dockerignore } from './dockerignore.ts'

/**
 * `keel gen docker`: `docker/Dockerfile` (multi-stage, non-root, HEALTHCHECK on the ready probe)
 * and `docker/Dockerfile.dockerignore`, which BuildKit reads beside it. Build from the project
 * root: `docker build -f deploy/docker/Dockerfile .`.
 */
export const generateDocker: Generator = (plan) => [
  { path: 'docker/Dockerfile', content: dockerfile(plan) },
  { path: 'docker/Dockerfile.dockerignore', content: dockerignore(plan) },
]
