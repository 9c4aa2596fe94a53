import { KeelError } from '../../errors/index.ts'
import type { DeploymentPlan } from '../deployment-plan.ts'
import { generatedHeader } from './generated-header.ts'
import { healthcheckScript } from './healthcheck.ts'
import { appDirectory, nodeImage, runtimeUid } from './image-settings.ts'

/** An instruction in exec form: a JSON array, so no shell parses (or swallows signals of) the command. */
const exec = (...words: string[]) => JSON.stringify(words).replaceAll('","', '", "')

// npm's cache survives between builds (BuildKit cache mount), so a changed lockfile re-downloads only what changed.
const npmCache = '--mount=type=cache,target=/root/.npm,sharing=locked'

/**
 * The Dockerfile of the service. Two stages from one base image: `build` installs the project
 * (`npm ci`), runs `keel build` for the plan's entry and installs the bundle's few runtime
 * packages (`npm ci` again, from the lockfile the build cut from the project's); `runtime` holds
 * only that folder, runs as a numeric non-root user, and says how to probe and stop it. Nothing
 * in it depends on the version, so a release does not change it.
 */
export function dockerfile(plan: DeploymentPlan): string {
  const serving = plan.ports[0]
  if (!serving || plan.ports.some((port) => port.port === 0))
    throw new KeelError(
      'KEEL_CONFIG_INVALID',
      `server.port: is 0 in profile ${plan.profile}; an image needs fixed ports to EXPOSE and probe`,
    )
  const ports = [...new Set(plan.ports.map((port) => port.port))]
  const image = plan.deploy.image || plan.name
  const uid = String(runtimeUid)
  // HEALTHCHECK waits as long as the app may take to start before failures count.
  const lines = [
    '# syntax=docker/dockerfile:1',
    generatedHeader(plan),
    '#',
    '# Build from the project root (the build context); deploy/ is the default --out of keel gen:',
    `#   docker build -f deploy/docker/Dockerfile -t ${image} .`,
    '# BuildKit (the default builder since Docker 23) reads Dockerfile.dockerignore beside this file.',
    '#',
    `# Base images are pinned by tag. To pin a digest too, pass the image with it, e.g.`,
    `#   --build-arg NODE_IMAGE=${nodeImage}@sha256:<digest>`,
    `# (docker buildx imagetools inspect ${nodeImage} prints the digest).`,
    '',
    `ARG NODE_IMAGE=${nodeImage}`,
    '',
    '# Build: install the project, bundle the service, install the packages the bundle loads at run time.',
    'FROM ${NODE_IMAGE} AS build',
    'WORKDIR /src',
    'COPY package.json package-lock.json ./',
    `RUN ${npmCache} npm ci --no-audit --no-fund`,
    'COPY . .',
    // The project's own keel: `npx keel` would fetch an unrelated package named keel if it were missing.
    `RUN ${exec('./node_modules/.bin/keel', 'build', '--entry', plan.entry, '--out', `${appDirectory}/dist`)}`,
    `WORKDIR ${appDirectory}/dist`,
    // keel build cut package-lock.json from the project's (npm ci above needs one): the bundle's
    // packages and their dependencies install at the pinned versions, never resolved again. Should
    // the build not write it (its warning says why), npm ci fails rather than pick other versions.
    `RUN ${npmCache} npm ci --omit=dev --no-audit --no-fund`,
    '',
    '# Runtime: the bundle, its node_modules and the files it reads; no sources, no npm.',
    'FROM ${NODE_IMAGE} AS runtime',
    `RUN groupadd --gid ${uid} app \\`,
    `  && useradd --uid ${uid} --gid ${uid} --no-create-home --shell /usr/sbin/nologin app \\`,
    '  && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \\',
    '    /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \\',
    // The embedded database (PGlite) of a run without DATABASE_URL writes under .keel/ by default.
    `  && mkdir -p ${appDirectory}/.keel && chown ${uid}:${uid} ${appDirectory}/.keel`,
    `ENV NODE_ENV=production KEEL_PROFILE=${plan.profile}`,
    `WORKDIR ${appDirectory}`,
    // Owned by root and read-only to the service: it cannot change its own code.
    `COPY --from=build ${appDirectory}/dist ./`,
    `USER ${uid}:${uid}`,
    `EXPOSE ${ports.join(' ')}`,
    'STOPSIGNAL SIGTERM',
    `HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \\`,
    `  CMD ${exec('node', '-e', healthcheckScript(plan))}`,
    // Exec form: node is PID 1 and receives SIGTERM itself, so the app drains and shuts down in order.
    `CMD ${exec('node', '--enable-source-maps', 'server.mjs')}`,
    '',
  ]
  return lines.join('\n')
}
