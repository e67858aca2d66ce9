-- run_scenarios: the scenario definitions snapshotted by one run.
-- params: $run_id
-- returns: scenario, params_json
select scenario, params_json
from run_scenarios
where run_id = $run_id
order by scenario
