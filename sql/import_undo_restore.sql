-- import_undo_restore: put back the values an import replaced.
-- params: $import_id
-- returns: nothing
insert or replace into spend_history
    (period, sector, region, workload, spend_usd, provenance, source_ids, method, imported_at)
select period, sector, region, workload, before_spend_usd, before_provenance, before_source_ids,
       before_method, before_imported_at
from import_rows
where import_id = $import_id and before_provenance is not null
