-- migrate_005: runs of another kind than the published vintages: replays of the estimate as of a
-- past date (the crossover backtest).  A run without a row here is an ordinary refresh.
-- Applied once by store.migrate() as version 5; idempotent DDL.

create table if not exists run_kinds (
    run_id  varchar primary key,
    kind    varchar not null check (kind in ('replay')),
    as_of   date not null
);
