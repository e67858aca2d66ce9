-- estimates_all: the curated published figures with their sources.
-- params: none
-- returns: estimate_id, metric, scope, sector, year, period, value, unit, kind, note, publisher, title, source_date, url
select e.estimate_id, e.metric, e.scope, e.sector, e.year, e.period, e.value, e.unit, e.kind, e.note,
       s.publisher, s.title, s.source_date, s.url
from published_estimates e
join sources s using (source_id)
order by e.metric, e.year, e.period
