-- scenario_delete: remove one scenario by name.
-- params: $name
-- returns: nothing
delete from scenarios where name = $name
