import { describeSensitiveLogs } from './sensitive-logs-contract.ts'

describeSensitiveLogs('PGlite', async () => undefined)
