"""The deduplication index's rows (`dedup_signatures`, migration 002): loaded column-wise at
the start of a run, and saved with the batch whose articles they fingerprint."""

from __future__ import annotations

import duckdb
import numpy as np

from schemas.records import Signatures


def load_signatures(con: duckdb.DuckDBPyConnection) -> Signatures:
    """Every stored signature. Three column scans in one snapshot (call it inside one
    transaction: `wh.read(load_signatures)`); DuckDB keeps scan order
    (preserve_insertion_order), so the rows line up across them."""
    rows = con.execute("SELECT doc_id, is_seed, content_hash, hash64 FROM dedup_signatures").fetchnumpy()
    n = len(rows["doc_id"])
    width = con.execute("SELECT array_length(bands), array_length(sig8) FROM dedup_signatures LIMIT 1").fetchone()
    bands_per_doc, sig8_words = width if width else (0, 0)
    bands = con.execute("SELECT unnest(bands) AS h FROM dedup_signatures").fetchnumpy()["h"] if n else []
    packed = con.execute("SELECT unnest(sig8) AS s FROM dedup_signatures").fetchnumpy()["s"] if n else []
    return Signatures(
        doc_ids=np.asarray(rows["doc_id"], dtype=object),
        is_seed=np.asarray(rows["is_seed"], dtype=bool),
        content_hashes=np.asarray(rows["content_hash"], dtype=object),
        hash64=np.asarray(rows["hash64"], dtype=np.uint64),
        bands=np.asarray(bands, dtype=np.uint32).reshape(n, bands_per_doc),
        # sig8 is stored as UBIGINT words, eight low bytes of the MinHash values in each.
        sig8=np.ascontiguousarray(np.asarray(packed, dtype=np.uint64).reshape(n, sig8_words)).view(np.uint8),
    )


def save_signatures(con: duckdb.DuckDBPyConnection, signatures: Signatures) -> int:
    """Upsert the rows inside the caller's transaction (a document saved again replaces its
    row, not duplicated: delete then insert, as on a DuckLake, warehouse/rows.py). Returns
    how many were written."""
    n = len(signatures)
    if not n:
        return 0
    if signatures.minhash is None:
        raise ValueError("signatures to save need their full MinHash")
    bands_per_doc, sig8_words = signatures.bands.shape[1], signatures.sig8.shape[1] // 8
    minhash_hex = signatures.minhash.shape[1] * 4 * 2
    # Each Python value bound as a DuckDB parameter costs ~50 us (the client probes it for
    # pandas/arrow types), so every column travels as one string and SQL splits it.
    columns = {
        "doc_id": "\x1f".join(str(doc_id) for doc_id in signatures.doc_ids),
        "is_seed": ",".join(str(bool(flag)).lower() for flag in signatures.is_seed),
        "content_hash": ",".join(str(h) for h in signatures.content_hashes),
        "hash64": ",".join(str(int(h)) for h in signatures.hash64),
        "bands": ";".join(",".join(map(str, row)) for row in signatures.bands.tolist()),
        "sig8": ";".join(",".join(map(str, row))
                         for row in np.ascontiguousarray(signatures.sig8).view(np.uint64).tolist()),
        "minhash": signatures.minhash.astype("<u4").tobytes().hex(),
    }
    con.execute("DELETE FROM dedup_signatures WHERE doc_id IN (SELECT unnest(string_split($doc_id, chr(31))))",
                {"doc_id": columns["doc_id"]})
    con.execute(
        f"""
        INSERT INTO dedup_signatures BY NAME
        WITH incoming AS (
            SELECT string_split($doc_id, chr(31)) AS doc_id, string_split($is_seed, ',') AS is_seed,
                   string_split($content_hash, ',') AS content_hash, string_split($hash64, ',') AS hash64,
                   string_split($bands, ';') AS bands, string_split($sig8, ';') AS sig8
        ), numbered AS (
            SELECT doc_id[i] AS doc_id, is_seed[i]::BOOLEAN AS is_seed, content_hash[i] AS content_hash,
                   hash64[i]::UBIGINT AS hash64, string_split(bands[i], ',')::UINTEGER[{bands_per_doc}] AS bands,
                   string_split(sig8[i], ',')::UBIGINT[{sig8_words}] AS sig8,
                   unhex(substring($minhash, (i - 1) * {minhash_hex} + 1, {minhash_hex})) AS minhash,
                   now() AS added_at, i
            FROM incoming, range(1, len(incoming.doc_id) + 1) AS rows(i)
        )
        -- A document listed twice in one batch: its last row, as an update would leave it.
        SELECT * EXCLUDE (i) FROM numbered QUALIFY i = max(i) OVER (PARTITION BY doc_id)
        """,
        columns,
    )
    return n
