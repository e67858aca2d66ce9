-- migrate_006: imports as units. Every import that changed the spend history is one row of `imports`
-- (when, in UTC; which file; how many rows; who), and `import_rows` holds each row it wrote with the
-- value it replaced (null `before_provenance`: the row was new), so `forecasting import --undo ID`
-- can remove exactly that import's rows and put back what they replaced.
-- Applied once by store.migrate() as version 6; idempotent DDL.

create table if not exists imports (
    import_id     integer primary key,
    imported_at   timestamp not null,
    file_name     varchar not null,
    row_count     integer not null,
    inserted      integer not null,
    updated       integer not null,
    unchanged     integer not null,
    actor         varchar not null,
    sectors       varchar not null,
    first_period  date not null,
    last_period   date not null,
    undone_at     timestamp,
    undone_by     varchar
);

create table if not exists import_rows (
    import_id           integer not null,
    period              date not null,
    sector              varchar not null,
    region              varchar not null,
    workload            varchar not null,
    spend_usd           double not null,
    source_ids          varchar,
    before_spend_usd    double,
    before_provenance   varchar,
    before_source_ids   varchar,
    before_method       varchar,
    before_imported_at  timestamp,
    primary key (import_id, period, sector, region, workload)
);
