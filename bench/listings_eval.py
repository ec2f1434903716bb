"""Relevance and listing detection on the labelled news passages, as an ingest runs them.

    .venv/bin/python -m bench.listings_eval                  # every split, cost before and after
    .venv/bin/python -m bench.listings_eval --errors dev     # and every error of the dev split
    .venv/bin/python -m bench.listings_eval --code-from REV  # the same, with tasks/ and schemas/ of a git revision

Each passage (tests/data/listing_news_<split>.jsonl, read and scored by testbed/listing_passages.py; written for this project in
the styles of wire copy, Hong Kong local press, mainland English press and machine-translated
Chinese press) goes through normalisation, the relevance score and, when relevant, listing
detection, like an article in `hkai ingest`. Figures, per split:

- relevance agreement: passages whose `is_relevant` equals the label;
- precision of alerted events: detected (company, stage) pairs the labels name, among all
  detected in passages judged relevant (every event detection emits can become an alert);
- recall of primary events of technology companies: labelled events with `primary` and
  `tech` that were detected (an event is missed too when its passage was judged irrelevant).

Labels marked `primary: false` are true but incidental (a rival's debut the day before):
detecting them is not a false alert, missing them is not a miss. Company names match after
dropping legal suffixes and a leading city ("Shanghai Biren Technology Co., Ltd." is
"Biren Technology"), or when one name's words begin the other's ("Cloudpeak Data",
"Cloudpeak"), or the label's `aliases` name it. Which splits are still held out (their
errors never read while tuning) and how each came to be is in bench/README.md: dev and
test are tuned on; holdout, holdout2 and holdout3 were measured held out and then had their
error classes fixed; holdout4 is the held-out figure now.

The listing stage's cost is the wall time of `detect_listing_events` per relevant article,
in batches as the flow calls it, on the relevant passages and the seeds; best of three.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from testbed.listing_passages import BATCH, PROJECT, SPLITS, load_passages, passage_article, score_passages

# The splits written before the detector was tuned on them (see the module docstring).
HELD_OUT = ("test", "holdout", "holdout2", "holdout3", "holdout4")
# The code before the listing stage was taught real news (bench/realnews): its cost per
# article is the one the real-news work may at most multiply by 1.5; `make bench` measures it too.
BASELINE_REV = "76bcf26"
TARGETS = {"precision": 0.95, "recall": 0.80, "relevance": 0.95}


def cost_per_article(nlp, project: Path = PROJECT, repeats: int = 3) -> tuple[float, int]:
    """(milliseconds of detect_listing_events per relevant article, articles), best of `repeats`."""
    from schemas.records import Article
    from tasks.listings.detect import detect_listing_events

    articles = [passage_article(item).model_copy(update={"is_relevant": True})
                for split in SPLITS for item in load_passages(split, project) if item["relevant"]]
    for number, path in enumerate(sorted((project / "seeds").glob("*.txt"))):
        text = path.read_text(encoding="utf-8")
        articles.append(Article(article_id=f"seed{number}", url=f"https://news.example/seed{number}",
                                canonical_url=f"https://news.example/seed{number}", source="labelled",
                                published_at=articles[0].published_at, fetched_at=articles[0].fetched_at,
                                text=text, is_relevant=True))
    detect_listing_events(nlp, articles[:BATCH])  # warm-up: first-call allocations in spaCy
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for start in range(0, len(articles), BATCH):
            detect_listing_events(nlp, articles[start:start + BATCH])
        best = min(best, time.perf_counter() - started)
    return 1000 * best / len(articles), len(articles)


def measure(project: Path = PROJECT, cost_only: bool = False) -> dict:
    """Every figure for the code importable now on the project's labelled data, as a dict
    (only the cost with `cost_only`)."""
    from tasks.understand.nlp import load_nlp

    nlp = load_nlp()
    figures: dict = {}
    for split in () if cost_only else SPLITS:
        score = score_passages(nlp, load_passages(split, project))
        figures[split] = {"passages": score.passages, "relevance": score.relevance, "precision": score.precision,
                          "recall": score.recall, "detected": score.detected, "correct": score.correct,
                          "primary": score.primary, "primary_found": score.primary_found,
                          "fields": score.fields, "errors": score.errors}
    cost, articles = cost_per_article(nlp, project)
    figures["cost_ms"], figures["cost_articles"] = cost, articles
    return figures


def measure_revision(rev: str, cost_only: bool = False) -> dict | None:
    """The figures for tasks/ and schemas/ as they were at a git revision (None if unavailable)."""
    with tempfile.TemporaryDirectory(prefix="hkai-baseline-") as tree:
        archive = subprocess.run(["git", "-C", str(PROJECT), "archive", rev, "tasks", "schemas"],
                                 capture_output=True)
        if archive.returncode != 0:
            return None
        subprocess.run(["tar", "-x", "-C", tree], input=archive.stdout, check=True)
        # The old code and this script, on this checkout's labelled data, seeds and testbed
        # (found after the old tasks/ and schemas/, which come first on the path).
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([tree, str(PROJECT)])}
        code = ("import json, sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
                "import listings_eval as e; print(json.dumps(e.measure(Path(sys.argv[2]), sys.argv[3] == '1')))")
        Path(tree, "listings_eval.py").write_text(Path(__file__).read_text(encoding="utf-8"), encoding="utf-8")
        run = subprocess.run([sys.executable, "-c", code, tree, str(PROJECT), "1" if cost_only else "0"],
                             capture_output=True, text=True, env=env, cwd=tree)
        if run.returncode != 0:
            print(run.stderr[-2000:], file=sys.stderr)
            return None
        return json.loads(run.stdout.strip().splitlines()[-1])


def _row(name: str, figures: dict, split: str) -> str:
    f = figures[split]
    return (f"{name:<9} {split:<8} {f['passages']:>4} {f['relevance']:>10.3f} "
            f"{f['precision']:>10.3f} ({f['correct']}/{f['detected']}) {f['recall']:>8.3f} "
            f"({f['primary_found']}/{f['primary']})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", choices=SPLITS, action="append", default=[],
                        help="also list every error of this split")
    parser.add_argument("--code-from", metavar="REV", help="measure tasks/ and schemas/ of this git revision only")
    parser.add_argument("--no-baseline", action="store_true", help="skip the baseline measurement")
    args = parser.parse_args(argv)
    if args.code_from:
        figures = measure_revision(args.code_from)
        if figures is None:
            print(f"listings_eval: cannot measure revision {args.code_from}", file=sys.stderr)
            return 2
        runs = [(args.code_from, figures)]
    else:
        runs = [("now", measure())]
        if not args.no_baseline:
            baseline = measure_revision(BASELINE_REV)
            if baseline is None:
                print(f"(baseline {BASELINE_REV} not measurable here: no git history)")
            else:
                runs.insert(0, ("before", baseline))
                # The machine is shared: measure both once more, one after the other, and
                # keep each one's best, so that neither is judged on a busier minute.
                again = measure_revision(BASELINE_REV, cost_only=True)
                if again is not None:
                    baseline["cost_ms"] = min(baseline["cost_ms"], again["cost_ms"])
                runs[1][1]["cost_ms"] = min(runs[1][1]["cost_ms"], measure(cost_only=True)["cost_ms"])
    print(f"{'code':<9} {'split':<8} {'n':>4} {'relevance':>10} {'precision':>10} {'':>9} {'recall':>8}")
    for name, figures in runs:
        for split in SPLITS:
            print(_row(name, figures, split))
    print(f"\ntargets: precision >= {TARGETS['precision']}, recall >= {TARGETS['recall']}, "
          f"relevance >= {TARGETS['relevance']}")
    for split in HELD_OUT:
        latest = runs[-1][1][split]
        print(f"  {split}: " + ", ".join(f"{name} {'met' if latest[name] >= target else 'NOT met'}"
                                        for name, target in TARGETS.items()))
    print(f"\n{'code':<9} {'listing stage ms per relevant article':>40} {'articles':>9} {'ratio':>6}")
    first = runs[0][1]["cost_ms"]
    for name, figures in runs:
        print(f"{name:<9} {figures['cost_ms']:>40.2f} {figures['cost_articles']:>9} {figures['cost_ms'] / first:>6.2f}")
    fields = runs[-1][1]["dev"]["fields"]
    print("\nfields of matched dev events: " + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in fields.items()))
    for split in args.errors:
        print(f"\nerrors, {split} split ({runs[-1][0]}):")
        for line in runs[-1][1][split]["errors"]:
            print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
