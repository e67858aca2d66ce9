-- run_latest: the published forecast run (none before the first refresh).
-- params: none
-- returns: run_id, created_at, data_fingerprint, config_json, code_version, status, seed, timings_json, change_report
select run_id, created_at, data_fingerprint, config_json, code_version, status, seed, timings_json, change_report
from forecast_runs
where status = 'published'
order by created_at desc, run_id desc
limit 1
