-- import_get: one recorded import by id (no row if unknown).
-- params: $import_id
-- returns: import_id, imported_at, file_name, row_count, inserted, updated, actor, sectors, undone_at
select import_id, imported_at, file_name, row_count, inserted, updated, actor, sectors, undone_at
from imports
where import_id = $import_id
