-- import_list: every recorded import, newest first, undone ones included.
-- params: none
-- returns: import_id, imported_at, file_name, row_count, inserted, updated, unchanged, actor, sectors,
--          first_period, last_period, undone_at, undone_by
select import_id, imported_at, file_name, row_count, inserted, updated, unchanged, actor, sectors,
       first_period, last_period, undone_at, undone_by
from imports
order by import_id desc
