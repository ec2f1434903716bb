-- The exchange's record of listing applications (sources of kind hkexnews) and the
-- lifecycle built from it and the news: issuers, their documents, the files' state, and
-- listing events that say which source showed each stage first.
-- Append-only: change with a new NNN_slug.sql.

-- One row per application; a company that files again after a lapse gets a new row with
-- the same company_id (the issuer_id of its first application) and refiled_from set.
CREATE TABLE issuers (
    issuer_id       VARCHAR PRIMARY KEY,       -- '<board>-<hkex_id>'
    hkex_id         BIGINT NOT NULL,           -- the files' `id`
    board           VARCHAR NOT NULL,          -- sehk (Main Board) | gem
    name_en         VARCHAR,                   -- without HKEX's markers (see markers)
    name_zh         VARCHAR,
    markers         VARCHAR[] NOT NULL DEFAULT [],  -- W, B, P, S as HKEX appends them to the name
    status          VARCHAR NOT NULL,          -- the record's code: A, LT, LP, W, RJ, RT, or one not known yet
    stock_code      VARCHAR,                   -- once listed
    first_filed_on  DATE,                      -- date of its first Application Proof
    closed_on       DATE,                      -- when it lapsed, was withdrawn, rejected or returned
    has_phip        BOOLEAN NOT NULL DEFAULT FALSE,
    is_ai           BOOLEAN NOT NULL DEFAULT FALSE,
    ai_evidence     VARCHAR[] NOT NULL DEFAULT [],  -- why is_ai: 'name: robot', 'marker: P', 'news: <article_id>'
    aliases         VARCHAR[] NOT NULL DEFAULT [],  -- other names the news uses for it
    company_id      VARCHAR NOT NULL,
    refiled_from    VARCHAR,
    first_seen_at   TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

-- Every document an application's records list, kept as first seen.
CREATE TABLE issuer_documents (
    issuer_id       VARCHAR NOT NULL,
    url             VARCHAR NOT NULL,
    doc_type        VARCHAR NOT NULL,          -- as written: 'Application Proof (1st submission)', '聆訊後資料集（第一次呈交）'
    sub_type        VARCHAR,
    doc_date        DATE,
    kind            VARCHAR NOT NULL,          -- application_proof | phip | other
    language        VARCHAR NOT NULL,          -- e | c
    first_seen_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (issuer_id, url, language)
);

-- Each list file of each hkexnews source: the validators of its conditional GET, and when
-- it last parsed. A file that never parsed is read as the baseline (no alerts).
CREATE TABLE exchange_files (
    source          VARCHAR NOT NULL,
    file            VARCHAR NOT NULL,          -- appactive_app_sehk_e.json, ...
    url             VARCHAR NOT NULL,
    etag            VARCHAR,
    last_modified   VARCHAR,
    generated_at    TIMESTAMPTZ,               -- the file's genDate
    records         INTEGER,                   -- applications in it when it last parsed
    read_at         TIMESTAMPTZ,               -- last successful parse
    checked_at      TIMESTAMPTZ NOT NULL,
    last_error      VARCHAR,                   -- why the last poll could not use it, or which records it skipped
    PRIMARY KEY (source, file)
);

-- listing_events: one row per issuer and stage (or, unresolved, per company and stage).
-- The UNIQUE (company, stage) of 005 goes: an application filed again after a lapse is
-- the same company at `filing` a second time. event_id stays the key (ids derive from
-- the issuer and stage when resolved, schemas/records.py).
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
    issuer_id       VARCHAR,                    -- NULL: not resolved to an application (yet)
    origin          VARCHAR NOT NULL DEFAULT 'news',  -- exchange | news: who showed the stage first
    confirmed_at    TIMESTAMPTZ,                -- when the exchange confirmed a stage the news showed first
    document_url    VARCHAR,                    -- the exchange document that shows the stage
    suppressed      VARCHAR,                    -- why no alert: known | stale | unwatched; NULL: alerted
    aliases         VARCHAR[] NOT NULL DEFAULT []  -- other names the article gave the company
);
INSERT INTO listing_events_rebuilt BY NAME
SELECT *, CASE WHEN known THEN 'known' WHEN stale THEN 'stale' END AS suppressed FROM listing_events;
DROP TABLE listing_events;
ALTER TABLE listing_events_rebuilt RENAME TO listing_events;
CREATE INDEX listing_events_issuer ON listing_events (issuer_id, stage);

-- One row per company (all its applications, joined by company_id; a company the news
-- names but no application resolves to is its own row): its names in both languages,
-- stock code, current stage (of its latest application), the date of each stage, and the
-- evidence. The columns of 003/005 keep their names and meaning.
CREATE OR REPLACE VIEW listings AS
WITH current_application AS (
    SELECT company_id,
           arg_max(issuer_id, (coalesce(first_filed_on, DATE '1900-01-01'), hkex_id)) AS issuer_id,
           list(hkex_id ORDER BY hkex_id) AS hkex_ids
    FROM issuers
    GROUP BY company_id
),
staged AS (
    SELECT e.*, s.rank AS stage_rank, a.url AS article_url, a.title AS headline,
           coalesce(i.company_id, 'news:' || lower(e.company)) AS listing_id,
           c.issuer_id AS current_issuer,
           -- Rows of the company's current application (or of an unresolved company)
           e.issuer_id IS NULL OR e.issuer_id = c.issuer_id AS current
    FROM listing_events e
    JOIN listing_stages s USING (stage)
    LEFT JOIN articles a ON a.article_id = e.article_id
    LEFT JOIN issuers i ON i.issuer_id = e.issuer_id
    LEFT JOIN current_application c ON c.company_id = i.company_id
),
grouped AS (
    SELECT
        listing_id,
        any_value(current_issuer)                                           AS issuer_id,
        arg_min(company, first_seen_at)                                     AS news_name,
        coalesce(arg_max(stage, stage_rank) FILTER (WHERE current AND NOT coalesce(stale, FALSE)),
                 arg_max(stage, stage_rank) FILTER (WHERE current),
                 arg_max(stage, stage_rank))                                AS latest_stage,
        arg_max(exchange, stage_rank)                                       AS exchange,
        arg_max(stock_code, stage_rank) FILTER (WHERE stock_code IS NOT NULL) AS event_stock_code,
        min(event_date) FILTER (WHERE stage = 'filing' AND current)         AS filed_at,
        min(event_date) FILTER (WHERE stage = 'hearing' AND current)        AS hearing_at,
        min(event_date) FILTER (WHERE stage = 'pricing' AND current)        AS priced_at,
        min(event_date) FILTER (WHERE stage = 'debut' AND current)          AS debuted_at,
        min(event_date) FILTER (WHERE stage = 'lapsed' AND current)         AS lapsed_at,
        min(event_date) FILTER (WHERE stage = 'withdrawn' AND current)      AS withdrawn_at,
        min(event_date) FILTER (WHERE stage = 'rejected' AND current)       AS rejected_at,
        min(event_date) FILTER (WHERE stage = 'returned' AND current)       AS returned_at,
        arg_max(amount, stage_rank) FILTER (WHERE amount IS NOT NULL)       AS amount,
        arg_max(currency, stage_rank) FILTER (WHERE amount IS NOT NULL)     AS currency,
        list(stage ORDER BY event_date NULLS LAST, stage_rank)              AS stages,
        coalesce(list(DISTINCT article_url) FILTER (WHERE article_url IS NOT NULL), [])
                                                                            AS evidence_urls,
        coalesce(list(DISTINCT document_url) FILTER (WHERE document_url IS NOT NULL), [])
                                                                            AS document_urls,
        list({'stage': stage, 'date': event_date, 'origin': origin, 'confirmed_at': confirmed_at,
              'document_url': document_url, 'article_url': article_url, 'headline': headline,
              'evidence': evidence} ORDER BY event_date NULLS LAST, stage_rank)
                                                                            AS evidence,
        bool_or(known)                                                      AS known,
        min(first_seen_at)                                                  AS first_seen_at,
        max(first_seen_at)                                                  AS last_seen_at
    FROM staged
    GROUP BY listing_id
)
SELECT
    coalesce(i.name_en, i.name_zh, g.news_name)                             AS company,
    g.listing_id,
    i.name_en,
    i.name_zh,
    coalesce(i.aliases, [])                                                 AS aliases,
    g.issuer_id,
    c.hkex_ids,
    i.board,
    i.is_ai,
    g.latest_stage,
    g.latest_stage                                                          AS current_stage,
    g.exchange,
    coalesce(i.stock_code, g.event_stock_code)                              AS stock_code,
    g.filed_at, g.hearing_at, g.priced_at, g.debuted_at,
    g.lapsed_at, g.withdrawn_at, g.rejected_at, g.returned_at,
    g.amount, g.currency, g.stages, g.evidence_urls, g.document_urls, g.evidence,
    g.known, g.first_seen_at, g.last_seen_at
FROM grouped g
LEFT JOIN issuers i ON i.issuer_id = g.issuer_id
LEFT JOIN current_application c ON c.company_id = i.company_id;
