export { type CriterionCheck, type JudgedNumbers, judge } from './criteria.ts'
export { type EntryApp, importEntryApp } from './entry-app.ts'
export { htmlReport } from './html-report.ts'
export { type LatencyBucket, LatencyHistogram } from './latency-histogram.ts'
export type { LoadtestReport } from './loadtest-report.ts'
export { isLoopbackHost } from './loopback.ts'
export {
  type Measurement,
  type MeasureOptions,
  measureScenario,
  type ScenarioProgress,
  type SecondSample,
} from './measure-scenario.ts'
export { ProgressDisplay, progressLine } from './progress-line.ts'
export { type RunLoadtestOptions, runLoadtest } from './run-loadtest.ts'
export {
  isAllowedStatus,
  type LoadtestCriteria,
  type LoadtestRequest,
  type Scenario,
  type ScenarioOverrides,
  scenariosFrom,
} from './scenario.ts'
export { readScenarioFile, type ScenarioFileContent } from './scenario-file.ts'
export { type LatencySummary, type ScenarioResult, scenarioResult } from './scenario-result.ts'
export { summaryText } from './summary-text.ts'
export { seededRandom, weightedChoice } from './weighted-choice.ts'
