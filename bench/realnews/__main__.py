"""Listing events and relevance on real news passages (labels in bench/realnews/labels/,
texts re-collected into bench/realnews/texts/: see bench/realnews/README.md).

    .venv/bin/python -m bench.realnews                    # every split, in process (~1 min)
    .venv/bin/python -m bench.realnews --errors dev       # ... and every false and missed event of dev
    .venv/bin/python -m bench.realnews --ingest           # one real `hkai ingest` per split instead
    .venv/bin/python -m bench.realnews --lang zh          # only the Chinese passages

Each passage becomes a news page (its first line the headline when it reads like one, for
half of them; the other half all paragraphs, as a page whose headline the extractor must
find), without a publication date: the passages come from search results, which carry
none, so hkai must date the story from its own text. In process, each page goes through
hkai's own extraction, normalisation, language, relevance and listing detection, each
passage as if alone; with `--ingest`, the pages are served on a loopback site through one
RSS feed and one `hkai ingest` runs on a fresh warehouse with an alert channel.

Figures, per split, language and script, stage and outlet style:
- relevance: passages whose `is_relevant` equals the label;
- precision of alerted events: detected (company, stage) pairs that the passage labels as
  an event of now (primary or in passing), among all detected; an event labelled
  `historical` counts as a false alert;
- recall: labelled primary events of technology companies, not historical, detected.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from bench.listings_eval import TARGETS
from testbed.listing_passages import Figures, same_company
from bench.realnews.labels import Passage, load_labels, load_passages

SPLITS = ("dev", "test")
# The passages were collected on this day; a page's fetch time when it has no date.
FETCHED_AT = datetime(2026, 12, 7, 8, 0, tzinfo=timezone.utc)
HEADLINE_MAX_CHARS = 160


# -- pages ------------------------------------------------------------------------------------

def _headline_layout(passage: Passage) -> bool:
    """Half the passages (by a hash of the id) get their first line as the page's headline."""
    first = passage.text.split("\n", 1)[0].strip()
    return bool(first) and len(first) <= HEADLINE_MAX_CHARS and "\n" in passage.text.strip() \
        and int(hashlib.sha1(passage.id.encode()).hexdigest(), 16) % 2 == 0


def passage_page(passage: Passage) -> str:
    """The passage as a plain news page: no date, no declared language."""
    lines = [line.strip() for line in passage.text.split("\n") if line.strip()]
    e = html.escape
    if _headline_layout(passage):
        title, body = lines[0], lines[1:]
        head = f"<title>{e(title)}</title>"
        heading = f"<h1>{e(title)}</h1>\n"
    else:
        head, heading, body = "", "", lines
    paragraphs = "\n".join(f"<p>{e(line)}</p>" for line in body)
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8">{head}</head><body>\n'
            f"<main><article>\n{heading}{paragraphs}\n</article></main>\n</body></html>")


def page_url(base: str, passage: Passage) -> str:
    return f"{base}/news/{passage.id}.html"


# -- what hkai found ----------------------------------------------------------------------------

@dataclass
class Found:
    company: str
    stage: str
    evidence: str = ""


@dataclass
class Outcome:
    """What hkai made of one passage: stored or not, relevant or not, its alerted events."""

    stored: bool
    relevant: bool
    events: list[Found] = field(default_factory=list)
    # (company, stage) rows of the whole run that alerted or were rightly silent: with
    # --ingest, a company's stage is one row however many passages report it.
    run_rows: list[Found] | None = None


def run_in_process(passages: list[Passage]) -> dict[str, Outcome]:
    from schemas.records import Page
    from tasks.listings.detect import detect_listing_events_by_article
    from tasks.understand.extract import extract_page
    from tasks.understand.nlp import load_nlp
    from tasks.understand.normalise import normalise_article
    from tasks.understand.relevance import score_relevance

    base = "https://realnews.example"
    articles, kept = [], []
    outcomes: dict[str, Outcome] = {}
    for passage in passages:
        url = page_url(base, passage)
        page = Page(url=url, final_url=url, source="realnews", html=passage_page(passage), fetched_at=FETCHED_AT)
        article = extract_page(page)
        if article is None:
            outcomes[passage.id] = Outcome(stored=False, relevant=False)
            continue
        articles.append(score_relevance(normalise_article(article), 0.5))
        kept.append(passage)
    detected = detect_listing_events_by_article(load_nlp(), articles)
    for passage, article, events in zip(kept, articles, detected):
        outcomes[passage.id] = Outcome(stored=True, relevant=bool(article.is_relevant),
                                       events=[Found(e.company, e.stage, e.evidence or "") for e in events])
    return outcomes


def run_ingest(passages: list[Passage], workdir: Path, name: str) -> dict[str, Outcome]:
    from bench.harness import _query, run_ingest as ingest
    from testbed.site import Site, webhook

    received: list[dict] = []
    with Site(keep_requests=False) as site:
        path_of = {}
        for passage in passages:
            path = page_url("", passage)
            path_of[path] = passage
            site.add(path, passage_page(passage), conditional=True)
        feed = site.add_feed(f"/{name}.xml", [(p.text.split("\n", 1)[0][:100], path) for path, p in path_of.items()],
                             guid=True, title=f"real news {name}")
        site.add("/robots.txt", b"User-agent: *\nAllow: /\n", content_type="text/plain")
        site.add("/hook", handler=webhook(received))
        channel = "json://" + site.base.removeprefix("http://") + "/hook"
        warehouse = workdir / f"{name}.duckdb"
        ingest(workdir, name, warehouse, [feed], 16, settings={"alerts": {"urls": [channel]}})
        base = site.base
    articles = {url.removeprefix(base): (article_id, bool(relevant)) for url, article_id, relevant
                in _query(warehouse, "SELECT url, article_id, is_relevant FROM articles")}
    rows = _query(warehouse, "SELECT company, stage, article_id, suppressed, evidence FROM listing_events")
    passage_of_article = {}
    outcomes: dict[str, Outcome] = {}
    run_rows = [Found(company, stage) for company, stage, _, suppressed, _ in rows
                if suppressed in (None, "known", "stale")]
    for path, passage in path_of.items():
        stored = articles.get(path)
        outcomes[passage.id] = Outcome(stored=stored is not None, relevant=bool(stored and stored[1]),
                                       run_rows=run_rows)
        if stored:
            passage_of_article[stored[0]] = passage.id
    for company, stage, article_id, suppressed, evidence in rows:
        if suppressed is None and article_id in passage_of_article:
            outcomes[passage_of_article[article_id]].events.append(Found(company, stage, evidence or ""))
    return outcomes


# -- scoring ------------------------------------------------------------------------------------

def _chinese_key(name: str) -> str:
    from tasks.listings.registry import is_chinese, name_key

    return name_key(name) if is_chinese(name) else ""


def label_names(event: dict) -> list[str]:
    names = [event["company"], event.get("as_written"), *event.get("aliases", ()), event.get("name_zh")]
    return [n for n in dict.fromkeys(names) if n]


def names_match(detected: str, event: dict) -> bool:
    """The detected company is the labelled one: by its English key (legal words and a
    leading city dropped, one name's words beginning the other's) or, for Chinese names,
    by the simplified key, one beginning the other."""
    from tasks.names import known_name

    detected_zh = _chinese_key(detected)
    detected_known = known_name(detected)
    for name in label_names(event):
        if same_company(detected, name) or detected_known and known_name(name) == detected_known:
            return True
        label_zh = _chinese_key(name)
        if detected_zh and label_zh:
            shorter, longer = sorted((detected_zh, label_zh), key=len)
            if len(shorter) >= 2 and longer.startswith(shorter):
                return True
    return False


@dataclass
class Tally(Figures):
    EMPTY = float("nan")

    passages: int = 0
    relevance_agree: int = 0
    detected: int = 0
    correct: int = 0
    primary: int = 0
    primary_found: int = 0

    def add(self, other: "Tally") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Scores:
    groups: dict[tuple[str, str], Tally] = field(default_factory=lambda: defaultdict(Tally))
    errors: list[str] = field(default_factory=list)
    counted: set[tuple[str, str]] = field(default_factory=set)  # with --ingest: events already scored


def _language_group(label: dict) -> str:
    return "zh-" + label["script"] if label["language"] == "zh" else label["language"]


def score(passages: list[Passage], outcomes: dict[str, Outcome]) -> Scores:
    scores = Scores()
    for passage in passages:
        label, outcome = passage.label, outcomes[passage.id]
        keys = [("all", "all"), ("language", _language_group(label)), ("style", label["style"])]
        whole = Tally(passages=1, relevance_agree=int(outcome.relevant == label["relevant"]))
        if not whole.relevance_agree:
            scores.errors.append(f"{passage.id} relevance {outcome.relevant} (label {label['relevant']})"
                                 + ("" if outcome.stored else ", not stored") + f": {_opening(passage)}")
        by_stage: dict[str, Tally] = defaultdict(Tally)
        for found in outcome.events:
            match = next((e for e in label["events"] if e["stage"] == found.stage and names_match(found.company, e)),
                         None)
            tally = by_stage[found.stage]
            tally.detected += 1
            if match is not None and not match["historical"]:
                tally.correct += 1
            else:
                why = "history" if match is not None else "false alert"
                scores.errors.append(f"{passage.id} {why} ({found.company}, {found.stage}): {found.evidence[:140]}")
        for event in label["events"]:
            if not (event["primary"] and event["tech"]) or event["historical"]:
                continue
            if outcome.run_rows is not None:
                # One ingest keeps one row per company and stage: each labelled event counts
                # once per split, however many passages report it.
                key = (event["company"].casefold(), event["stage"])
                if key in scores.counted:
                    continue
                scores.counted.add(key)
            tally = by_stage[event["stage"]]
            tally.primary += 1
            seen = outcome.run_rows if outcome.run_rows is not None and outcome.relevant else outcome.events
            if any(f.stage == event["stage"] and names_match(f.company, event) for f in seen):
                tally.primary_found += 1
            else:
                scores.errors.append(f"{passage.id} missed ({event['company']}, {event['stage']})"
                                     + ("" if outcome.relevant else " [judged irrelevant]") + f": {_opening(passage)}")
        for stage, tally in by_stage.items():
            whole.add(tally)
            scores.groups[("stage", stage)].add(tally)
        for key in keys:
            scores.groups[key].add(whole)
    return scores


def _opening(passage: Passage) -> str:
    return " ".join(passage.text.split())[:90]


# -- printing -----------------------------------------------------------------------------------

def _figure(value: float, numerator: int, denominator: int) -> str:
    return f"{'-':>6} {'':>9}" if denominator == 0 else f"{value:>6.3f} {f'({numerator}/{denominator})':>9}"


def print_table(title: str, results: dict[str, Scores]) -> None:
    print(f"\n{title}")
    print(f"{'split':<5} {'group':<26} {'n':>4}  {'relevance':<16} {'precision':<16} {'recall':<16}")
    for split, scores in results.items():
        order = {"all": 0, "language": 1, "stage": 2, "style": 3}
        for (kind, name), t in sorted(scores.groups.items(), key=lambda item: (order[item[0][0]], item[0][1])):
            shown = name if kind == "all" else f"{kind}: {name}"
            passages = f"{t.passages:>4}" if kind != "stage" else f"{'':>4}"
            relevance = _figure(t.relevance, t.relevance_agree, t.passages) if kind != "stage" else f"{'':16}"
            print(f"{split:<5} {shown:<26} {passages}  {relevance} {_figure(t.precision, t.correct, t.detected)} "
                  f"{_figure(t.recall, t.primary_found, t.primary)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", choices=SPLITS, action="append", default=[],
                        help="also list every false and missed event of this split")
    parser.add_argument("--ingest", action="store_true", help="one real hkai ingest per split")
    parser.add_argument("--lang", choices=("en", "zh"), help="only passages in this language")
    parser.add_argument("--split", choices=SPLITS, action="append", help="only this split (repeatable)")
    args = parser.parse_args(argv)
    labels = load_labels()
    passages = [p for p in load_passages() if not args.lang or p.label["language"] == args.lang]
    if len(passages) < len(labels):
        print(f"({len(labels) - len(passages)} labelled passages have no text here: "
              f"python -m bench.realnews.check names them)")
    results: dict[str, Scores] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hkai-realnews-") as tmp:
        for split in args.split or SPLITS:
            chosen = [p for p in passages if p.split == split]
            if not chosen:
                continue
            outcomes = run_ingest(chosen, Path(tmp), split) if args.ingest else run_in_process(chosen)
            results[split] = score(chosen, outcomes)
    how = "one hkai ingest per split" if args.ingest else "in process, each passage alone"
    print_table(f"Real news passages ({how}; {time.perf_counter() - started:.0f} s)", results)
    print(f"\ntargets: precision >= {TARGETS['precision']}, recall >= 0.85 (English) / 0.80 (Chinese), "
          f"relevance >= {TARGETS['relevance']}")
    for split in args.errors:
        if split in results:
            print(f"\nerrors, {split} split:")
            for line in results[split].errors:
                print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
