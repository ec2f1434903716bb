-- Several writers, and resumable backfills.
-- Append-only: change with a new NNN_slug.sql.

-- Which process ran each run: on a DuckLake many writers run at once, and a run left
-- marked `running` is known to be dead only where its host sees its process gone.
ALTER TABLE runs ADD COLUMN host VARCHAR;
ALTER TABLE runs ADD COLUMN pid INTEGER;
-- How much the other writers got in the way: commits that conflicted with theirs and
-- were run again, and the longest a write waited for its turn.
ALTER TABLE runs ADD COLUMN write_conflicts INTEGER;
ALTER TABLE runs ADD COLUMN longest_write_wait_s DOUBLE;

-- One row per WARC file a backfill has seen (`hkai backfill`): how far it got. A file
-- `done` is never read again; a file `failed` (unreadable, corrupt) keeps its reason and
-- the chunks before the damage; a file `reading` when a run died resumes at its first
-- chunk not in `backfill_chunks`.
CREATE TABLE backfill_files (
    path            VARCHAR PRIMARY KEY,       -- absolute path of the file
    size            BIGINT NOT NULL,           -- bytes when indexed; a file that changed size is read anew
    status          VARCHAR NOT NULL,          -- reading | done | failed
    chunks          INTEGER NOT NULL,          -- chunks of pages the file splits into
    pages           BIGINT NOT NULL,           -- HTML responses in the readable part of the file
    error           VARCHAR,                   -- why it failed, with the byte offset of the damage
    run_id          VARCHAR,                   -- the run that last worked on it
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ
);

-- One row per chunk loaded, written in the transaction that loads its articles: what a
-- crashed backfill resumes from.
CREATE TABLE backfill_chunks (
    path            VARCHAR NOT NULL,
    chunk           INTEGER NOT NULL,          -- 0, 1, ... in file order
    start_offset    BIGINT NOT NULL,           -- byte offset of its first record
    pages           INTEGER NOT NULL,
    new_articles    INTEGER NOT NULL,
    run_id          VARCHAR NOT NULL,
    loaded_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (path, chunk)
);
