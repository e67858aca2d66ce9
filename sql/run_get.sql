-- run_get: one forecast run by id.
-- params: $run_id
-- returns: run_id, created_at, data_fingerprint, config_json, code_version, status, seed, timings_json, change_report
select run_id, created_at, data_fingerprint, config_json, code_version, status, seed, timings_json, change_report
from forecast_runs
where run_id = $run_id
