-- paths_run: the joint sample paths of one run, one np.save blob of shape (n_paths, horizon) per series.
-- params: $run_id
-- returns: unique_id, n_paths, horizon, first_ds, paths
select unique_id, n_paths, horizon, first_ds, paths
from sample_paths
where run_id = $run_id
order by unique_id
