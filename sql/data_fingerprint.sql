-- data_fingerprint: an order-independent hash of the spend history (what a forecast run was fit on).
-- params: none
-- returns: fingerprint
select coalesce(md5(string_agg(
           concat_ws('|', period, sector, region, workload, spend_usd, provenance),
           ';' order by period, sector, region, workload)), 'empty') as fingerprint
from spend_history
