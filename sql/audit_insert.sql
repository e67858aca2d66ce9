-- audit_insert: append one audit row (at_utc is UTC, without a time zone).
-- params: $at_utc, $actor, $action, $detail
insert into audit_log (at_utc, actor, action, detail)
values ($at_utc, $actor, $action, $detail)
