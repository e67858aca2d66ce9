-- migrate_003: the assumptions of every saved scenario as they stood when a forecast run was made,
-- so that a vintage comparison under a scenario can tell moved assumptions from moved data.
-- Applied once by store.migrate() as version 3; idempotent DDL.

create table if not exists run_scenarios (
    run_id       varchar not null,
    scenario     varchar not null,
    params_json  varchar not null,
    primary key (run_id, scenario)
);
