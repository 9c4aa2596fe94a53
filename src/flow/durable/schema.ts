import type { Migration } from '../../data/index.ts'

/** The durable runner's tables, applied by `migrate(db, 'keel_flow', flowMigrations)` at start. */
export const flowMigrations: readonly Migration[] = [
  {
    id: '0001_runs_checkpoints_events',
    up: `
create table keel_flow_runs (
  id text primary key,
  flow text not null,
  version text not null,
  status text not null,
  input jsonb,
  output jsonb,
  fault jsonb,
  error jsonb,
  context jsonb not null default '{}',
  wake_at timestamptz,
  owner text,
  lease_until timestamptz,
  executions integer not null default 0,
  resumes integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz
);
create index keel_flow_runs_claimable on keel_flow_runs (flow, wake_at)
  where status in ('pending', 'running', 'sleeping', 'compensating');
create index keel_flow_runs_by_status on keel_flow_runs (status, updated_at);
create table keel_flow_checkpoints (
  run_id text not null references keel_flow_runs (id) on delete cascade,
  key text not null,
  seq integer not null,
  kind text not null,
  status text not null,
  output jsonb,
  path text,
  fault jsonb,
  wake_at timestamptz,
  recorded_at timestamptz not null default now(),
  primary key (run_id, key)
);
create table keel_flow_events (
  run_id text not null references keel_flow_runs (id) on delete cascade,
  seq integer not null,
  at timestamptz not null,
  type text not null,
  step text,
  attempt integer,
  duration_ms double precision,
  error jsonb,
  data jsonb,
  primary key (run_id, seq)
);
`,
    down: 'drop table keel_flow_events; drop table keel_flow_checkpoints; drop table keel_flow_runs;',
  },
  {
    // The W3C traceparent of the span that submitted the run (null: not traced), so the worker
    // that executes it later continues (first execution) or links (later ones) that trace.
    id: '0002_run_trace_parent',
    up: 'alter table keel_flow_runs add column trace_parent text;',
    down: 'alter table keel_flow_runs drop column trace_parent;',
  },
]
