-- import_mark_undone: record when and by whom an import was undone (its record stays listed).
-- params: $import_id, $undone_at, $undone_by
-- returns: nothing
update imports
set undone_at = $undone_at, undone_by = $undone_by
where import_id = $import_id
