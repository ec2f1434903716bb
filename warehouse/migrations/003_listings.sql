-- Listing events: the alert outbox and the `listings` view users open first.
-- Append-only: change with a new NNN_slug.sql.

-- A stage first seen after the company had already reached it or a later one (an old
-- filing found in a backfill after the known debut): recorded, never alerted.
ALTER TABLE listing_events ADD COLUMN stale BOOLEAN DEFAULT FALSE;

-- The outbox: one row per new event and channel, written in the same transaction as the
-- event (warehouse/listings.record_events) and worked off after the commit (tasks/alerts/delivery).
-- `alerts` keeps one row per delivery attempt outcome; this table keeps the current state.
CREATE TABLE alert_outbox (
    event_id        VARCHAR NOT NULL,
    channel         VARCHAR NOT NULL,          -- redacted label (tasks/alerts/channels.redact_url), never the URL
    idempotency_key VARCHAR NOT NULL UNIQUE,   -- sent with every attempt so receivers can drop repeats
    status          VARCHAR NOT NULL DEFAULT 'pending',  -- pending | sending | sent
    attempts        INTEGER NOT NULL DEFAULT 0,
    enqueued_at     TIMESTAMPTZ NOT NULL,
    claimed_at      TIMESTAMPTZ,               -- when the attempt in flight started (status sending)
    sent_at         TIMESTAMPTZ,
    last_error      VARCHAR,                   -- redacted
    PRIMARY KEY (event_id, channel)
);

-- One row per company: how far its listing has got, when each stage was reached, and the
-- articles that showed it.
CREATE VIEW listings AS
WITH staged AS (
    SELECT e.*,
           a.url AS article_url,
           CASE e.stage WHEN 'filing' THEN 1 WHEN 'hearing' THEN 2 WHEN 'pricing' THEN 3 WHEN 'debut' THEN 4 END
               AS stage_rank
    FROM listing_events e
    LEFT JOIN articles a ON a.article_id = e.article_id
)
SELECT
    company,
    arg_max(stage, stage_rank)                                          AS latest_stage,
    arg_max(exchange, stage_rank)                                       AS exchange,
    arg_max(stock_code, stage_rank) FILTER (WHERE stock_code IS NOT NULL) AS stock_code,
    min(event_date) FILTER (WHERE stage = 'filing')                     AS filed_at,
    min(event_date) FILTER (WHERE stage = 'hearing')                    AS hearing_at,
    min(event_date) FILTER (WHERE stage = 'pricing')                    AS priced_at,
    min(event_date) FILTER (WHERE stage = 'debut')                      AS debuted_at,
    arg_max(amount, stage_rank) FILTER (WHERE amount IS NOT NULL)       AS amount,
    arg_max(currency, stage_rank) FILTER (WHERE amount IS NOT NULL)     AS currency,
    list(stage ORDER BY stage_rank)                                     AS stages,
    coalesce(list(DISTINCT article_url) FILTER (WHERE article_url IS NOT NULL), [])
                                                                        AS evidence_urls,
    bool_or(known)                                                      AS known,
    min(first_seen_at)                                                  AS first_seen_at,
    max(first_seen_at)                                                  AS last_seen_at
FROM staged
GROUP BY company;
