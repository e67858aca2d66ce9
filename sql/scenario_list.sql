-- scenario_list: every saved scenario, presets first, then by name.
-- params: none
-- returns: name, description, author, is_preset, created_at, updated_at
select name, description, author, is_preset, created_at, updated_at
from scenarios
order by is_preset desc, name
