-- history_series: quarterly spend per sector/workload series, summed over regions.
-- params: none
-- returns: unique_id, ds, y
select sector || '/' || workload as unique_id, period as ds, sum(spend_usd) as y
from spend_history
group by sector, workload, period
order by unique_id, ds
