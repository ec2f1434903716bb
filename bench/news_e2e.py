"""Listing events and relevance end to end: the labelled passages as news pages, one real
`hkai ingest` per split, scored from the warehouse.

    .venv/bin/python -m bench.news_e2e                    # every split
    .venv/bin/python -m bench.news_e2e --errors dev       # and every error of the dev split
    .venv/bin/python -m bench.news_e2e --split holdout2   # one split only

This is how the maintainers measure: real outlets' pages through one ingest. Each passage
of tests/data/listing_news_<split>.jsonl becomes an HTML article page in the markup of the
outlet its style imitates (headline, dateline, byline, paragraphs; wire copy with one
element per paragraph, a Hong Kong paper with advertisement slots between paragraphs, a
mainland site with paragraphs separated by <br>, a translated page), served by the tests'
loopback site (testbed/site.py) and listed in an RSS feed. `.venv/bin/hkai ingest` then runs
on a fresh warehouse, with its real Prefect and an alert channel (Apprise json://) posting
to the same site. Figures per split, from the warehouse:

- relevance agreement: `articles.is_relevant` equals the label (a passage not stored
  disagrees);
- precision of alerted events: `listing_events` rows that alerted (`suppressed` NULL)
  whose article's passage labels that company and stage, among all that alerted;
- recall of primary events of technology companies: each distinct (company, stage) the
  split labels, once (the warehouse keeps one row per company and stage, and a story is
  often told by several passages), found as a row whose article's passage labels it (or
  a row known from the seeds), alerted or rightly silent (stale: a later stage came first
  in the run); a row left unwatched is a miss, since nobody is told.

The same figures by bench/listings_eval.py (the passages' text straight into relevance and
detection) are printed beside them: a difference is lost in fetching, extraction or
normalisation (a headline that does not reach the detector, a dateline, merged paragraphs)
or in the warehouse (one row per company and stage, dedup, watch). Also printed: how many
pages were stored, with their headline, and with their paragraphs as separate lines.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench.harness import _query, run_ingest
from bench.listings_eval import TARGETS
from testbed.listing_passages import SPLITS, Figures, company_key, label_names, load_passages, same_company
from testbed.site import Site, webhook

HTTP_CONCURRENCY = 16
ALERT_PATH = "/hook"


# -- the pages -------------------------------------------------------------------------------

def _layout(item: dict) -> str:
    """Which outlet's markup a passage gets: by its style, and a stable half of each style."""
    second = int(hashlib.sha1(item["id"].encode()).hexdigest(), 16) % 2
    return {"wire": ("wire-div", "wire-p"), "hk-local": ("hk-paper", "hk-tabloid"),
            "mainland-english": ("mainland-br", "mainland-p"),
            "machine-translated": ("translated", "translated")}.get(item["style"], ("wire-p", "wire-p"))[second]


def _json_ld(item: dict, outlet: str, author: str) -> str:
    data = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": item["title"],
            "datePublished": item["published_at"], "author": [{"@type": "Person", "name": author}],
            "publisher": {"@type": "Organization", "name": outlet}}
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def passage_page(item: dict, url: str) -> str:
    """The passage as an outlet would publish it: the headline only in the page chrome
    (h1, <title>, og:title), the text as the article body, in the layout of its style."""
    layout = _layout(item)
    e = html.escape
    paragraphs = [p for p in item["text"].split("\n") if p.strip()]
    published = datetime.fromisoformat(item["published_at"])
    shown_date = published.strftime("%B %-d, %Y %-I:%M %p UTC")
    outlet, author = {
        "wire-div": ("Harbour Wire", "Mei Ling Chan"),
        "wire-p": ("Pacific Markets News", "Kevin Lau and Sarah Ho"),
        "hk-paper": ("Harbour Morning Post", "Candice Wong"),
        "hk-tabloid": ("The Harbour Standard", "Jason Ng"),
        "mainland-br": ("Daily Global", "Global Desk"),
        "mainland-p": ("China Business Daily", "Zhang Wei"),
        "translated": ("Caijing Express", "Li Na"),
    }[layout]
    if layout == "wire-div":
        body = "\n".join(f'<div data-testid="paragraph-{n}" class="article-body__paragraph">{e(p)}</div>'
                         for n, p in enumerate(paragraphs))
        byline = f'<div class="article-byline"><a rel="author" href="/authors/1">By {e(author)}</a></div>'
        body += f'\n<p class="sign-off">Reporting by {e(author)}; Editing by Tom Harris</p>'
    elif layout == "wire-p":
        body = "\n".join(f"<p>{e(p)}</p>" for p in paragraphs)
        byline = f'<div class="byline">By <a href="/authors/2">{e(author)}</a></div>'
    elif layout == "hk-paper":
        parts = []
        for n, p in enumerate(paragraphs):
            parts.append(f"<p>{e(p)}</p>")
            if n == 0:
                parts.append('<div class="ad-slot"><span>Advertisement</span></div>')
        body = "\n".join(parts) + '\n<div class="newsletter">Sign up for our Markets newsletter</div>'
        byline = f'<div class="author-name">{e(author)}</div>'
    elif layout == "hk-tabloid":
        body = "\n".join(f"<p>{e(p)}</p>" for p in paragraphs)
        byline = f'<div class="reporter">Reporter: {e(author)}</div>'
    elif layout == "mainland-br":
        body = '<div class="article_content">' + "<br><br>".join(e(p) for p in paragraphs) + "</div>"
        byline = f'<div class="author_share"><span class="byline">By {e(author)}</span> ' \
                 f'<span class="pub_time">Published: {published:%Y/%m/%d %H:%M}</span></div>'
    elif layout == "mainland-p":
        body = '<div id="Content">' + "".join(f"<p>{e(p)}</p>" for p in paragraphs) + "</div>"
        byline = f'<div class="info">By {e(author)} | chinabusinessdaily.example | Updated: {published:%Y-%m-%d %H:%M}</div>'
    else:
        body = "\n".join(f"<p>{e(p)}</p>" for p in paragraphs)
        byline = f'<div class="source">Source: {e(outlet)} Editor: {e(author)}</div>'
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{e(item["title"])} | {e(outlet)}</title>
<meta property="og:title" content="{e(item["title"])}">
<meta property="og:type" content="article">
<meta property="og:site_name" content="{e(outlet)}">
<meta name="author" content="{e(author)}">
<meta property="article:published_time" content="{e(item["published_at"])}">
<link rel="canonical" href="{e(url)}">
{_json_ld(item, outlet, author)}
</head><body>
<header><nav><a href="/">Home</a> <a href="/business">Business</a> <a href="/markets">Markets</a>
<a href="/tech">Tech</a></nav></header>
<main><article>
<p class="kicker"><a href="/markets">Markets</a></p>
<h1>{e(item["title"])}</h1>
{byline}
<time datetime="{e(item["published_at"])}">{e(shown_date)}</time>
{body}
</article>
<aside class="related"><h3>Related</h3><ul><li><a href="/r1">Hang Seng Index closes flat</a></li>
<li><a href="/r2">Typhoon signal No 3 lowered</a></li></ul></aside></main>
<footer><p>Copyright 2026 {e(outlet)}. All rights reserved.</p></footer>
</body></html>"""


# -- one split through one ingest -----------------------------------------------------------

@dataclass
class SplitResult(Figures):
    split: str
    passages: int = 0
    stored: int = 0
    headline_kept: int = 0
    paragraphs_kept: int = 0
    relevance_agree: int = 0
    detected: int = 0  # events that alerted
    correct: int = 0
    delivered: int = 0
    primary: int = 0
    primary_found: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


def _labels_event(item: dict, company: str, stage: str) -> bool:
    return any(label["stage"] == stage and any(same_company(company, name) for name in label_names(label))
               for label in item["events"])


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.split("\n") if line.strip()]


def run_split(split: str, workdir: Path) -> SplitResult:
    """Serve one split's passages, ingest them once on a fresh warehouse, and score it."""
    items = load_passages(split)
    received: list[dict] = []
    with Site(keep_requests=False) as site:
        path_of = {}
        for item in items:
            path = f"/news/{split}/{item['id']}.html"
            path_of[path] = item
            site.add(path, passage_page(item, site.base + path), conditional=True)
        feed = site.add_feed(f"/{split}.xml", [(item["title"], path) for path, item in path_of.items()],
                             guid=True, title=f"labelled {split}")
        site.add("/robots.txt", b"User-agent: *\nAllow: /\n", content_type="text/plain")
        site.add(ALERT_PATH, handler=webhook(received))
        channel = "json://" + site.base.removeprefix("http://") + ALERT_PATH
        warehouse = workdir / f"{split}.duckdb"
        run = run_ingest(workdir, split, warehouse, [feed], HTTP_CONCURRENCY, settings={"alerts": {"urls": [channel]}})
    result = SplitResult(split, passages=len(items), seconds=run.seconds)
    base = site.base

    articles = {url.removeprefix(base): (article_id, title, text, relevant) for url, article_id, title, text, relevant
                in _query(warehouse, "SELECT url, article_id, title, text, is_relevant FROM articles")}
    item_of_article = {}
    for path, item in path_of.items():
        stored = articles.get(path)
        if stored is None:
            result.errors.append(f"{item['id']} not stored")
            if not item["relevant"]:
                result.relevance_agree += 1  # nobody is shown an article that was not stored
            continue
        article_id, title, text, relevant = stored
        item_of_article[article_id] = item
        result.stored += 1
        result.headline_kept += (title or "").strip() == item["title"].strip()
        result.paragraphs_kept += _lines(text or "") == _lines(item["text"])
        if _lines(text or "") != _lines(item["text"]):
            result.errors.append(f"{item['id']} text as stored differs: {(text or '')[:120]!r}")
        if bool(relevant) == item["relevant"]:
            result.relevance_agree += 1
        else:
            result.errors.append(f"{item['id']} relevance {relevant} (label {item['relevant']}): {item['title'][:70]}")

    rows = _query(warehouse, "SELECT e.event_id, e.company, e.stage, e.article_id, e.suppressed, e.known, "
                             "count(a.event_id) FILTER (WHERE a.status = 'sent') "
                             "FROM listing_events e LEFT JOIN alerts a USING (event_id) "
                             "GROUP BY ALL")
    for _, company, stage, article_id, suppressed, known, sent in rows:
        item = item_of_article.get(article_id)
        if suppressed is not None or item is None:
            continue
        result.detected += 1
        result.delivered += sent > 0
        if _labels_event(item, company, stage):
            result.correct += 1
        else:
            result.errors.append(f"{item['id']} false alert ({company}, {stage})")
    # Recall counts each labelled event once (the warehouse keeps one row per company and
    # stage, the first sighting), with every name the split's labels give it.
    events: dict[tuple[str, str], list[str]] = {}
    for item in items:
        for label in item["events"]:
            if label["primary"] and label["tech"]:
                names = events.setdefault((company_key(label["company"]), label["stage"]), [])
                names.extend(name for name in label_names(label) if name not in names)
    for (_, stage), names in events.items():
        result.primary += 1
        found = [suppressed for _, company, row_stage, article_id, suppressed, known, _ in rows
                 if row_stage == stage and any(same_company(company, name) for name in names)
                 and (known or (article_id in item_of_article
                                and _labels_event(item_of_article[article_id], company, stage)))]
        if any(suppressed in (None, "known", "stale") for suppressed in found):
            result.primary_found += 1
        else:
            result.errors.append(f"missed ({names[0]}, {stage}): " + (f"row {found[0]}" if found else "no row"))
    if len(received) != result.delivered:
        result.errors.append(f"the webhook received {len(received)} alerts, the warehouse records {result.delivered} sent")
    return result


def unit_figures(splits: list[str]) -> dict:
    """bench/listings_eval.py's figures for the same splits: the passages without pages."""
    from testbed.listing_passages import score_passages
    from tasks.understand.nlp import load_nlp

    nlp = load_nlp()
    return {split: score_passages(nlp, load_passages(split)) for split in splits}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=SPLITS, action="append", help="only this split (repeatable)")
    parser.add_argument("--errors", choices=SPLITS, action="append", default=[],
                        help="also list every error of this split")
    args = parser.parse_args(argv)
    splits = args.split or list(SPLITS)
    with tempfile.TemporaryDirectory(prefix="hkai-news-e2e-") as tmp:
        results = [run_split(split, Path(tmp)) for split in splits]
    units = unit_figures(splits)
    print(f"{'split':<9} {'n':>4} {'stored':>7} {'headline':>9} {'paragraphs':>11} {'ingest s':>9}")
    for r in results:
        print(f"{r.split:<9} {r.passages:>4} {r.stored:>7} {r.headline_kept:>9} {r.paragraphs_kept:>11} "
              f"{r.seconds:>9.1f}")
    print(f"\n{'split':<9} {'measure':<11} {'relevance':>10} {'precision':>10} {'':>10} {'recall':>8} {'':>10}")
    for r in results:
        u = units[r.split]
        print(f"{r.split:<9} {'e2e':<11} {r.relevance:>10.3f} {r.precision:>10.3f} {f'({r.correct}/{r.detected})':>10} "
              f"{r.recall:>8.3f} {f'({r.primary_found}/{r.primary})':>10}")
        print(f"{'':<9} {'passages':<11} {u.relevance:>10.3f} {u.precision:>10.3f} {f'({u.correct}/{u.detected})':>10} "
              f"{u.recall:>8.3f} {f'({u.primary_found}/{u.primary})':>10}")
    print(f"\ntargets: precision >= {TARGETS['precision']}, recall >= {TARGETS['recall']}, "
          f"relevance >= {TARGETS['relevance']}; alerts delivered to the webhook: "
          + ", ".join(f"{r.split} {r.delivered}/{r.detected}" for r in results))
    for r in results:
        if r.split in args.errors:
            print(f"\nerrors, {r.split} split (end to end):")
            for line in r.errors:
                print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
