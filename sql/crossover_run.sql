-- crossover_run: stored crossover estimates of one run for one scenario.
-- params: $run_id, $scenario
-- returns: sector, state, crossed_at, p10, p50, p90, prob_within_horizon
select sector, state, crossed_at, p10, p50, p90, prob_within_horizon
from crossover_estimates
where run_id = $run_id and scenario = $scenario
order by sector
