import { runApp } from 'keel'

await runApp(() => import('./app.ts'))
