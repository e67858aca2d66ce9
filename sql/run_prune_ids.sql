-- run_prune_ids: ordinary runs beyond the newest $keep, oldest last; these are deleted by retention
-- (replays of the crossover backtest are kept until the next backtest replaces them).  The run being
-- published ($run_id) is never among them and counts as the newest, whatever the clock said.
-- params: $keep, $run_id
-- returns: run_id
select run_id
from forecast_runs
where run_id not in (select run_id from run_kinds)
    and run_id <> $run_id
order by created_at desc, run_id desc
offset $keep - 1
