-- integrity_runs: per stored run, the rows it should hold and the rows it holds (integrity.py judges).
-- params: none
-- returns: run_id, status, horizon, n_series, n_fitted, n_forecasts, n_paths, n_crossovers, n_history
with status_counts as (
    select run_id, count(*) as n_series, count(*) filter (where status <> 'failed') as n_fitted
    from series_status
    group by run_id
),
forecast_counts as (
    select run_id, count(*) as n_forecasts from forecasts group by run_id
),
path_counts as (
    select run_id, count(*) as n_paths from sample_paths group by run_id
),
crossover_counts as (
    select run_id, count(*) as n_crossovers from crossover_estimates where scenario = 'baseline' group by run_id
),
history_counts as (
    select run_id, count(*) as n_history from run_history group by run_id
)
select
    r.run_id,
    r.status,
    try_cast(json_extract_string(r.config_json, '$.horizon') as integer) as horizon,
    coalesce(s.n_series, 0) as n_series,
    coalesce(s.n_fitted, 0) as n_fitted,
    coalesce(f.n_forecasts, 0) as n_forecasts,
    coalesce(p.n_paths, 0) as n_paths,
    coalesce(c.n_crossovers, 0) as n_crossovers,
    coalesce(h.n_history, 0) as n_history
from forecast_runs r
left join status_counts s on s.run_id = r.run_id
left join forecast_counts f on f.run_id = r.run_id
left join path_counts p on p.run_id = r.run_id
left join crossover_counts c on c.run_id = r.run_id
left join history_counts h on h.run_id = r.run_id
order by r.created_at, r.run_id
