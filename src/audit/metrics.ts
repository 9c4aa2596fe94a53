import type { Registry } from 'prom-client'
import { BoundCounter, BoundHistogram, perRegistry } from '../telemetry/index.ts'

/** Audit metrics on an app's registry. */
export interface AuditMetrics {
  /** One commit of `entries` appends took `seconds`. */
  committed(entries: number, seconds: number): void
  /** `verify` walked the chain and found it intact or broken. */
  verified(ok: boolean): void
  /** An auth event (`auth.refused`, `auth.accepted`) was over `audit.authMaxPerSecond` and not appended. */
  authDropped(action: AuthAuditAction): void
  /** An auth event's append failed (it is logged too). */
  authFailed(action: AuthAuditAction): void
}

/** The actions `audit.auth` appends. */
export type AuthAuditAction = 'auth.refused' | 'auth.accepted'

/** The audit metrics of `registry`, shared by every trail on it. */
export const auditMetrics: (registry: Registry) => AuditMetrics = perRegistry((registry) => {
  const appends = new BoundCounter({
    name: 'keel_audit_appends_total',
    help: 'Audit entries appended to the chain',
    labelNames: [],
    registry,
  }).labels()
  const commits = new BoundHistogram({
    name: 'keel_audit_commit_duration_seconds',
    help: 'Duration of one append commit (one or more entries under the chain lock)',
    labelNames: [],
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
    registry,
  }).labels()
  const verifications = new BoundCounter({
    name: 'keel_audit_verifications_total',
    help: 'Chain verifications by result (intact, broken)',
    labelNames: ['result'],
    registry,
  })
  const authDropped = new BoundCounter({
    name: 'keel_audit_auth_dropped_total',
    help: 'Auth events not appended because they were over audit.authMaxPerSecond, by action',
    labelNames: ['action'],
    registry,
  })
  const authFailed = new BoundCounter({
    name: 'keel_audit_auth_failures_total',
    help: 'Auth events whose append failed (logged), by action',
    labelNames: ['action'],
    registry,
  })
  const dropped = {
    'auth.refused': authDropped.labels('auth.refused'),
    'auth.accepted': authDropped.labels('auth.accepted'),
  }
  const failed = {
    'auth.refused': authFailed.labels('auth.refused'),
    'auth.accepted': authFailed.labels('auth.accepted'),
  }
  const intact = verifications.labels('intact')
  const broken = verifications.labels('broken')
  return {
    committed(entries, seconds) {
      appends.inc(entries)
      commits.observe(seconds)
    },
    verified(ok) {
      ;(ok ? intact : broken).inc()
    },
    authDropped(action) {
      dropped[action].inc()
    },
    authFailed(action) {
      failed[action].inc()
    },
  }
})
