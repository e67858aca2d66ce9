-- integrity_blobs: stored blobs whose bytes no longer match the SHA-256 checksum written with them.
-- params: none
-- returns: table_name, run_id, unique_id
select 'sample_paths' as table_name, run_id, unique_id
from sample_paths
where checksum is distinct from sha256(paths)
union all
select 'run_structural' as table_name, run_id, '' as unique_id
from run_structural
where checksum is distinct from sha256(draws)
order by table_name, run_id, unique_id
