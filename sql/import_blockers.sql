-- import_blockers: later imports, not undone, that wrote rows this import wrote (undo those first).
-- params: $import_id
-- returns: import_id, file_name, row_count (rows in common)
select later.import_id, later.file_name, count(*) as row_count
from import_rows as mine
join import_rows as theirs
  on theirs.period = mine.period and theirs.sector = mine.sector and theirs.region = mine.region
 and theirs.workload = mine.workload and theirs.import_id > mine.import_id
join imports as later
  on later.import_id = theirs.import_id and later.undone_at is null
where mine.import_id = $import_id
group by later.import_id, later.file_name
order by later.import_id
