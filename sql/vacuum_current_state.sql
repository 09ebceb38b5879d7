-- Table upkeep of the current-state Iceberg table, after OPTIMIZE: expires old snapshots and
-- deletes the files no snapshot needs (per the table's vacuum_max_snapshot_age_seconds). Athena may
-- answer ICEBERG_VACUUM_MORE_RUNS_NEEDED: the workflow runs it again. It needs s3:DeleteObject on
-- the table's prefix, or it succeeds and deletes nothing. Athena's own statement; locally a shim.
VACUUM facilities
