-- run_status: per-series status of one forecast run (ok, fallback or failed, with the model and message).
-- params: $run_id
-- returns: unique_id, status, model, message
select unique_id, status, model, message
from series_status
where run_id = $run_id
order by unique_id
