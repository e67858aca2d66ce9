-- import_undo_delete: remove the rows an import added (those that replaced nothing).
-- params: $import_id
-- returns: nothing
delete from spend_history as h
using import_rows as r
where r.import_id = $import_id and r.before_provenance is null
  and h.period = r.period and h.sector = r.sector and h.region = r.region and h.workload = r.workload
