-- How long the flow spent looking a backfill chunk's articles up in the dedup index
-- (seconds; NULL for chunks loaded before this column): what grows with the index, so
-- what a long backfill watches (bench/throughput.py).
-- Append-only: change with a new NNN_slug.sql.
ALTER TABLE backfill_chunks ADD COLUMN dedup_s DOUBLE;
