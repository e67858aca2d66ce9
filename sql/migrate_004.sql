-- migrate_004: the share model's inputs (published inference-share anchors with their definitions, and
-- published crossover claims) and, per forecast run, the structural model's draws.
-- Applied once by store.migrate() as version 4; idempotent DDL.

create table if not exists share_anchors (
    anchor_id     varchar primary key,
    definition    varchar not null,
    t             double not null,
    value         double not null check (value > 0 and value < 1),
    bound         varchar not null check (bound in ('point', 'lower', 'upper')),
    published     varchar,
    estimate_ids  varchar,
    note          varchar
);

create table if not exists crossover_claims (
    claim_id         varchar primary key,
    publisher        varchar not null,
    published        varchar,
    definition       varchar not null,
    crossover_year   integer,
    inference_share  double,
    share_year       integer,
    kind             varchar,
    quote            varchar,
    url              varchar,
    via              varchar,
    note             varchar
);

create table if not exists run_structural (
    run_id     varchar primary key,
    meta_json  varchar not null,
    draws      blob not null
);
