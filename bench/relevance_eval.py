"""Precision and recall of the relevance score on the labelled set.

The set (tests/data/relevance_labelled.jsonl, read by testbed/relevance_set.py) holds the seeds (positives), handcrafted
positives and negatives, and the pages of ../shared/corpus/aeb, labelled by reading them
(all negatives: none is about AI in Hong Kong). Corpus text is extracted with trafilatura
at run time, never copied into the project; without the corpus those rows are skipped.

    python -m bench.relevance_eval [--threshold 0.5]
"""

from __future__ import annotations

import argparse

from tasks.understand.normalise import normalise_article
from tasks.understand.relevance import score_relevance
from testbed.relevance_set import AEB, load_examples, precision_recall

# The ratio column compares with the relevance gate's pinned floor in tests/test_relevance.py.
PEER = {"precision": 0.9, "recall": 0.9}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=0.5)
    args = parser.parse_args()
    examples = load_examples()
    positives = sum(e.relevant for e in examples)
    print(f"labelled set: {len(examples)} examples, {positives} relevant "
          f"({', '.join(f'{s}={sum(e.source == s for e in examples)}' for s in ('seed', 'handcrafted', 'aeb'))})")
    if not AEB.is_dir():
        print(f"(corpus rows skipped: {AEB} not present)")
    print()
    print(f"{'threshold':>9} | {'precision':>9} | {'recall':>6} | {'FP':>3} | {'FN':>3}")
    print("-" * 44)
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7):
        precision, recall, fp, fn = precision_recall(examples, threshold)
        mark = "  <- config" if abs(threshold - args.threshold) < 1e-9 else ""
        print(f"{threshold:>9.2f} | {precision:>9.3f} | {recall:>6.3f} | {len(fp):>3} | {len(fn):>3}{mark}")
    precision, recall, fp, fn = precision_recall(examples, args.threshold)
    print()
    print(f"{'figure':>9} | {'ours':>6} | {'floor':>6} | {'ratio':>5}")
    print("-" * 36)
    for name, ours in (("precision", precision), ("recall", recall)):
        print(f"{name:>9} | {ours:>6.3f} | {PEER[name]:>6.2f} | {ours / PEER[name]:>5.2f}")
    for label, wrong in (("false positive", fp), ("false negative", fn)):
        for e in wrong:
            scored = score_relevance(normalise_article(e.article), args.threshold)
            print(f"{label}: {e.id} relevance={scored.relevance} signals={scored.relevance_signals[:6]}")


if __name__ == "__main__":
    main()
