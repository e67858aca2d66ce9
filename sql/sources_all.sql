-- sources_all: every source a figure or a history row cites.
-- params: none
-- returns: source_id, publisher, title, source_date, url
select source_id, publisher, title, source_date, url
from sources
order by publisher, source_date, title
