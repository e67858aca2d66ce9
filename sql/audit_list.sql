-- audit_list: the newest audit rows first.
-- params: $limit
-- returns: at_utc, actor, action, detail
select at_utc, actor, action, detail
from audit_log
order by audit_id desc
limit $limit
