import type { Migration } from '../data/index.ts'

/** The hash a chain's first entry points back to: 64 zeros. */
export const genesisHash = '0'.repeat(64)

/**
 * The audit trail's tables, applied by `migrate(db, 'keel_audit', auditMigrations)`.
 *
 * `keel_audit_head` holds one row: the last sequence number and hash. Every append locks it
 * (`for update`), so appends from any number of processes form one line and the chain cannot
 * fork. A trigger refuses updates and deletes of entries; someone able to drop the trigger can
 * still edit rows, which is what `verify` is for.
 */
export const auditMigrations: readonly Migration[] = [
  {
    id: '0001_entries_head',
    up: `
create table keel_audit_entries (
  seq bigint primary key,
  at timestamptz not null,
  actor text,
  action text not null,
  subject text,
  data jsonb not null,
  prev_hash text not null,
  hash text not null unique
);
create index keel_audit_entries_subject on keel_audit_entries (subject, seq);
create table keel_audit_head (
  id boolean primary key default true check (id),
  seq bigint not null,
  hash text not null
);
insert into keel_audit_head (seq, hash) values (0, '${genesisHash}');
create function keel_audit_refuse_change() returns trigger language plpgsql as $$
begin
  raise exception 'keel_audit_entries is append-only: % refused', tg_op using errcode = 'insufficient_privilege';
end
$$;
create trigger keel_audit_append_only before update or delete on keel_audit_entries
  for each row execute function keel_audit_refuse_change();
create trigger keel_audit_no_truncate before truncate on keel_audit_entries
  for each statement execute function keel_audit_refuse_change();
`,
    down: `
drop table keel_audit_entries;
drop table keel_audit_head;
drop function keel_audit_refuse_change();
`,
  },
]
