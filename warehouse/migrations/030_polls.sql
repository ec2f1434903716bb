-- Every poll of a source, by `hkai ingest` or `hkai serve`: what it found and when the
-- source is due next (tasks/acquire/schedule.py decides; warehouse/polls.py writes).
-- `serve` reads the latest row per source when it starts, so due times survive restarts.

CREATE TABLE polls (
    run_id          VARCHAR NOT NULL,           -- the runs row of the flow run that polled
    source          VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ NOT NULL,
    outcome         VARCHAR NOT NULL,           -- new | no_new | unchanged | throttled | failed
    status_code     INTEGER,                    -- of the source's own document
    items_listed    INTEGER NOT NULL DEFAULT 0,
    items_new       INTEGER NOT NULL DEFAULT 0, -- listed URLs never seen before
    articles        INTEGER NOT NULL DEFAULT 0, -- new articles stored from them
    error           VARCHAR,
    retry_after_s   DOUBLE,
    ttl_s           DOUBLE,
    update_period_s DOUBLE,
    has_validators  BOOLEAN,
    recent_items    INTEGER,                    -- items it listed published in the day before
    oldest_recent_at TIMESTAMPTZ,               -- the oldest of their publication times
    interval_s      DOUBLE NOT NULL,            -- until the next poll
    next_due_at     TIMESTAMPTZ NOT NULL,
    reason          VARCHAR                     -- why that interval, in words
);

-- When each source will be polled next (by a running `hkai serve`): the latest poll's decision.
CREATE VIEW next_polls AS
SELECT source, kind, next_due_at,
       CAST(round(epoch(next_due_at) - epoch(now())) AS BIGINT) AS due_in_s,
       interval_s, reason, finished_at AS last_polled_at, outcome AS last_outcome,
       items_new AS last_items_new
FROM polls
QUALIFY row_number() OVER (PARTITION BY source ORDER BY finished_at DESC) = 1
ORDER BY next_due_at;
