"""The same results before and after a change of where the work runs: one `hkai ingest` of
the benchmark sets by each of two checkouts, and what their warehouses hold, compared.

    # a checkout of the commit before, with its own .venv (make setup), e.g. a git worktree
    .venv/bin/python -m bench.same_results --project ../before --out /tmp/before.json
    .venv/bin/python -m bench.same_results --project . --out /tmp/after.json
    .venv/bin/python -m bench.same_results --compare /tmp/before.json /tmp/after.json

The pages are built here, the same for both: the labelled listing passages of every split
(tests/data/listing_news_*.jsonl, in the outlets' markup of bench/news_e2e.py), the real
news passages when their texts are collected (bench/realnews/README.md), and ../shared's
article extraction corpus served twice, under a second URL with a different page chrome,
so that every page has a duplicate to find. Each checkout's own `hkai` ingests them all
in one run on a fresh warehouse, with an alert channel. What is compared, by URL (an
article's `duplicate_of` by the URL it points to, a seed by its id): every article's
relevance, language, script and duplicate; its entities; every listing event (company,
stage, stock code, amount, date, the article it came from, suppressed or alerted); and
the alerts sent.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

from bench.harness import _query, run_ingest
from bench.news_e2e import ALERT_PATH, passage_page
from testbed.listing_passages import SPLITS, load_passages
from testbed.site import Site, webhook

PROJECT = Path(__file__).resolve().parents[1]
CORPUS = PROJECT.parent / "shared" / "corpus" / "aeb"


def _pages() -> list[tuple[str, str, bytes | str]]:
    """(path, title, page) of every page the run serves."""
    pages: list[tuple[str, str, bytes | str]] = []
    for split in SPLITS:
        for item in load_passages(split):
            pages.append((f"/labelled/{split}/{item['id']}.html", item["title"], item))
    try:
        from bench.realnews.labels import load_passages as load_real
        real = [p for p in load_real() if p.text]
    except OSError:
        real = []
    for passage in real:
        title = passage.text.split("\n", 1)[0].strip()[:100]
        day = passage.label.get("published") or ""
        day = day if re.fullmatch(r"\d{4}-\d\d-\d\d", day) else "2026-12-01"  # some labels give only a month
        item = {"id": passage.label["id"], "title": title, "text": passage.text, "style": "wire",
                "published_at": f"{day}T08:00:00+00:00"}
        pages.append((f"/real/{passage.label['id']}.html", title, item))
    if CORPUS.exists():
        from testbed.f1 import load_corpus

        for page in load_corpus(CORPUS):
            html = page.html.decode("utf-8", "replace")
            pages.append((f"/corpus/{page.page_id}.html", page.page_id, html))
            # The same article under another URL, in another chrome: a near duplicate.
            pages.append((f"/mirror/{page.page_id}.html", page.page_id,
                          re.sub(r"(?is)<title>.*?</title>", f"<title>Mirror {page.page_id}</title>", html, count=1)))
    return pages


def digest(project: Path, workdir: Path) -> dict:
    """One ingest of every page by `project`'s own hkai, and what its warehouse holds."""
    received: list[dict] = []
    with Site(keep_requests=False) as site:
        listed = []
        for path, title, page in _pages():
            body = passage_page(page, site.base + path) if isinstance(page, dict) else page
            site.add(path, body, conditional=True)
            listed.append((title, path))
        feeds = []
        for n in range(0, len(listed), 200):  # feeds of a usual size
            feeds.append(site.add_feed(f"/feed-{n // 200}.xml", listed[n:n + 200], guid=True, title=f"feed {n // 200}"))
        site.add("/robots.txt", b"User-agent: *\nAllow: /\n", content_type="text/plain")
        site.add(ALERT_PATH, handler=webhook(received))
        channel = "json://" + site.base.removeprefix("http://") + ALERT_PATH
        warehouse = workdir / "hkai.duckdb"
        run = run_ingest(workdir, "same", warehouse, feeds, 16, settings={"alerts": {"urls": [channel]}},
                         hkai=project / ".venv" / "bin" / "hkai")
        base = site.base

    def url(value: str | None) -> str | None:
        return value.removeprefix(base) if value else value

    articles = _query(warehouse, "SELECT article_id, url, is_relevant, language, script, duplicate_of FROM articles")
    url_of = {article_id: url(u) for article_id, u, *_ in articles}
    result: dict = {"seconds": run.seconds, "pages": len(listed), "alerts_received": len(received)}
    result["articles"] = {url(u): {"relevant": bool(relevant), "language": language, "script": script,
                                   "duplicate_of": url_of.get(dup, dup)}
                          for _, u, relevant, language, script, dup in articles}
    entities: dict[str, list] = {}
    for article_id, label, text, normalized, start, end in _query(
            warehouse, "SELECT article_id, label, text, normalized, start_char, end_char FROM entities"):
        entities.setdefault(url_of[article_id], []).append([label, text, normalized, start, end])
    result["entities"] = {u: sorted(rows) for u, rows in sorted(entities.items())}
    events = _query(warehouse, "SELECT company, stage, stock_code, amount, currency, CAST(event_date AS VARCHAR), "
                               "article_id, suppressed FROM listing_events")
    result["events"] = sorted([company, stage, code, amount, currency, date, url_of.get(article_id, article_id), suppressed]
                              for company, stage, code, amount, currency, date, article_id, suppressed in events)
    alerts = _query(warehouse, "SELECT e.company, e.stage, a.status FROM alerts a JOIN listing_events e USING (event_id)")
    result["alerts"] = sorted(list(row) for row in alerts)
    return result


def compare(before: dict, after: dict) -> int:
    """Print the comparison; 0 when both hold the same, 1 otherwise."""
    differences = 0
    print("| what | before | after | same |")
    print("|---|---:|---:|---|")
    a_b, a_a = before["articles"], after["articles"]
    rows = [
        ("pages served", before["pages"], after["pages"], before["pages"] == after["pages"]),
        ("articles", len(a_b), len(a_a), a_b.keys() == a_a.keys()),
        ("relevant", sum(a["relevant"] for a in a_b.values()), sum(a["relevant"] for a in a_a.values()),
         all(a_b[u]["relevant"] == a_a.get(u, {}).get("relevant") for u in a_b)),
        ("duplicates", sum(a["duplicate_of"] is not None for a in a_b.values()),
         sum(a["duplicate_of"] is not None for a in a_a.values()),
         all(a_b[u]["duplicate_of"] == a_a.get(u, {}).get("duplicate_of") for u in a_b)),
        ("languages and scripts", len({(a["language"], a["script"]) for a in a_b.values()}),
         len({(a["language"], a["script"]) for a in a_a.values()}),
         all((a_b[u]["language"], a_b[u]["script"]) == (a_a.get(u, {}).get("language"), a_a.get(u, {}).get("script"))
             for u in a_b)),
        ("entities", sum(map(len, before["entities"].values())), sum(map(len, after["entities"].values())),
         before["entities"] == after["entities"]),
        ("listing events", len(before["events"]), len(after["events"]), before["events"] == after["events"]),
        ("alerts", len(before["alerts"]), len(after["alerts"]), before["alerts"] == after["alerts"]),
    ]
    for what, b, a, same in rows:
        differences += not same
        print(f"| {what} | {b} | {a} | {'yes' if same else 'NO'} |")
    print(f"\nWhole run: before {before['seconds']:.1f} s, after {after['seconds']:.1f} s (one run each).")
    for u in sorted(a_b.keys() | a_a.keys()):
        if a_b.get(u) != a_a.get(u):
            print(f"article {u}: {a_b.get(u)} -> {a_a.get(u)}")
    for u in sorted(before["entities"].keys() | after["entities"].keys()):
        if before["entities"].get(u) != after["entities"].get(u):
            print(f"entities of {u} differ")
    for event in before["events"]:
        if event not in after["events"]:
            print(f"event only before: {event}")
    for event in after["events"]:
        if event not in before["events"]:
            print(f"event only after: {event}")
    return 1 if differences else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, help="the checkout whose .venv/bin/hkai ingests")
    parser.add_argument("--out", type=Path, help="where its digest goes (JSON)")
    parser.add_argument("--compare", type=Path, nargs=2, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args(argv)
    if args.compare:
        before, after = (json.loads(p.read_text()) for p in args.compare)
        return compare(before, after)
    if not args.project or not args.out:
        parser.error("give --project and --out, or --compare BEFORE AFTER")
    with tempfile.TemporaryDirectory(prefix="hkai-same-") as tmp:
        result = digest(args.project.resolve(), Path(tmp))
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=0))
    print(f"{args.out}: {len(result['articles'])} articles, {len(result['events'])} listing events, "
          f"{len(result['alerts'])} alerts, {result['seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
