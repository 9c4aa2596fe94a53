export { type AppFile, conventionalFiles } from './app-files.ts'
export { type BuildOptions, type BuildReport, buildService } from './build-service.ts'
export { unbundleablePackages } from './runtime-packages.ts'
export { serverEntrySource } from './server-entry.ts'
