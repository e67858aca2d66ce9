-- scenario_upsert: create a scenario, or update its text and parameters keeping its created_at.
-- params: $name, $description, $author, $params_json, $is_preset
-- returns: nothing
insert into scenarios (name, description, author, params_json, is_preset, created_at, updated_at)
values ($name, $description, $author, $params_json, $is_preset, now(), now())
on conflict (name) do update set
    description = excluded.description,
    author = excluded.author,
    params_json = excluded.params_json,
    is_preset = excluded.is_preset,
    updated_at = now()
