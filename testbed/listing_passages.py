"""The labelled news passages (tests/data/listing_news_<split>.jsonl) and how hkai's
relevance and listing detection score on them, as an ingest runs them: relevance agreement,
precision of the events detected, recall of the primary events of technology companies
(bench/listings_eval.py prints the figures; tests/test_listings.py pins floors under them).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
SPLITS = ("dev", "test", "holdout", "holdout2", "holdout3", "holdout4")
THRESHOLD = 0.5  # the configuration's default relevance threshold
BATCH = 64  # articles per detection call, as flows/stages.py batches them

_LEGAL = re.compile(r"\b(co|corp|corporation|company|ltd|limited|inc|incorporated|plc|holdings?|group|"
                    r"joint stock|technology|technologies|tech)\b\.?", re.IGNORECASE)
_CITIES = re.compile(r"^(beijing|shanghai|shenzhen|hangzhou|guangzhou|suzhou|wuhan|ningbo|hefei|nanjing|"
                     r"chengdu|xiamen|jiangsu|zhejiang|hong kong)\s+", re.IGNORECASE)


def company_key(name: str) -> str:
    """A loose key for comparing a detected company with a label."""
    key = re.sub(r"\(.*?\)", " ", name)
    key = _CITIES.sub("", key.strip())
    key = _LEGAL.sub(" ", key)
    return " ".join(re.sub(r"[^\w+]+", " ", key.lower()).split())


def same_company(detected: str, label: str) -> bool:
    """The same company when the keys match or one's words begin the other's: "Cloudpeak
    Data" (the registered name) and "Cloudpeak" (the name the label uses)."""
    a, b = company_key(detected).split(), company_key(label).split()
    shorter, longer = sorted((a, b), key=len)
    return bool(shorter) and longer[: len(shorter)] == shorter


def label_names(label: dict) -> list[str]:
    """The names a label accepts: its company and the other names the passage itself gives it
    ("Yuexing Intelligent Technology, also known as Orbitdrive")."""
    return [label["company"], *label.get("aliases", ())]


def load_passages(split: str, project: Path = PROJECT) -> list[dict]:
    path = project / "tests" / "data" / f"listing_news_{split}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def passage_article(item: dict):
    from schemas.records import Article

    published = datetime.fromisoformat(item["published_at"])
    url = f"https://news.example/{item['id']}"
    return Article(article_id=item["id"], url=url, canonical_url=url, source="labelled", title=item["title"],
                   published_at=published, fetched_at=published, language="en", text=item["text"],
                   word_count=len(item["text"].split()))


class Figures:
    """Relevance, precision and recall from a scorer's counts (a dataclass with
    `passages`, `relevance_agree`, `detected`, `correct`, `primary` and `primary_found`);
    `EMPTY` is the figure when nothing was counted."""

    EMPTY = 1.0

    @property
    def relevance(self) -> float:
        return self.relevance_agree / self.passages if self.passages else self.EMPTY

    @property
    def precision(self) -> float:
        return self.correct / self.detected if self.detected else self.EMPTY

    @property
    def recall(self) -> float:
        return self.primary_found / self.primary if self.primary else self.EMPTY


@dataclass
class Score(Figures):
    passages: int = 0
    relevance_agree: int = 0
    detected: int = 0
    correct: int = 0
    primary: int = 0
    primary_found: int = 0
    fields: dict[str, list[int]] = field(default_factory=lambda: {"stock_code": [0, 0], "amount": [0, 0]})
    errors: list[str] = field(default_factory=list)


def score_passages(nlp, items: list[dict]) -> Score:
    """Run relevance and detection over the passages and compare with their labels."""
    from tasks.listings.detect import detect_listing_events_by_article
    from tasks.understand.normalise import normalise_article
    from tasks.understand.relevance import score_relevance

    score = Score(passages=len(items))
    articles = [score_relevance(normalise_article(passage_article(item)), THRESHOLD) for item in items]
    detected = detect_listing_events_by_article(nlp, articles)  # one batch: irrelevant ones get none
    for item, article, events in zip(items, articles, detected):
        if bool(article.is_relevant) == item["relevant"]:
            score.relevance_agree += 1
        else:
            score.errors.append(f"{item['id']} relevance {article.relevance:.2f} (label {item['relevant']}): "
                                f"{getattr(article, 'relevance_signals', [])[:6]}  {item['title'][:60]}")
        labels = {(company_key(label["company"]), label["stage"]): label for label in item["events"]}
        found = set()
        for event in events:
            score.detected += 1
            key = next((k for k in labels if k[1] == event.stage
                        and any(same_company(event.company, name) for name in label_names(labels[k]))), None)
            label = labels.get(key) if key else None
            if label is None:
                score.errors.append(f"{item['id']} false alert ({event.company}, {event.stage}): "
                                    f"{(event.evidence or '')[:110]}")
                continue
            score.correct += 1
            found.add(key)
            if "stock_code" in label:
                score.fields["stock_code"][1] += 1
                score.fields["stock_code"][0] += event.stock_code == label["stock_code"]
                if event.stock_code != label["stock_code"]:
                    score.errors.append(f"{item['id']} stock code of {event.company}: {event.stock_code!r}, "
                                        f"label {label['stock_code']!r}")
            if "amount" in label:
                ok = event.amount is not None and abs(event.amount - label["amount"]) < 1e6 \
                    and event.currency == label["currency"]
                score.fields["amount"][1] += 1
                score.fields["amount"][0] += ok
                if not ok:
                    score.errors.append(f"{item['id']} amount of {event.company}: {event.amount} {event.currency}, "
                                        f"label {label['amount']} {label['currency']}")
        for key, label in labels.items():
            if label["primary"] and label["tech"]:
                score.primary += 1
                if key in found:
                    score.primary_found += 1
                else:
                    score.errors.append(f"{item['id']} missed ({label['company']}, {label['stage']}): "
                                        f"{item['title'][:80]}")
    return score
