-- migrate_002: the history each forecast run was fitted on (for vintages, restatement checks and exports).
-- Applied once by store.migrate() as version 2; idempotent DDL.

create table if not exists run_history (
    run_id     varchar not null,
    unique_id  varchar not null,
    ds         date not null,
    y          double not null,
    primary key (run_id, unique_id, ds)
);
