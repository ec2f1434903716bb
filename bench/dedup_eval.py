"""Precision and recall of near-duplicate detection, and where the threshold comes from.

Positives are copies of each seed as they appear in the wild: a new headline, trimmed
paragraphs, a typo fixed, a contact line removed or added, the same wire story republished
with another outlet's furniture, and all of these at once. Negatives are different
articles on the same topics and companies (tests/data/dedup_same_topic.jsonl, the
handcrafted articles of the relevance set) and the real pages of ../shared/corpus/aeb
when present.

In Chinese, the stories of the golden pages (tests/data/chinese_pages) are originals, and
their positives are the edition in the other script (OpenCC), the same with Taiwanese or
Hong Kong wording, trimmed, and republished with another outlet's furniture; negatives are
other outlets' stories of the same events and companies in their own words, in either
script (tests/data/dedup_same_topic_zh.jsonl).

Everything goes through the stage as the flow runs it: normalise, dedup text, signature,
DedupIndex (seeds first, then the articles in order).

    python -m bench.dedup_eval
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from schemas.records import Article, Seed
from tasks.understand import chinese, dedup
from tasks.understand.dedup import DedupIndex, dedup_articles
from tasks.understand.normalise import dedup_text, normalise_article
from tasks.understand.seeds import load_seeds

PROJECT = Path(__file__).resolve().parents[1]
SAME_TOPIC = PROJECT / "tests" / "data" / "dedup_same_topic.jsonl"
SAME_TOPIC_ZH = PROJECT / "tests" / "data" / "dedup_same_topic_zh.jsonl"
CHINESE_PAGES = PROJECT / "tests" / "data" / "chinese_pages" / "expected.json"
RELEVANCE_SET = PROJECT / "tests" / "data" / "relevance_labelled.jsonl"
THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)

WIRE_HEADER = ["By Staff Reporter", "Share this article", "Facebook Twitter WhatsApp LinkedIn Email"]
WIRE_FOOTER = ["Advertisement", "© 2026 Harbour Wire Ltd. All rights reserved.", "Related articles",
               "Stocks to watch this week", "Five things to know before the market opens"]


@dataclass
class Case:
    id: str
    kind: str
    expected: str | None  # seed_id it duplicates, or None for a different article
    article: Article


def make_article(case_id: str, title: str | None, text: str) -> Article:
    return Article(article_id=case_id, url=f"https://example.test/{case_id}", canonical_url=f"https://example.test/{case_id}",
                   source="bench", title=title, fetched_at=datetime(2026, 1, 1, tzinfo=timezone.utc), language="en",
                   text=text, word_count=len(text.split()))


def _sentences(paragraph: str) -> list[str]:
    return re.split(r"(?<=[.!?])\s+", paragraph)


def seed_variants(seed: Seed) -> list[tuple[str, str | None, str]]:
    """(kind, title, text) copies of one seed, each a duplicate by hkai's definition (the same story, trimmed or lightly edited)."""
    paras = seed.normalized_text.split("\n")
    n = len(paras)
    middle = n // 2
    variants = []
    variants.append(("new headline", "Hong Kong emerges as AI listing hub, analysts say", "\n".join(paras)))
    variants.append(("headline in text", "A different headline", "\n".join(["A different headline"] + paras)))
    variants.append(("trimmed 2 paragraphs", seed.title, "\n".join(paras[:middle] + paras[middle + 1:-1])))
    keep = max(1, round(n * 0.7))
    variants.append(("trimmed 30% (tail)", seed.title, "\n".join(paras[:keep])))
    fixed = list(paras)
    for i in (1, middle, n - 2):
        words = fixed[i % n].split()
        if len(words) > 6:
            words[3] = words[3][::-1]  # one misspelt word per edited paragraph
            fixed[i % n] = " ".join(words)
    variants.append(("3 typos fixed", seed.title, "\n".join(fixed)))
    variants.append(("contact line removed", seed.title,
                     "\n".join(p for p in paras if "@" not in p and not p.lower().startswith("contact"))))
    variants.append(("contact line added", seed.title, "\n".join(paras + ["Contact the writer at desk@harbour.test"])))
    # Another outlet: dateline, its own furniture, paragraphs re-broken at sentences.
    rebroken = []
    for paragraph in paras:
        parts = _sentences(paragraph)
        rebroken.extend(parts if len(parts) > 2 else [paragraph])
    rebroken[0] = "HONG KONG (Harbour Wire) - " + rebroken[0]
    wire = WIRE_HEADER + rebroken[: len(rebroken) // 2] + ["Advertisement"] + rebroken[len(rebroken) // 2:] + WIRE_FOOTER
    variants.append(("wire republished", "Another outlet's headline", "\n".join(wire)))
    everything = WIRE_HEADER + ["A new headline"] + fixed[:middle] + fixed[middle + 1:-1] + WIRE_FOOTER
    variants.append(("all of the above", "A new headline", "\n".join(everything)))
    return variants


def same_topic_articles() -> list[tuple[str, str, str]]:
    """(id, title, text) of different articles about the seeds' topics and companies."""
    found = []
    for line in SAME_TOPIC.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        found.append((f"same-topic:{row['id']}", row["title"], row["text"]))
    for line in RELEVANCE_SET.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["id"].startswith("hand:"):
            found.append((row["id"], row["title"], row["text"]))
    return found


def chinese_stories() -> list[dict]:
    """The golden pages' stories: file, script, title and text."""
    return json.loads(CHINESE_PAGES.read_text(encoding="utf-8"))["pages"]


def other_script_variants(story: dict) -> list[tuple[str, str | None, str]]:
    """(kind, title, text) editions of a Chinese story, each a duplicate by hkai's definition."""
    to_other = chinese.to_traditional if story["script"] == "Hans" else chinese.to_simplified
    # OpenCC's regional tables also change the words Taiwan and Hong Kong use ("软件" -> "軟體").
    regional = "s2twp" if story["script"] == "Hans" else "t2s"
    edition = to_other(story["text"])
    paras = edition.split("\n")
    return [
        ("zh: other script", to_other(story["title"]), edition),
        ("zh: regional wording", None, chinese._converter(regional).convert(chinese.to_simplified(story["text"])
                                                                             if regional == "s2twp" else story["text"])),
        ("zh: other script, trimmed", to_other(story["title"]), "\n".join(paras[:-1])),
        ("zh: republished", "另一標題", "\n".join(["【本報訊】", "分享到:微信 微博", *paras, "責任編輯:王小明",
                                                  "免責聲明:本文僅代表作者個人觀點。", "相關閱讀", "港股收市:恒指升百點"])),
    ]


def build_cases(seeds: list[Seed], include_corpus: bool = True) -> list[Case]:
    cases = []
    for seed in seeds:
        for kind, title, text in seed_variants(seed):
            case_id = f"{seed.seed_id}:{kind}"
            cases.append(Case(case_id, kind, seed.seed_id, make_article(case_id, title, text)))
    for case_id, title, text in same_topic_articles():
        cases.append(Case(case_id, "same topic", None, make_article(case_id, title, text)))
    stories = chinese_stories()
    for story in stories:  # the originals first: their editions follow them in the index
        case_id = f"zh:{story['file']}"
        cases.append(Case(case_id, "zh: original", None, make_article(case_id, story["title"], story["text"])))
    for story in stories:
        for kind, title, text in other_script_variants(story):
            case_id = f"zh:{story['file']}:{kind}"
            cases.append(Case(case_id, kind, f"zh:{story['file']}", make_article(case_id, title, text)))
    for line in SAME_TOPIC_ZH.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        case_id = f"zh-same-topic:{row['id']}"
        cases.append(Case(case_id, "zh: same event, other words", None, make_article(case_id, row["title"], row["text"])))
    if include_corpus:
        from testbed.relevance_set import AEB, load_examples

        if AEB.is_dir():
            for example in load_examples():
                if example.source == "aeb":
                    cases.append(Case(example.id, "corpus page", None, example.article))
    return cases


def run_stage(seeds: list[Seed], cases: list[Case], threshold: float) -> list[Article]:
    """The cases through normalise -> signature -> DedupIndex, as the flow runs them."""
    index = DedupIndex(threshold)
    index.add_seeds(seeds)
    articles = [normalise_article(case.article) for case in cases]
    return dedup_articles(index, articles)


def score(cases: list[Case], results: list[Article]) -> tuple[float, float, list[str]]:
    """(precision, recall, mistakes) of duplicate_of against the expected seed."""
    tp = fp = fn = 0
    mistakes = []
    # A copy may be marked as a duplicate of an earlier copy of the same original: also right.
    copy_of = {case.article.article_id: case.expected for case in cases if case.expected is not None}
    for case, result in zip(cases, results):
        found = copy_of.get(result.duplicate_of, result.duplicate_of)
        if case.expected is not None:
            if found == case.expected:
                tp += 1
            else:
                fn += 1
                mistakes.append(f"missed {case.id} (got {result.duplicate_of}, {result.similarity})")
            if found not in (None, case.expected):
                fp += 1
        elif result.duplicate_of is not None:
            fp += 1
            mistakes.append(f"false duplicate {case.id} -> {result.duplicate_of} ({result.similarity})")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, mistakes


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def true_jaccards(seeds: list[Seed], cases: list[Case], words: int) -> dict[str, list[float]]:
    """Exact Jaccard of n-gram sets (of words; of characters of the simplified form for
    Chinese): each variant kind against its original, and each negative against its most
    similar original of the same language."""
    def grams(text: str) -> set:
        text = dedup_text(text)
        if chinese.is_chinese(text):
            tokens = re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff]|[^\W\u3400-\u4dbf\u4e00-\u9fff]+",
                                chinese.to_simplified(text).casefold())
        else:
            tokens = re.findall(r"\w+", text.casefold())
        return {tuple(tokens[i:i + words]) for i in range(max(1, len(tokens) - words + 1))}

    originals = {s.seed_id: grams(s.normalized_text) for s in seeds}
    originals_zh = {case.article.article_id: grams(normalise_article(case.article).normalized_text or "")
                    for case in cases if case.kind == "zh: original"}
    by_kind: dict[str, list[float]] = {}
    for case in cases:
        mine = grams(normalise_article(case.article).normalized_text or "")
        if case.expected:
            value = jaccard(mine, {**originals, **originals_zh}[case.expected])
        elif case.kind == "zh: original":
            value = max(jaccard(mine, g) for i, g in originals_zh.items() if i != case.article.article_id)
        else:
            value = max(jaccard(mine, g) for g in (originals_zh if case.kind.startswith("zh") else originals).values())
        by_kind.setdefault(case.kind, []).append(value)
    return by_kind


def main() -> None:
    seeds = load_seeds(PROJECT / "seeds")
    cases = build_cases(seeds)
    positives = sum(c.expected is not None for c in cases)
    print(f"{len(cases)} cases: {positives} copies, {len(cases) - positives} different articles "
          f"(MinHash {dedup.NUM_PERM} perms, {dedup.SHINGLE_WORDS}-word shingles, Chinese "
          f"{dedup.SHINGLE_CHARS}-character shingles, LSH {dedup.BANDS} bands x {dedup.ROWS} rows)")
    print()
    print("exact Jaccard to the original (copies) / to the closest original (different articles): min .. max")
    print("(n-grams of words; in Chinese, of characters)")
    header = f"{'kind':<29}" + "".join(f" | {f'{k}-gram shingles':>17}" for k in (3, 4, 5))
    print(header)
    print("-" * len(header))
    stats = {k: true_jaccards(seeds, cases, k) for k in (3, 4, 5)}
    for kind in stats[5]:
        cells = "".join(f" | {min(stats[k][kind]):>7.3f} .. {max(stats[k][kind]):.3f}" for k in (3, 4, 5))
        print(f"{kind:<29}{cells}")
    print()
    print(f"{'threshold':>9} | {'precision':>9} | {'recall':>6} | mistakes")
    print("-" * 60)
    chosen = None
    for threshold in THRESHOLDS:
        precision, recall, mistakes = score(cases, run_stage(seeds, cases, threshold))
        mark = "  <- default" if abs(threshold - dedup.DEFAULT_THRESHOLD) < 1e-9 else ""
        print(f"{threshold:>9.2f} | {precision:>9.3f} | {recall:>6.3f} | {len(mistakes)}{mark}")
        if mark:
            chosen = mistakes
    for mistake in chosen or []:
        print("  at the default:", mistake)


if __name__ == "__main__":
    main()
