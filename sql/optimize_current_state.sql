-- Table upkeep of the current-state Iceberg table, run by the expiry-digest workflow after the digest:
-- compacts the small data and delete files each MERGE leaves into larger ones (bin packing).
-- Athena's own statement (Trino writes it ALTER TABLE ... EXECUTE optimize); locally a shim.
OPTIMIZE facilities REWRITE DATA USING BIN_PACK
