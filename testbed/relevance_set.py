"""The labelled relevance set (tests/data/relevance_labelled.jsonl): the seeds, handcrafted
positives and negatives, and the pages of ../shared/corpus/aeb (extracted with trafilatura
at run time, never copied here; skipped without the corpus), and the relevance score's
precision and recall on it (bench/relevance_eval.py prints them; tests/test_relevance.py
pins floors under them)."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from schemas.records import Article
from tasks.understand.normalise import normalise_article
from tasks.understand.relevance import score_relevance

PROJECT = Path(__file__).resolve().parents[1]
LABELLED = PROJECT / "tests" / "data" / "relevance_labelled.jsonl"
SHARED = PROJECT.parent / "shared"
AEB = SHARED / "corpus" / "aeb"


@dataclass
class Example:
    id: str
    source: str  # seed | handcrafted | aeb
    relevant: bool
    article: Article


def _article(example_id: str, title: str | None, text: str, language: str | None = None, url: str = "") -> Article:
    return Article(article_id=example_id, url=url or f"https://example.test/{example_id}",
                   canonical_url=url or f"https://example.test/{example_id}", source="labelled",
                   title=title, fetched_at=datetime(2026, 1, 1, tzinfo=timezone.utc), language=language,
                   text=text, word_count=len(text.split()))


def _aeb_article(page_id: str, url: str) -> Article | None:
    import trafilatura

    html = gzip.decompress((AEB / "html" / f"{page_id}.html.gz").read_bytes()).decode("utf-8", "replace")
    document = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False)
    if document is None or not document.text:
        return None
    return _article(f"aeb:{page_id}", document.title, document.text, document.language, url)


def load_examples(include_corpus: bool = True) -> list[Example]:
    """The labelled set as Articles; corpus rows only when ../shared is present."""
    from tasks.understand.seeds import load_seeds

    seeds = {seed.seed_id: seed for seed in load_seeds(PROJECT / "seeds")}
    examples = []
    for line in LABELLED.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        kind, _, key = row["id"].partition(":")
        if kind == "seed":
            seed = seeds[key]
            article = _article(row["id"], seed.title, seed.text, "en")
        elif kind == "hand":
            article = _article(row["id"], row["title"], row["text"], row.get("language"))
        elif kind == "aeb":
            if not include_corpus or not AEB.is_dir():
                continue
            article = _aeb_article(key, row.get("url", ""))
            if article is None:
                continue
        else:
            raise ValueError(f"{LABELLED}: unknown example kind in id {row['id']!r}")
        examples.append(Example(row["id"], row["source"], row["relevant"], article))
    return examples


def precision_recall(examples: list[Example], threshold: float) -> tuple[float, float, list[Example], list[Example]]:
    """(precision, recall, false positives, false negatives) at the threshold."""
    scored = [(e, score_relevance(normalise_article(e.article), threshold)) for e in examples]
    tp = [e for e, a in scored if a.is_relevant and e.relevant]
    fp = [e for e, a in scored if a.is_relevant and not e.relevant]
    fn = [e for e, a in scored if not a.is_relevant and e.relevant]
    precision = len(tp) / (len(tp) + len(fp)) if tp or fp else 1.0
    recall = len(tp) / (len(tp) + len(fn)) if tp or fn else 1.0
    return precision, recall, fp, fn
