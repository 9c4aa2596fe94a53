import { defineConfig } from 'vitest/config'

// Tests import `keel/*` as users do; the `source` condition maps those imports to src/*.ts.
const conditions = ['source', 'node', 'import', 'default']

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['source'] } },
  test: {
    // Tests that start an app on PGlite, or spawn the CLI, take 15-25 s on a loaded 2-CPU machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/**/*.services.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'services', include: ['test/**/*.services.test.ts'], fileParallelism: false },
      },
    ],
  },
})
