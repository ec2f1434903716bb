-- The contract's tables (../shared/contract.md) plus the crawler's own state.
-- Append-only: change the schema with a new NNN_slug.sql, never by editing this file.

CREATE TABLE runs (
    run_id          VARCHAR PRIMARY KEY,
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    status          VARCHAR NOT NULL,          -- running | completed | failed
    error           VARCHAR,
    sources         INTEGER DEFAULT 0,
    sources_failed  INTEGER DEFAULT 0,
    sources_unchanged INTEGER DEFAULT 0,
    discovered      INTEGER DEFAULT 0,
    fetched         INTEGER DEFAULT 0,
    fetch_failed    INTEGER DEFAULT 0,
    new_articles    INTEGER DEFAULT 0,
    skipped_known   INTEGER DEFAULT 0,
    not_html        INTEGER DEFAULT 0,
    relevant        INTEGER DEFAULT 0,
    duplicates      INTEGER DEFAULT 0,
    listing_events  INTEGER DEFAULT 0,
    alerts_sent     INTEGER DEFAULT 0,
    alerts_failed   INTEGER DEFAULT 0,
    by_source       JSON
);

CREATE TABLE seeds (
    seed_id         VARCHAR PRIMARY KEY,
    title           VARCHAR,
    text            VARCHAR NOT NULL,
    normalized_text VARCHAR NOT NULL,
    content_hash    VARCHAR NOT NULL
);

CREATE TABLE articles (
    article_id      VARCHAR PRIMARY KEY,
    url             VARCHAR NOT NULL,
    canonical_url   VARCHAR NOT NULL UNIQUE,
    source          VARCHAR NOT NULL,
    title           VARCHAR,
    author          VARCHAR,
    published_at    TIMESTAMPTZ,
    fetched_at      TIMESTAMPTZ NOT NULL,
    language        VARCHAR,
    site_name       VARCHAR,
    text            VARCHAR NOT NULL,
    word_count      INTEGER NOT NULL,
    normalized_text VARCHAR,
    content_hash    VARCHAR,
    relevance       DOUBLE,
    is_relevant     BOOLEAN,
    relevance_signals VARCHAR[],
    duplicate_of    VARCHAR,
    similarity      DOUBLE,
    run_id          VARCHAR
);

CREATE TABLE entities (
    article_id      VARCHAR NOT NULL,
    label           VARCHAR NOT NULL,
    text            VARCHAR NOT NULL,
    normalized      VARCHAR NOT NULL,
    start_char      INTEGER NOT NULL,
    end_char        INTEGER NOT NULL,
    PRIMARY KEY (article_id, start_char, end_char, label)
);

CREATE TABLE listing_events (
    event_id        VARCHAR PRIMARY KEY,
    company         VARCHAR NOT NULL,
    exchange        VARCHAR NOT NULL,
    stage           VARCHAR NOT NULL CHECK (stage IN ('filing', 'hearing', 'pricing', 'debut')),
    stock_code      VARCHAR,
    amount          DOUBLE,
    currency        VARCHAR,
    event_date      TIMESTAMPTZ,
    article_id      VARCHAR,
    first_seen_at   TIMESTAMPTZ NOT NULL,
    evidence        VARCHAR,
    known           BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (company, stage)
);

-- One row per delivery attempt outcome. `channel` is a redacted label, never the URL.
CREATE TABLE alerts (
    event_id        VARCHAR NOT NULL,
    channel         VARCHAR NOT NULL,
    sent_at         TIMESTAMPTZ,
    status          VARCHAR NOT NULL,          -- pending | sent | failed
    error           VARCHAR,
    attempt         INTEGER NOT NULL DEFAULT 0,
    recorded_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE fetches (
    url             VARCHAR NOT NULL,
    source          VARCHAR NOT NULL,
    status_code     INTEGER,
    error           VARCHAR,
    bytes           BIGINT NOT NULL DEFAULT 0,
    fetched_at      TIMESTAMPTZ NOT NULL,
    final_url       VARCHAR,
    content_type    VARCHAR,
    run_id          VARCHAR
);

-- Per-URL crawl state: what happened last and when to try again.
CREATE TABLE url_state (
    url             VARCHAR PRIMARY KEY,       -- canonical URL
    source          VARCHAR NOT NULL,
    status          VARCHAR NOT NULL,          -- stored | failed | gone | skipped
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      VARCHAR,
    last_attempt_at TIMESTAMPTZ NOT NULL,
    next_attempt_at TIMESTAMPTZ,               -- NULL: never again
    article_id      VARCHAR
);

-- Per-source conditional-GET validators.
CREATE TABLE source_state (
    source          VARCHAR PRIMARY KEY,
    url             VARCHAR NOT NULL,
    etag            VARCHAR,
    last_modified   VARCHAR,
    checked_at      TIMESTAMPTZ NOT NULL
);
