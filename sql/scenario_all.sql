-- scenario_all: every saved scenario with its parameters (a refresh snapshots them into its run).
-- params: none
-- returns: name, params_json
select name, params_json
from scenarios
order by name
