"""Checks every label of bench/realnews/labels/ and the texts beside them.

    .venv/bin/python -m bench.realnews.check            # problems, then a count per language/script/split
    .venv/bin/python -m bench.realnews.check --strict   # exit 1 on a missing text too
    .venv/bin/python -m bench.realnews.check --url URL  # may this URL be collected? (held out, labelled)
    .venv/bin/python -m bench.realnews.check --facts ID # sha1 and length of texts/ID.txt, for its label
    .venv/bin/python -m bench.realnews.check --story KEY # is this story's family (company, month) labelled?

Exit 1 when a label is malformed, duplicated, names a held-out URL, or its text differs
from the SHA-1 and length it was labelled on.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from bench.realnews.labels import (LABELS, LISTING_KINDS, STAGES, STYLES_EN, STYLES_ZH, TEXTS, held_out_urls,
                                   load_labels, read_text, assign_splits, family, text_sha1, url_sha1)

REQUIRED = {"id": str, "url": str, "query": str, "sha1": str, "length": int, "language": str, "style": str,
            "outlet": str, "story": str, "relevant": bool, "events": list}
EVENT_REQUIRED = {"company": str, "as_written": str, "stage": str, "exchange": str, "primary": bool,
                  "tech": bool, "historical": bool}


def problems_of(label: dict, held: set[str]) -> list[str]:
    """What is wrong with one label, each a short phrase."""
    found = []
    for key, kind in REQUIRED.items():
        if not isinstance(label.get(key), kind):
            found.append(f"{key} missing or not {kind.__name__}")
    if found:
        return found
    if url_sha1(label["url"]) in held:
        found.append("its URL is held out by the maintainers (../shared/realnews-heldout.sha1)")
    if label.get("split") not in (None, "test"):
        found.append("an explicit split may only be test (a batch collected for the test split)")
    if label["language"] not in ("en", "zh"):
        found.append(f"language {label['language']!r} is not en or zh")
    if label["language"] == "zh" and label.get("script") not in ("Hant", "Hans"):
        found.append("a Chinese passage needs script Hant or Hans")
    styles = STYLES_ZH if label["language"] == "zh" else STYLES_EN
    if label["style"] not in styles:
        found.append(f"style {label['style']!r} is not one of {', '.join(styles)}")
    for number, event in enumerate(label["events"], 1):
        for key, kind in EVENT_REQUIRED.items():
            if not isinstance(event.get(key), kind):
                found.append(f"event {number}: {key} missing or not {kind.__name__}")
        if event.get("stage") not in STAGES:
            found.append(f"event {number}: stage {event.get('stage')!r} is not one of {', '.join(STAGES)}")
        if event.get("exchange") != "HKEX":
            found.append(f"event {number}: only HKEX stages are events (put others in not_events)")
        if event.get("listing") not in (None, *LISTING_KINDS):
            found.append(f"event {number}: listing {event.get('listing')!r} is not one of {', '.join(LISTING_KINDS)}")
        code = event.get("stock_code")
        if code is not None and not (isinstance(code, str) and code.isdigit()):
            found.append(f"event {number}: stock_code {code!r} is not a string of digits")
    return found


def _answer(urls: list[str], ids: list[str], stories: list[str] = ()) -> int:
    held = held_out_urls()
    labels = load_labels(LABELS)
    labelled = {label.get("url") for label in labels}
    splits = assign_splits(labels)
    for story in stories:
        known = sorted({splits[label["id"]] for label in labels if family(label["story"]) == family(story)})
        print(f"{'new' if not known else 'labelled already (' + ', '.join(known) + ')'}\t{story} (family {family(story)})")
    for url in urls:
        verdict = ("held out: never collect" if url_sha1(url) in held
                   else "already labelled" if url in labelled else "ok")
        print(f"{verdict}\t{url}")
    for name in ids:
        path = TEXTS / f"{name}.txt"
        if not path.exists():
            print(f"{name}\tno text at {path}")
            continue
        text = path.read_text(encoding="utf-8")
        print(f'{name}\t"sha1": "{text_sha1(text)}", "length": {len(text)}')
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="a missing text is an error too")
    parser.add_argument("--url", action="append", default=[], help="say whether this URL may be collected")
    parser.add_argument("--facts", action="append", default=[], metavar="ID", help="print sha1 and length of a text")
    parser.add_argument("--story", action="append", default=[], metavar="KEY",
                        help="say whether a story's family (company and month) is labelled already, and where")
    args = parser.parse_args(argv)
    if args.url or args.facts or args.story:
        return _answer(args.url, args.facts, args.story)
    try:
        labels = load_labels(LABELS)
    except ValueError as error:
        print(f"bench/realnews/labels/{error}", file=sys.stderr)
        return 1
    held = held_out_urls()
    errors: list[str] = []
    missing = []
    seen: dict[str, Counter] = {"id": Counter(), "url": Counter(), "sha1": Counter()}
    for label in labels:
        name = label.get("id", "<no id>")
        for problem in problems_of(label, held):
            errors.append(f"{name}: {problem}")
        for key in seen:
            seen[key][label.get(key)] += 1
        if "sha1" not in label:
            continue
        text = read_text(label, TEXTS) if "id" in label else None
        if text is None:
            missing.append(name)
        elif text_sha1(text) != label["sha1"] or len(text) != label.get("length"):
            errors.append(f"{name}: texts/{name}.txt differs from the text it was labelled on "
                          f"(sha1 {text_sha1(text)[:10]}, length {len(text)})")
    for key, counts in seen.items():
        for value, count in counts.items():
            if count > 1:
                errors.append(f"{key} {value!r} appears {count} times")
    for line in errors:
        print(line)
    if missing:
        print(f"{len(missing)} texts not collected here (see bench/realnews/README.md): {', '.join(missing[:8])}"
              + (" ..." if len(missing) > 8 else ""))
    splits = assign_splits([label for label in labels if "story" in label and "id" in label])
    counts = Counter((label.get("language"), label.get("script"), splits.get(label.get("id"), "-")) for label in labels)
    for (language, script, split), count in sorted(counts.items(), key=str):
        print(f"{language} {script or '-':<4} {split:<4} {count:>4} passages")
    events = sum(1 for label in labels for e in label.get("events", ()) if e.get("primary") and e.get("tech")
                 and not e.get("historical"))
    print(f"{len(labels)} passages, {events} primary events of technology companies")
    return 1 if errors or (args.strict and missing) else 0


if __name__ == "__main__":
    sys.exit(main())
