-- run_history: the history one forecast run was fitted on.
-- params: $run_id
-- returns: unique_id, ds, y
select unique_id, ds, y
from run_history
where run_id = $run_id
order by unique_id, ds
