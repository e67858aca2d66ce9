-- run_prune_ids: runs beyond the newest $keep, oldest last; these are deleted by retention.
-- params: $keep
-- returns: run_id
select run_id
from forecast_runs
order by created_at desc, run_id desc
offset $keep
