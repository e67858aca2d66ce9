-- run_prune_ids: ordinary runs beyond the newest $keep, oldest last; these are deleted by retention
-- (replays of the crossover backtest are kept until the next backtest replaces them).
-- params: $keep
-- returns: run_id
select run_id
from forecast_runs
where run_id not in (select run_id from run_kinds)
order by created_at desc, run_id desc
offset $keep
