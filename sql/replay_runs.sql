-- replay_runs: the replays of the crossover backtest, oldest as-of date first.
-- params: none
-- returns: run_id, as_of
select run_id, as_of
from run_kinds
where kind = 'replay'
order by as_of, run_id
