-- scenario_get: one scenario by name.
-- params: $name
-- returns: name, description, author, params_json, is_preset, created_at, updated_at
select name, description, author, params_json, is_preset, created_at, updated_at
from scenarios
where name = $name
