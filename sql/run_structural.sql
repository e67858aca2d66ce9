-- run_structural: a run's structural-model draws (no row: the run used the statistical engine alone).
-- params: $run_id
-- returns: run_id, meta_json, draws
select run_id, meta_json, draws
from run_structural
where run_id = $run_id
