"""The labelled real news passages: loading, their texts and the dev/test split by story."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
LABELS = HERE / "labels"
TEXTS = HERE / "texts"
HELD_OUT_FILE = HERE.parents[2] / "shared" / "realnews-heldout.sha1"

STAGES = ("filing", "hearing", "pricing", "debut")
STYLES_EN = ("wire", "hk-local", "mainland-english", "tech-press", "financial-site", "aggregator",
             "press-release", "advisory")
STYLES_ZH = ("hk-chinese-press", "mainland-chinese-press", "financial-site", "tech-press", "tw-press",
             "aggregator", "press-release", "advisory")
LISTING_KINDS = ("ipo", "introduction", "dual-primary", "secondary", "de-spac")
# About three stories in ten go to the test split (see split_of).
TEST_SHARE = 3


def split_of(story: str) -> str:
    """"test" or "dev", by a hash of the story key, so every copy of a story lands together."""
    return "test" if int(hashlib.sha1(story.encode("utf-8")).hexdigest(), 16) % 10 < TEST_SHARE else "dev"


def family(story: str) -> str:
    """Stories of one company (or kind of roundup) in one month: "insilico-filing-2025-11"
    and "insilico-medicine-filing-2025-11" are one family, and so are a debut and the
    pricing days before it."""
    month = re.search(r"(\d{4}-\d{2})", story)
    return f"{story.split('-')[0]}-{month.group(1)}" if month else story


def assign_splits(labels: list[dict]) -> dict[str, str]:
    """Each label's split: its own `split` when it names one (a batch collected for the
    test split alone), else its story's (split_of), except that a family of stories (the
    same company and month, told under different keys by different labellers) never
    spans both splits: a family with any story in dev is all dev, so nothing read while
    tuning moves into test."""
    in_dev = {family(label["story"]) for label in labels
              if label.get("split", split_of(label["story"])) == "dev"}
    return {label["id"]: "dev" if family(label["story"]) in in_dev else label.get("split", split_of(label["story"]))
            for label in labels}


def url_sha1(url: str) -> str:
    return hashlib.sha1(url.encode("utf-8")).hexdigest()


def text_sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def held_out_urls(path: Path = HELD_OUT_FILE) -> set[str]:
    """SHA-1s of the URLs the maintainers keep back (empty when the file is absent)."""
    if not path.exists():
        return set()
    return {line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")}


@dataclass(frozen=True)
class Passage:
    label: dict
    text: str | None  # None: not collected on this machine (see README.md)
    split: str

    @property
    def id(self) -> str:
        return self.label["id"]


def load_labels(directory: Path = LABELS) -> list[dict]:
    labels = []
    for path in sorted(directory.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    labels.append(json.loads(line))
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path.name}:{number}: not JSON ({error.msg})") from None
    return labels


def read_text(label: dict, texts: Path = TEXTS) -> str | None:
    path = texts / f"{label['id']}.txt"
    return path.read_text(encoding="utf-8") if path.exists() else None


def load_passages(directory: Path = LABELS, texts: Path = TEXTS) -> list[Passage]:
    """Every labelled passage whose text is here and unchanged (others are left out;
    `python -m bench.realnews.check` names them)."""
    labels = load_labels(directory)
    splits = assign_splits(labels)
    passages = []
    for label in labels:
        text = read_text(label, texts)
        if text is not None and text_sha1(text) == label["sha1"]:
            passages.append(Passage(label, text, splits[label["id"]]))
    return passages
