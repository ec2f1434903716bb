"""Near-duplicate lookup time per article, and load time of the persisted index, at 10k,
100k and 1M stored signatures.

The stored rows are synthetic (random band hashes and MinHash bytes written by SQL), plus
a thousand real documents added and saved through DedupIndex; lookups are real
signatures: near copies of those documents (hits) and unseen documents (misses).

    python -m bench.dedup_speed [--sizes 10000 100000 1000000]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import tempfile
import time
from pathlib import Path

import numpy as np

from tasks.understand.dedup import BANDS, NUM_PERM, DedupIndex
from warehouse.db import Warehouse
from warehouse.signatures import load_signatures, save_signatures

TARGET_MS = 1.0  # the target for one lookup with 1M stored signatures
REAL_DOCS = 1000
LOOKUPS = 2000
BATCH = 64  # the flow's batch size: one save per batch


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _fake_sig(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 2**32 - 1, NUM_PERM, dtype=np.uint32)


def _near_copy(sig: np.ndarray, rng: np.random.Generator, changed: float = 0.25) -> np.ndarray:
    """A signature at Jaccard ~ 1 - changed from `sig`: a near duplicate."""
    copy = sig.copy()
    positions = rng.choice(NUM_PERM, int(NUM_PERM * changed), replace=False)
    copy[positions] = rng.integers(0, 2**32 - 1, len(positions), dtype=np.uint32)
    return copy


def _content_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def build(path: Path, size: int, rng: np.random.Generator) -> tuple[list, float]:
    """A warehouse with `size` signatures; returns the real documents and the save time per batch."""
    warehouse = Warehouse(path)
    synthetic = size - REAL_DOCS
    with warehouse.transaction() as con:
        con.execute(
            f"""
            INSERT INTO dedup_signatures BY NAME
            SELECT 'synthetic-' || i AS doc_id, false AS is_seed, sha256(i::VARCHAR) AS content_hash,
                   hash(i) AS hash64,
                   [(hash(i * {BANDS} + j) % 4294967296)::UINTEGER FOR j IN range({BANDS})] AS bands,
                   [hash(i * 16 + j + 7) FOR j IN range(16)] AS sig8,
                   '\\x00'::BLOB AS minhash, now() AS added_at
            FROM range({synthetic}) t(i)
            """
        )
    real = [(f"real-{i}", _content_hash(f"real-{i}"), _fake_sig(rng)) for i in range(REAL_DOCS)]
    with warehouse.session() as con:
        index = DedupIndex.from_signatures(load_signatures(con))
    save_times = []
    for start in range(0, REAL_DOCS, BATCH):
        for doc_id, content_hash, sig in real[start:start + BATCH]:
            index.add(doc_id, content_hash, sig)
        with warehouse.transaction() as con:
            began = time.perf_counter()
            save_signatures(con, index.unsaved())
            save_times.append(time.perf_counter() - began)
        index.mark_saved()
    return real, 1000 * float(np.median(save_times))


def measure(size: int, rng: np.random.Generator) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hkai.duckdb"
        real, save_ms = build(path, size, rng)
        gc.collect()
        before = _rss_mb()
        warehouse = Warehouse(path)
        began = time.perf_counter()
        with warehouse.session() as con:
            index = DedupIndex.from_signatures(load_signatures(con))
        load_s = time.perf_counter() - began
        memory_mb = _rss_mb() - before
        assert len(index) == size, (len(index), size)

        hits = [real[i % REAL_DOCS] for i in range(LOOKUPS // 2)]
        began = time.perf_counter()
        found = sum(index.check(f"q-{doc_id}", _content_hash("q" + doc_id), _near_copy(sig, rng))[0] == doc_id
                    for doc_id, _, sig in hits)
        hit_ms = 1000 * (time.perf_counter() - began) / len(hits)
        misses = [_fake_sig(rng) for _ in range(LOOKUPS // 2)]
        began = time.perf_counter()
        false = sum(index.check(f"m-{i}", _content_hash(f"m-{i}"), sig)[0] is not None for i, sig in enumerate(misses))
        miss_ms = 1000 * (time.perf_counter() - began) / len(misses)
        return {"size": size, "load_s": load_s, "memory_mb": memory_mb, "hit_ms": hit_ms, "miss_ms": miss_ms,
                "recall": found / len(hits), "false": false, "save_ms": save_ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    print(f"{'stored':>9} | {'load s':>6} | {'index MB':>8} | {'near-hit ms':>11} | {'miss ms':>7} | "
          f"{'target ms':>9} | {'ratio':>5} | {'hit rate':>8} | {'false':>5} | {'save ms/64':>10}")
    print("-" * 106)
    for size in args.sizes:
        r = measure(size, rng)
        worst = max(r["hit_ms"], r["miss_ms"])
        print(f"{size:>9,} | {r['load_s']:>6.2f} | {r['memory_mb']:>8.0f} | {r['hit_ms']:>11.3f} | "
              f"{r['miss_ms']:>7.3f} | {TARGET_MS:>9.1f} | {worst / TARGET_MS:>5.2f} | {r['recall']:>8.3f} | "
              f"{r['false']:>5} | {r['save_ms']:>10.1f}")
    print("\nnear-hit: a copy at Jaccard ~0.75 of a stored document; miss: an unseen document;"
          " ratio = slower lookup / target (below 1 meets it).")


if __name__ == "__main__":
    main()
