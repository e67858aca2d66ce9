-- backtest_run: backtest scores of every candidate model of one run, chosen model flagged.
-- params: $run_id
-- returns: unique_id, model, mase, smape, coverage_80, coverage_95, interval_score, chosen
select unique_id, model, mase, smape, coverage_80, coverage_95, interval_score, chosen
from backtest_metrics
where run_id = $run_id
order by unique_id, model
