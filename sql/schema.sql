-- schema: every table of the Crossover database, as idempotent DDL.
-- Applied by store.migrate(); each numbered migration in store.MIGRATIONS runs once and is recorded in
-- schema_version. Version 1 is this file. Later versions add ALTER statements; never drop user data.

create table if not exists schema_version (
    version     integer primary key,
    applied_at  timestamp not null default current_timestamp
);

create table if not exists sources (
    source_id    varchar primary key,
    publisher    varchar not null,
    title        varchar not null,
    source_date  varchar,
    url          varchar
);

create table if not exists published_estimates (
    estimate_id  varchar primary key,
    metric       varchar not null,
    scope        varchar,
    sector       varchar,
    year         integer,
    period       varchar,
    value        double not null,
    unit         varchar not null,
    kind         varchar not null check (kind in ('actual', 'forecast')),
    source_id    varchar not null references sources (source_id),
    note         varchar
);

create table if not exists spend_history (
    period       date not null,
    sector       varchar not null,
    region       varchar not null default 'worldwide',
    workload     varchar not null check (workload in ('training', 'inference')),
    spend_usd    double not null check (spend_usd >= 0),
    provenance   varchar not null check (provenance in ('published', 'derived', 'modelled', 'user')),
    source_ids   varchar,
    method       varchar,
    imported_at  timestamp,
    primary key (period, sector, region, workload)
);

create table if not exists scenarios (
    name         varchar primary key,
    description  varchar not null default '',
    author       varchar not null default '',
    params_json  varchar not null,
    is_preset    boolean not null default false,
    created_at   timestamp not null default current_timestamp,
    updated_at   timestamp not null default current_timestamp
);

create table if not exists forecast_runs (
    run_id            varchar primary key,
    created_at        timestamp not null,
    data_fingerprint  varchar not null,
    config_json       varchar not null,
    code_version      varchar not null,
    status            varchar not null check (status in ('published', 'superseded')),
    seed              bigint not null,
    timings_json      varchar not null default '{}',
    change_report     varchar not null default ''
);

create table if not exists series_status (
    run_id     varchar not null,
    unique_id  varchar not null,
    status     varchar not null check (status in ('ok', 'fallback', 'failed')),
    model      varchar,
    message    varchar,
    primary key (run_id, unique_id)
);

create table if not exists forecasts (
    run_id         varchar not null,
    unique_id      varchar not null,
    ds             date not null,
    model          varchar not null,
    yhat           double not null,
    yhat_lower_80  double not null,
    yhat_upper_80  double not null,
    yhat_lower_95  double not null,
    yhat_upper_95  double not null,
    primary key (run_id, unique_id, ds)
);

create table if not exists sample_paths (
    run_id     varchar not null,
    unique_id  varchar not null,
    n_paths    integer not null,
    horizon    integer not null,
    first_ds   date not null,
    paths      blob not null,
    primary key (run_id, unique_id)
);

create table if not exists backtest_metrics (
    run_id          varchar not null,
    unique_id       varchar not null,
    model           varchar not null,
    mase            double,
    smape           double,
    coverage_80     double,
    coverage_95     double,
    interval_score  double,
    chosen          boolean not null default false,
    primary key (run_id, unique_id, model)
);

create table if not exists crossover_estimates (
    run_id               varchar not null,
    scenario             varchar not null,
    sector               varchar not null,
    state                varchar not null,
    crossed_at           date,
    p10                  date,
    p50                  date,
    p90                  date,
    prob_within_horizon  double,
    primary key (run_id, scenario, sector)
);
