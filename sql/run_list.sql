-- run_list: every stored forecast run with its kind, per-series status counts, newest first.
-- params: none
-- returns: run_id, created_at, status, kind, as_of, data_fingerprint, code_version, seed, n_series, n_ok, n_fallback, n_failed, change_report
with counts as (
    select run_id,
           count(*) as n_series,
           count(*) filter (where status = 'ok') as n_ok,
           count(*) filter (where status = 'fallback') as n_fallback,
           count(*) filter (where status = 'failed') as n_failed
    from series_status
    group by run_id
)
select r.run_id, r.created_at, r.status, coalesce(k.kind, 'refresh') as kind, k.as_of, r.data_fingerprint,
       r.code_version, r.seed, coalesce(c.n_series, 0) as n_series, coalesce(c.n_ok, 0) as n_ok,
       coalesce(c.n_fallback, 0) as n_fallback, coalesce(c.n_failed, 0) as n_failed, r.change_report
from forecast_runs r
left join counts c using (run_id)
left join run_kinds k using (run_id)
order by r.created_at desc, r.run_id desc
