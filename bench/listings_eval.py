"""Listing detection against the labelled sentences: precision and recall per stage.

    .venv/bin/python -m bench.listings_eval [tests/data/listing_sentences.jsonl]

A hit is a (sentence, company, stage) the labels name; field accuracy counts the exchange,
stock code and amount of the hits whose label gives them.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from schemas.records import STAGES, Article
from tasks.listings.detect import detect_listing_events
from tasks.understand.nlp import load_nlp

LABELLED = Path(__file__).resolve().parents[1] / "tests" / "data" / "listing_sentences.jsonl"
# Every labelled sentence is read as if published on this day (its dates are relative to it).
PUBLISHED = datetime(2026, 1, 12, 8, 0, tzinfo=timezone.utc)


def load_labelled(path: Path = LABELLED) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def article_for(number: int, item: dict) -> Article:
    published = datetime.fromisoformat(item["published_at"]) if "published_at" in item else PUBLISHED
    return Article(article_id=f"s{number:03d}", url=f"https://example.org/{number}",
                   canonical_url=f"https://example.org/{number}", source="labelled", published_at=published,
                   fetched_at=published, text=item["text"], is_relevant=True)


def evaluate(nlp, items: list[dict]) -> dict:
    """Counts per stage (tp, fp, fn), field checks, and the misses, for the labelled items."""
    counts = {stage: {"tp": 0, "fp": 0, "fn": 0} for stage in STAGES}
    fields = {"exchange": [0, 0], "stock_code": [0, 0], "amount": [0, 0]}
    errors: list[str] = []
    for number, item in enumerate(items):
        events = detect_listing_events(nlp, [article_for(number, item)])
        got = {(e.company, e.stage): e for e in events}
        want = {(label["company"], label["stage"]): label for label in item["events"]}
        for key in got.keys() | want.keys():
            stage = key[1]
            if key in got and key in want:
                counts[stage]["tp"] += 1
                event, label = got[key], want[key]
                for name in fields:
                    if name in label:
                        fields[name][1] += 1
                        expected, actual = label[name], getattr(event, name)
                        ok = (actual == expected) if name != "amount" else (
                            actual is not None and abs(actual - expected) < 1 and event.currency == label["currency"])
                        fields[name][0] += ok
                        if not ok:
                            errors.append(f"{name} {key}: got {actual!r}, want {expected!r}: {item['text'][:70]}")
            elif key in got:
                counts[stage]["fp"] += 1
                errors.append(f"false positive {key}: {item['text'][:90]}")
            else:
                counts[stage]["fn"] += 1
                errors.append(f"missed {key}: {item['text'][:90]}")
    return {"counts": counts, "fields": fields, "errors": errors}


def ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 1.0


def totals(counts: dict) -> dict:
    return {key: sum(c[key] for c in counts.values()) for key in ("tp", "fp", "fn")}


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else LABELLED
    items = load_labelled(path)
    nlp = load_nlp()
    started = time.perf_counter()
    result = evaluate(nlp, items)
    elapsed = time.perf_counter() - started
    rows = [(stage, c) for stage, c in result["counts"].items()] + [("overall", totals(result["counts"]))]
    print(f"{len(items)} labelled sentences from {path.name}")
    print(f"{'stage':<9} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>10} {'recall':>8}")
    for stage, c in rows:
        precision = ratio(c["tp"], c["tp"] + c["fp"])
        recall = ratio(c["tp"], c["tp"] + c["fn"])
        print(f"{stage:<9} {c['tp']:>4} {c['fp']:>4} {c['fn']:>4} {precision:>10.3f} {recall:>8.3f}")
    # The holdout sentences were written after the detector was tuned on the rest. On their
    # first run they scored precision 0.89, recall 0.80 (8 hits, 1 false, 2 missed); the
    # fixes they prompted (attribution, modifiers, "to list") are in since.
    for split in ("dev", "holdout"):
        part = [item for item in items if item.get("split", "dev") == split]
        c = totals(evaluate(nlp, part)["counts"])
        print(f"{split + ' only':<13}{len(part):>3} sentences: precision "
              f"{ratio(c['tp'], c['tp'] + c['fp']):.3f}, recall {ratio(c['tp'], c['tp'] + c['fn']):.3f}")
    print()
    print(f"{'field':<11} {'correct':>8} {'labelled':>9}")
    for name, (right, labelled) in result["fields"].items():
        print(f"{name:<11} {right:>8} {labelled:>9}")
    print(f"\n{len(items) / elapsed:.0f} sentences/s ({elapsed:.2f} s, spaCy included)")
    for line in result["errors"]:
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
