-- run_supersede: mark every published run other than the new one as superseded.
-- params: $run_id
-- returns: nothing
update forecast_runs set status = 'superseded'
where status = 'published' and run_id <> $run_id
