-- migrate_008: the audit trail: one row per write (scenario save/copy/delete, import, undo, refresh,
-- init), with who made it, when (UTC) and what.  Written only through forecasting.audit.record().
-- Applied once by store.migrate() as version 8; idempotent DDL.

create sequence if not exists audit_log_seq;

create table if not exists audit_log (
    audit_id  bigint primary key default nextval('audit_log_seq'),
    at_utc    timestamp not null,
    actor     varchar not null,
    action    varchar not null,
    detail    varchar not null default ''
);
