-- history_spend: stored spend rows, optionally filtered by provenance (null = all), oldest first.
-- params: $provenance
-- returns: period, sector, region, workload, spend_usd, provenance, source_ids, method
select period, sector, region, workload, spend_usd, provenance, source_ids, method
from spend_history
where $provenance is null or provenance = $provenance
order by period, sector, region, workload
