-- migrate_007: a SHA-256 checksum beside every stored blob of sample paths and structural draws, so
-- `forecasting check` (integrity.py) can tell a damaged blob from a sound one.  Rows written before
-- this version get the checksum of the bytes they hold now.
-- Applied once by store.migrate() as version 7; idempotent DDL.

alter table sample_paths add column if not exists checksum varchar;

update sample_paths set checksum = sha256(paths) where checksum is null;

alter table run_structural add column if not exists checksum varchar;

update run_structural set checksum = sha256(draws) where checksum is null;
