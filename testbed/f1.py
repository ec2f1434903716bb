"""Extraction quality by the article extraction benchmark's own metric (../shared/corpus/aeb).

Text is split into word tokens (`\\w+`, case kept); each page's true and extracted text
become multisets of 4-token shingles. Per page, true/false positives and false negatives
are counted with repeats and scaled to sum to 1, so long pages weigh no more than short
ones. Precision is averaged over pages that have any predicted shingle, recall over pages
that have any true shingle, and F1 is the harmonic mean of the two averages.

Stdlib only: both the project's venv and the peers' venv import it.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

SHINGLE_WORDS = 4
_WORD = re.compile(r"\w+")
# Chinese has no spaces, so `\w+` makes a whole clause one "word": for Chinese pages each
# Han character is a token (and each run of other word characters, as before).
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_TOKEN = re.compile(f"[{_HAN}]|[^\\W{_HAN}]+")


@dataclass(frozen=True)
class PageCounts:
    """Shingle matches of one page, scaled so tp + fp + fn == 1 (all 0 for two empty texts)."""

    tp: float
    fp: float
    fn: float

    @property
    def precision(self) -> float:
        if self.fp == 0 and self.fn == 0:
            return 1.0
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        if self.fp == 0 and self.fn == 0:
            return 1.0
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float
    pages: int


def words(text: str | None) -> list[str]:
    return _WORD.findall(text or "")


def han_words(text: str | None) -> list[str]:
    """Tokens of a Chinese text: each Han character, and each run of other word characters."""
    return _HAN_TOKEN.findall(text or "")


def shingles(text: str | None, n: int = SHINGLE_WORDS, tokenize=words) -> Counter:
    """Multiset of n-token shingles; a text shorter than n tokens is one short shingle."""
    tokens = tokenize(text)
    if not tokens:
        return Counter()
    return Counter(tuple(tokens[i:i + n]) for i in range(max(1, len(tokens) - n + 1)))


def page_counts(truth: str | None, predicted: str | None, tokenize=words) -> PageCounts:
    true, pred = shingles(truth, tokenize=tokenize), shingles(predicted, tokenize=tokenize)
    tp = sum((true & pred).values())
    fp = sum((pred - true).values())
    fn = sum((true - pred).values())
    total = tp + fp + fn
    if total == 0:
        return PageCounts(0.0, 0.0, 0.0)
    return PageCounts(tp / total, fp / total, fn / total)


def score(truth: dict[str, str], predicted: dict[str, str | None], tokenize=words) -> Score:
    """Corpus score; a page missing from `predicted` counts as an empty extraction.
    `tokenize=han_words` scores Chinese pages character by character."""
    counts = [page_counts(truth[key], predicted.get(key), tokenize) for key in truth]
    # A page with nothing predicted has no precision to average (as in the benchmark);
    # a page with nothing true has no recall. Its zero recall still counts when it missed.
    precisions = [c.precision for c in counts if c.tp + c.fp > 0]
    recalls = [c.recall for c in counts if c.tp + c.fn > 0]
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(precision, recall, f1, len(counts))


@dataclass(frozen=True)
class CorpusPage:
    page_id: str
    url: str  # the page's original address, from ground-truth.json
    body: str  # the true article body
    html: bytes  # the page as stored, gunzipped (UTF-8)


def load_corpus(corpus_dir: Path) -> list[CorpusPage]:
    """Every page of the aeb corpus with its ground truth, in id order."""
    truth = json.loads((corpus_dir / "ground-truth.json").read_text(encoding="utf-8"))
    return [
        CorpusPage(page_id, item["url"], item.get("articleBody") or "",
                   gzip.decompress((corpus_dir / "html" / f"{page_id}.html.gz").read_bytes()))
        for page_id, item in sorted(truth.items())
    ]
