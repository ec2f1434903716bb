-- The order of listing stages is defined once, in schemas/records.py (ListingStage); the
-- warehouse keeps a copy in `listing_stages`, rewritten from it whenever the warehouse is
-- opened (warehouse/db.py), and every query that ranks stages joins it. The CHECK on
-- listing_events.stage repeated the list, so the table is rebuilt without it.

CREATE TABLE listing_stages (
    stage           VARCHAR PRIMARY KEY,
    rank            INTEGER NOT NULL            -- 0 for the first stage a listing reaches
);

CREATE TABLE listing_events_rebuilt (
    event_id        VARCHAR PRIMARY KEY,
    company         VARCHAR NOT NULL,
    exchange        VARCHAR NOT NULL,
    stage           VARCHAR NOT NULL,           -- a listing_stages.stage
    stock_code      VARCHAR,
    amount          DOUBLE,
    currency        VARCHAR,
    event_date      TIMESTAMPTZ,
    article_id      VARCHAR,
    first_seen_at   TIMESTAMPTZ NOT NULL,
    evidence        VARCHAR,
    known           BOOLEAN NOT NULL DEFAULT FALSE,
    stale           BOOLEAN DEFAULT FALSE,
    UNIQUE (company, stage)
);
INSERT INTO listing_events_rebuilt BY NAME SELECT * FROM listing_events;
DROP TABLE listing_events;
ALTER TABLE listing_events_rebuilt RENAME TO listing_events;

CREATE OR REPLACE VIEW listings AS
WITH staged AS (
    SELECT e.*, a.url AS article_url, s.rank AS stage_rank
    FROM listing_events e
    JOIN listing_stages s USING (stage)
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

-- What each HTTP attempt came to (schemas/records.py FetchOutcome): ok, not_modified,
-- not_html, gone, timeout, ... `error` keeps the readable line.
ALTER TABLE fetches ADD COLUMN outcome VARCHAR;
UPDATE fetches SET outcome = CASE
    WHEN status_code = 304 THEN 'not_modified'
    WHEN status_code IN (404, 410) THEN 'gone'
    WHEN error LIKE 'not HTML%' THEN 'not_html'
    WHEN error LIKE 'empty body%' THEN 'empty'
    WHEN error = 'disallowed by robots.txt' THEN 'robots_disallowed'
    WHEN error LIKE 'refused:%' OR error LIKE 'redirect to unsupported scheme%' THEN 'refused'
    WHEN error LIKE 'body too large%' THEN 'too_large'
    WHEN error LIKE 'too many redirects%' THEN 'too_many_redirects'
    WHEN error LIKE 'timeout%' OR error LIKE 'timed out%' THEN 'timeout'
    WHEN status_code >= 200 AND status_code < 300 AND error IS NULL THEN 'ok'
    WHEN status_code IS NOT NULL THEN 'http_error'
    ELSE 'network_error'
END;
