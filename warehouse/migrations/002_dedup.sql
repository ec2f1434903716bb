-- The deduplication index, persisted so a run loads it instead of re-shingling stored text
-- (tasks/understand/dedup.py). One row per indexed document: every seed and every original article.
-- Columns are fixed-size arrays so the index loads column-wise with UNNEST in well under a
-- second at 1M rows (bench/dedup_speed.py).

CREATE TABLE dedup_signatures (
    doc_id          VARCHAR PRIMARY KEY,       -- seed_id or article_id
    is_seed         BOOLEAN NOT NULL,
    content_hash    VARCHAR NOT NULL,          -- sha256 of the dedup text (exact duplicates)
    hash64          UBIGINT NOT NULL,          -- its first 64 bits, for the in-memory lookup
    bands           UINTEGER[40] NOT NULL,     -- LSH band hashes of the MinHash
    sig8            UBIGINT[16] NOT NULL,      -- low 8 bits of each of the 128 MinHash values, packed
    minhash         BLOB NOT NULL,             -- the full MinHash (128 x uint32), to re-band without re-shingling
    added_at        TIMESTAMPTZ NOT NULL
);
