-- import_history_rows: every stored spend row with all its columns (an import keeps what it replaces).
-- params: none
-- returns: period, sector, region, workload, spend_usd, provenance, source_ids, method, imported_at
select period, sector, region, workload, spend_usd, provenance, source_ids, method, imported_at
from spend_history
