"""Exact and near-duplicate detection against the seeds and every stored article.

A document's fingerprint is a 128-value MinHash (datasketch) over word shingles of its
dedup text; for a Chinese text, over character shingles of its simplified form, so that
the traditional and the simplified edition of one story meet. Candidates come from LSH banding; each candidate is then verified by its
estimated Jaccard similarity. The index lives in memory as sorted numpy arrays (about
0.6 KB per document) and is persisted in `dedup_signatures` (warehouse/signatures.py),
from which `DedupIndex.from_signatures` builds it; nothing is re-shingled. Figures:
bench/dedup_*.py.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import sys
import types
from collections.abc import Iterable

import numpy as np

from schemas.records import Article, Page, Seed, Signatures, UrlOutcome, UrlStatus
from tasks.understand.chinese import is_chinese, to_simplified

NUM_PERM = 128
MINHASH_SEED = 1
# Word 5-grams: short enough that a fixed typo or a dropped line disturbs few shingles,
# long enough that articles on the same story in different words share almost none
# (bench/dedup_eval.py compares 3, 4 and 5).
SHINGLE_WORDS = 5
# Chinese has no spaces between words: its shingles are 5-grams of characters (each Han
# character, and each run of Latin letters or digits, is one), taken from the simplified
# form. Measured in bench/dedup_eval.py on tests/data/dedup_same_topic_zh.jsonl and the
# golden pages: the other script's edition of a story scores 1.0, with Taiwanese or Hong
# Kong wording 0.84, with a paragraph cut 0.68; another outlet's story of the same event in
# its own words at most 0.063 (4-grams: 0.096, 6-grams: 0.044).
SHINGLE_CHARS = 5
# 40 bands of 3 rows: a pair at Jaccard 0.4 becomes a candidate with p = 0.93, at 0.5
# with p = 0.995; a pair at 0.05 (articles on the same story in other words score < 0.02)
# with p = 0.005. Each band costs 8 bytes per document in memory.
BANDS, ROWS = 40, 3
# Near-duplicate when the estimated Jaccard similarity of the shingle sets is at least this.
# Measured in bench/dedup_eval.py: copies of the seeds score 0.47-1.0 (0.47 = 30% of the
# paragraphs cut), different articles on the same companies and story at most 0.02.
DEFAULT_THRESHOLD = 0.4
# Documents added in a run are folded into the index's sorted arrays once they number this
# many, or a quarter of those already there (DedupIndex._compact).
COMPACT_MIN = 1024

_EMPTY = np.full(NUM_PERM, np.iinfo(np.uint32).max, dtype=np.uint32)
_WORD = re.compile(r"\w+", re.UNICODE)
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CHINESE_TOKEN = re.compile(f"[{_HAN}]|[^\\W{_HAN}]+")
# Odd 64-bit multipliers that mix the ROWS values of a band into one band hash.
_BAND_MULTIPLIERS = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93],
                             dtype=np.uint64)[:ROWS]


def shingles(text: str) -> set[bytes]:
    """Word SHINGLE_WORDS-grams of the case-folded text (punctuation ignored); for a
    Chinese text, SHINGLE_CHARS-grams of the characters of its simplified form."""
    if is_chinese(text):
        return _grams(_CHINESE_TOKEN.findall(to_simplified(text).casefold()), SHINGLE_CHARS)
    return _grams(_WORD.findall(text.casefold()), SHINGLE_WORDS)


def _grams(tokens: list[str], n: int) -> set[bytes]:
    if len(tokens) < n:
        return {" ".join(tokens).encode("utf-8")} if tokens else set()
    return {" ".join(tokens[i:i + n]).encode("utf-8") for i in range(len(tokens) - n + 1)}


def _minhash_class():
    """datasketch's MinHash, loaded where signatures are computed (the workers: lookups
    need numpy only), without the rest of the package: datasketch's `__init__` imports its
    LSH classes, whose parameter search needs scipy, 45 MB in every worker for nothing
    hkai uses. Its `minhash` module needs numpy alone, so it is imported on its own,
    under a stand-in for the package that is removed again: a later `import datasketch`
    runs the real package and reuses the module."""
    if "datasketch" in sys.modules:
        return sys.modules["datasketch"].MinHash
    spec = importlib.util.find_spec("datasketch")
    stand_in = types.ModuleType("datasketch")
    stand_in.__path__ = list(spec.submodule_search_locations or [])
    sys.modules["datasketch"] = stand_in
    try:
        from datasketch.minhash import MinHash
    finally:
        del sys.modules["datasketch"]
    return MinHash


@functools.cache
def _permutations() -> np.ndarray:
    return _minhash_class()(num_perm=NUM_PERM, seed=MINHASH_SEED).permutations


def signature(text: str) -> np.ndarray:
    """MinHash (NUM_PERM uint32) of a document's dedup text (tasks.understand.normalise.dedup_text)."""
    MinHash = _minhash_class()
    grams = shingles(text)
    if not grams:
        return _EMPTY.copy()
    minhash = MinHash(num_perm=NUM_PERM, permutations=_permutations(), scheme="affine32")
    minhash.update_batch(list(grams))
    return minhash.hashvalues.astype(np.uint32)


def _is_empty(sig: np.ndarray) -> bool:
    return bool((sig == _EMPTY).all())


def band_hashes(sigs: np.ndarray) -> np.ndarray:
    """(n, BANDS) uint32 band hashes of (n, NUM_PERM) signatures."""
    blocks = sigs[:, : BANDS * ROWS].astype(np.uint64).reshape(len(sigs), BANDS, ROWS)
    with np.errstate(over="ignore"):
        mixed = (blocks * _BAND_MULTIPLIERS).sum(axis=2, dtype=np.uint64)
        mixed ^= mixed >> np.uint64(31)
        mixed *= np.uint64(0xBF58476D1CE4E5B9)
        mixed ^= mixed >> np.uint64(29)
    return (mixed >> np.uint64(32)).astype(np.uint32)


def sig8(sigs: np.ndarray) -> np.ndarray:
    """(n, NUM_PERM) uint8: the low byte of each MinHash value, enough to estimate Jaccard."""
    return (sigs & 0xFF).astype(np.uint8)


def estimate_jaccard(a8: np.ndarray, b8: np.ndarray) -> np.ndarray:
    """Jaccard estimates from low-byte MinHashes: equal bytes happen by chance 1 in 256,
    so the raw match rate is corrected for that (b-bit minwise hashing)."""
    matches = (np.asarray(b8) == np.asarray(a8)).mean(axis=-1)
    return np.clip((matches - 1 / 256) / (1 - 1 / 256), 0.0, 1.0)


def _hash64(content_hash: str) -> int:
    return int(content_hash[:16], 16)


def _packed_lookup(sorted_keys: np.ndarray, value: int) -> np.ndarray:
    """Positions stored under `value` in an array of (value << 32 | position), sorted."""
    low = np.uint64(value) << np.uint64(32)
    start = np.searchsorted(sorted_keys, low, side="left")
    stop = np.searchsorted(sorted_keys, low | np.uint64(0xFFFFFFFF), side="right")
    return (sorted_keys[start:stop] & np.uint64(0xFFFFFFFF)).astype(np.int64)


def _packed_sort(values: np.ndarray) -> np.ndarray:
    return np.sort((values.astype(np.uint64) << np.uint64(32)) | np.arange(len(values), dtype=np.uint64))


class DedupIndex:
    """Every indexed document (seeds first, then original articles) by position: loaded
    ones in sorted numpy arrays, ones added since in dicts until `_compact` folds them in
    (`unsaved` hands them to the warehouse, separately)."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD):
        self.threshold = threshold
        # Loaded from the warehouse.
        self._ids = np.array([], dtype=object)
        self._is_seed = np.array([], dtype=bool)
        self._hash_sorted = np.array([], dtype=np.uint64)
        self._hash_order = np.array([], dtype=np.int64)
        self._band_keys: list[np.ndarray] = [np.array([], dtype=np.uint64)] * BANDS
        self._sig8 = np.zeros((0, NUM_PERM), dtype=np.uint8)
        self._loaded = 0
        # Added since open; positions continue after the loaded ones.
        self._new_ids: list[str] = []
        self._new_seed: list[bool] = []
        self._new_hashes: dict[int, list[int]] = {}
        self._new_bands: list[dict[int, list[int]]] = [{} for _ in range(BANDS)]
        self._new_sig8: list[np.ndarray] = []
        self._pending: list[tuple[str, bool, str, np.ndarray]] = []  # added, not yet saved
        self._taken = 0  # how many of _pending the last unsaved() handed out
        self._seed_hashes: dict[str, str] = {}
        self._dead: set[int] = set()

    # -- loading and saving (the warehouse does the I/O: warehouse/signatures.py) --------

    @classmethod
    def from_signatures(cls, stored: Signatures, threshold: float = DEFAULT_THRESHOLD) -> "DedupIndex":
        """The index over the signatures the warehouse holds (warehouse.signatures)."""
        index = cls(threshold)
        n = len(stored)
        if n == 0:
            return index
        index._ids = stored.doc_ids
        index._is_seed = stored.is_seed
        index._hash_order = np.argsort(stored.hash64, kind="stable")
        index._hash_sorted = stored.hash64[index._hash_order]
        index._band_keys = [_packed_sort(stored.bands[:, b]) for b in range(BANDS)]
        index._sig8 = stored.sig8
        index._loaded = n
        for position in np.flatnonzero(index._is_seed):
            index._seed_hashes[str(index._ids[position])] = str(stored.content_hashes[position])
        return index

    def unsaved(self) -> Signatures:
        """The documents added since the last `mark_saved`, one row each, for the warehouse
        to save in the batch's transaction. They stay unsaved until `mark_saved`: a batch
        whose transaction rolls back saves them again when it is retried."""
        self._taken = len(self._pending)
        # One row per document even if it was added twice: a statement may not upsert a key twice.
        latest = list({doc_id: (doc_id, *rest) for doc_id, *rest in self._pending}.values())
        if not latest:
            return Signatures(doc_ids=np.array([], dtype=object), is_seed=np.array([], dtype=bool),
                              content_hashes=np.array([], dtype=object), hash64=np.array([], dtype=np.uint64),
                              bands=np.zeros((0, BANDS), dtype=np.uint32), sig8=np.zeros((0, NUM_PERM), dtype=np.uint8),
                              minhash=np.zeros((0, NUM_PERM), dtype=np.uint32))
        sigs = np.stack([sig for *_, sig in latest])
        return Signatures(
            doc_ids=np.array([doc_id for doc_id, *_ in latest], dtype=object),
            is_seed=np.array([is_seed for _, is_seed, *_ in latest], dtype=bool),
            content_hashes=np.array([h for _, _, h, _ in latest], dtype=object),
            hash64=np.array([_hash64(h) for _, _, h, _ in latest], dtype=np.uint64),
            bands=band_hashes(sigs), sig8=sig8(sigs), minhash=sigs,
        )

    def mark_saved(self) -> None:
        """The transaction that saved the last `unsaved()` committed: those are saved."""
        del self._pending[: self._taken]
        self._taken = 0

    # -- adding ---------------------------------------------------------------------

    def __len__(self) -> int:
        return self._loaded + len(self._new_ids) - len(self._dead)

    def _doc_id(self, position: int) -> str:
        return str(self._ids[position]) if position < self._loaded else self._new_ids[position - self._loaded]

    def _seed_position(self, seed_id: str) -> int | None:
        for position in range(len(self._new_ids) - 1, -1, -1):
            if self._new_ids[position] == seed_id and self._new_seed[position]:
                return self._loaded + position
        hits = np.flatnonzero(self._is_seed & (self._ids == seed_id)) if self._loaded else []
        return int(hits[0]) if len(hits) else None

    def add(self, doc_id: str, content_hash: str, sig: np.ndarray, *, is_seed: bool = False) -> None:
        """Index a document; the next `unsaved()` hands it to the warehouse."""
        sig = np.asarray(sig, dtype=np.uint32)
        position = self._loaded + len(self._new_ids)
        self._new_ids.append(doc_id)
        self._new_seed.append(is_seed)
        self._new_hashes.setdefault(_hash64(content_hash), []).append(position)
        if not _is_empty(sig):
            for band, value in enumerate(band_hashes(sig[None, :])[0].tolist()):
                self._new_bands[band].setdefault(value, []).append(position)
        self._new_sig8.append(sig8(sig[None, :])[0])
        self._pending.append((doc_id, is_seed, content_hash, sig))
        if len(self._new_ids) >= max(COMPACT_MIN, self._loaded // 4):
            self._compact()

    def _compact(self) -> None:
        """Fold the documents added since open (or the last compaction) into the sorted
        arrays. In the dicts a document costs ~7.5 KB, in the arrays ~0.6 KB: a 19k-article
        soak run grew the main process by 150 MB before this (bench/README.md). Compacting
        when the new part reaches a quarter of the old keeps the re-sorting O(n log n) over
        a run. Positions do not change, so `_dead` and pending saves stay valid."""
        if not self._new_ids:
            return
        hashes = np.empty(self._loaded + len(self._new_ids), dtype=np.uint64)
        hashes[self._hash_order] = self._hash_sorted
        for value, positions in self._new_hashes.items():
            hashes[positions] = value
        self._hash_order = np.argsort(hashes, kind="stable")
        self._hash_sorted = hashes[self._hash_order]
        self._band_keys = [np.sort(np.concatenate([
            self._band_keys[band],
            np.array([(value << 32) | p for value, positions in buckets.items() for p in positions], dtype=np.uint64),
        ])) for band, buckets in enumerate(self._new_bands)]
        self._ids = np.concatenate([self._ids, np.array(self._new_ids, dtype=object)])
        self._is_seed = np.concatenate([self._is_seed, np.array(self._new_seed, dtype=bool)])
        self._sig8 = np.concatenate([self._sig8, np.stack(self._new_sig8)])
        self._loaded += len(self._new_ids)
        self._new_ids, self._new_seed, self._new_sig8 = [], [], []
        self._new_hashes, self._new_bands = {}, [{} for _ in range(BANDS)]

    def add_seeds(self, seeds: Iterable[Seed], signatures: dict[str, np.ndarray] | None = None) -> int:
        """Index the seeds under their seed_id; a seed already indexed with the same content
        is skipped, one whose file changed replaces its old entry. `signatures` are their
        MinHashes by seed_id, when a worker computed them (`seed_signature`). Returns how
        many were added."""
        signatures = signatures or {}
        added = 0
        for seed in seeds:
            known = self._seed_hashes.get(seed.seed_id)
            if known == seed.content_hash:
                continue
            if known is not None:
                old = self._seed_position(seed.seed_id)
                if old is not None:
                    self._dead.add(old)
            sig = signatures[seed.seed_id] if seed.seed_id in signatures else seed_signature(seed)
            self.add(seed.seed_id, seed.content_hash, sig, is_seed=True)
            self._seed_hashes[seed.seed_id] = seed.content_hash
            added += 1
        return added

    # -- looking up -----------------------------------------------------------------

    def _exact(self, content_hash: str, article_id: str) -> int | None:
        key = _hash64(content_hash)
        candidates = []
        if self._loaded:
            start = np.searchsorted(self._hash_sorted, np.uint64(key), side="left")
            stop = np.searchsorted(self._hash_sorted, np.uint64(key), side="right")
            candidates = self._hash_order[start:stop].tolist()
        candidates += self._new_hashes.get(key, [])
        for position in candidates:
            if position not in self._dead and self._doc_id(position) != article_id:
                return position
        return None

    def _candidates(self, sig: np.ndarray) -> set[int]:
        found: set[int] = set()
        for band, value in enumerate(band_hashes(sig[None, :])[0].tolist()):
            if self._loaded:
                found.update(_packed_lookup(self._band_keys[band], value).tolist())
            found.update(self._new_bands[band].get(value, ()))
        return found - self._dead

    def _sig8_of(self, positions: list[int]) -> np.ndarray:
        return np.stack([self._sig8[p] if p < self._loaded else self._new_sig8[p - self._loaded] for p in positions])

    def check(self, article_id: str, content_hash: str, sig) -> tuple[str | None, float | None]:
        """(duplicate_of, similarity) against everything indexed, or (None, None) for an
        original. Exact content → 1.0; otherwise, among candidates at or above the
        threshold, a seed first, then the most similar, then the earliest indexed."""
        exact = self._exact(content_hash, article_id)
        if exact is not None:
            return self._doc_id(exact), 1.0
        sig = np.asarray(sig, dtype=np.uint32)
        if _is_empty(sig):
            return None, None
        positions = sorted(p for p in self._candidates(sig) if self._doc_id(p) != article_id)
        if not positions:
            return None, None
        similarities = estimate_jaccard(sig8(sig[None, :])[0], self._sig8_of(positions))
        passing = [i for i in range(len(positions)) if similarities[i] >= self.threshold]
        if not passing:
            return None, None
        # A seed first (the root of any chain of copies), then the most similar, then the earliest.
        best = max(passing, key=lambda i: (self._is_seed_at(positions[i]), similarities[i], -positions[i]))
        return self._doc_id(positions[best]), round(float(similarities[best]), 4)

    def _is_seed_at(self, position: int) -> bool:
        return bool(self._is_seed[position]) if position < self._loaded else self._new_seed[position - self._loaded]


def seed_signature(seed: Seed) -> np.ndarray:
    from tasks.understand.normalise import dedup_text

    return signature(dedup_text(seed.normalized_text))


def article_signature(article: Article) -> np.ndarray:
    """The article's MinHash: as the worker that analysed it computed it (`minhash`), else now."""
    if article.minhash is not None:
        return np.frombuffer(article.minhash, dtype=np.uint32)
    from tasks.understand.normalise import dedup_text

    return signature(dedup_text(article.normalized_text or ""))


def dedup_articles(index: DedupIndex, articles: list[Article]) -> list[Article]:
    """Copies with duplicate_of/similarity set, in order; originals are added to the index,
    so a later article in the same batch can duplicate an earlier one."""
    done = []
    for article in articles:
        if article.content_hash is None:
            raise ValueError(f"{article.url}: not normalised (content_hash is missing)")
        sig = article_signature(article)
        duplicate_of, similarity = index.check(article.article_id, article.content_hash, sig)
        if duplicate_of is None:
            index.add(article.article_id, article.content_hash, sig)
        done.append(article.model_copy(update={"duplicate_of": duplicate_of, "similarity": similarity}))
    return done


def one_per_canonical_url(pages: list[Page], analysed: list[Article | None],
                          stored: set[str]) -> tuple[list[Article], list[UrlOutcome]]:
    """Of a batch's analysed pages (one article or None per page, in order), the articles
    whose canonical URL is not `stored` nor earlier in the batch; and what became of each
    other page's URL: no article (skipped), or another URL of an article we have
    (rel=canonical: remembered as stored under that article, not stored twice)."""
    articles, outcomes, seen = [], [], set()
    for page, article in zip(pages, analysed):
        if article is None:
            outcomes.append(UrlOutcome(url=page.url, source=page.source, status=UrlStatus.SKIPPED,
                                       error="no article text found"))
        elif article.canonical_url in stored or article.canonical_url in seen:
            outcomes.append(UrlOutcome(url=page.url, source=page.source, status=UrlStatus.STORED,
                                       article_id=article.article_id))
        else:
            seen.add(article.canonical_url)
            articles.append(article)
    return articles, outcomes
