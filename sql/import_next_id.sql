-- import_next_id: the id the next import gets (ids are never reused; undone imports keep theirs).
-- params: none
-- returns: import_id
select coalesce(max(import_id), 0) + 1 as import_id
from imports
