-- forecast_run: the published forecasts of one run, one row per series and future period.
-- params: $run_id
-- returns: unique_id, ds, model, yhat, yhat_lower_80, yhat_upper_80, yhat_lower_95, yhat_upper_95
select unique_id, ds, model, yhat, yhat_lower_80, yhat_upper_80, yhat_lower_95, yhat_upper_95
from forecasts
where run_id = $run_id
order by unique_id, ds
