import type { DeploymentPlan } from '../deployment-plan.ts'
import { generatedHeader } from './generated-header.ts'

/**
 * What the build context leaves out: installed and built output (the image installs and builds
 * its own), secrets (.env files), git history, deployment artifacts, test output, logs and the
 * embedded database of development runs (`.keel/`). Patterns match at any depth.
 */
const ignored: ReadonlyArray<{ readonly why: string; readonly patterns: readonly string[] }> = [
  { why: 'installed and built by the image itself', patterns: ['**/node_modules', 'dist'] },
  { why: 'history and editor state', patterns: ['.git', '.gitignore', '.idea', '.vscode'] },
  {
    why: 'secrets: the running container gets them from its environment',
    patterns: ['**/.env', '**/.env.*'],
  },
  { why: 'deployment artifacts (keel gen --out), never part of the image', patterns: ['deploy'] },
  {
    why: 'test output and logs',
    patterns: ['coverage', 'test-results', 'playwright-report', '.vitest', '**/*.log'],
  },
  { why: 'embedded data of development runs (PGlite, trace store)', patterns: ['**/.keel'] },
]

/** `Dockerfile.dockerignore`: BuildKit reads it beside the Dockerfile, in place of the context's .dockerignore. */
export function dockerignore(plan: DeploymentPlan): string {
  const sections = ignored.map(({ why, patterns }) => [`# ${why}`, ...patterns].join('\n'))
  return `${generatedHeader(plan)}\n\n${sections.join('\n\n')}\n`
}
