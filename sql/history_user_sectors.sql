-- history_user_sectors: sectors with at least one imported (user) row; the structural model leaves them out.
-- params: none
-- returns: sector
select distinct sector
from spend_history
where provenance = 'user'
order by sector
