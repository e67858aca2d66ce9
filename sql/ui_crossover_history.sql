-- ui_crossover_history: the stored crossover estimates of every run with its creation time, oldest run first.
-- params: none
-- returns: run_id, created_at, status, scenario, sector, state, crossed_at, p10, p50, p90, prob_within_horizon
select r.run_id, r.created_at, r.status, c.scenario, c.sector, c.state, c.crossed_at, c.p10, c.p50, c.p90,
       c.prob_within_horizon
from crossover_estimates c
join forecast_runs r using (run_id)
order by r.created_at, c.scenario, c.sector
