-- history_keys: the key, value and provenance of every stored spend row (for import upserts).
-- params: none
-- returns: period, sector, region, workload, provenance, spend_usd, source_ids
select period, sector, region, workload, provenance, spend_usd, source_ids
from spend_history
