"""Soak run: N feeds x M items on a loopback site, one real `hkai ingest`,
then a second run against the unchanged site. Prints wall time, throughput, peak RSS of the
ingest process tree and errors by kind.

    .venv/bin/python -m bench.soak [--feeds 1000 --items 20] [--keep]

The site is the tests' loopback site (testbed/site.py) generating every page on request,
served from a process of its own (`SiteProcess`), so its CPU and memory are not counted
against the ingest; the ingest is the real CLI, started as a subprocess, its process
tree's memory sampled by testbed/memory.py.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape
from pathlib import Path

from testbed.memory import PeakMemory
from testbed.site import Route, Site, SiteProcess, SiteStats, endless, redirect, trickle

PROJECT_DIR = Path(__file__).resolve().parents[1]
CORPUS = PROJECT_DIR.parent / "shared" / "corpus" / "aeb" / "ground-truth.json"
HKAI = PROJECT_DIR / ".venv" / "bin" / "hkai"
RSS_TARGET_MIB = 1024
SAMPLE_S = 0.2  # memory sampling interval

HTTP_CONFIG = {"per_host_delay_s": 0, "per_host_concurrency": 16, "concurrency": 32, "timeout_s": 5}
TIMEOUT_S = HTTP_CONFIG["timeout_s"]

# Misbehaviour per article URL (probability at --fault-scale 1). Everything else is a
# normal article page; "slow" pages answer after 1.5 s, inside the timeout.
ARTICLE_FAULTS = [
    ("http-404", 0.010),
    ("http-500", 0.010),
    ("slow", 0.010),
    ("hang", 0.001),        # no headers until after the read timeout
    ("trickle", 0.001),     # headers, then one byte every 0.5 s: only the hard deadline stops it
    ("oversized", 0.005),   # 12 MB, over the default max_bytes of 10 MB
    ("not-html", 0.010),    # PDF, JSON or PNG with a 200
    ("redirect", 0.020),    # 301 to another path on the same host (not a fault: a real-web habit)
    ("syndicated", 0.030),  # the text of another article under another URL (near duplicate)
]
FEED_FAULTS = [
    ("feed-404", 0.010),
    ("feed-500", 0.010),
    ("feed-broken", 0.010),  # truncated XML or an HTML error page served with 200
    ("feed-slow", 0.005),    # answers after 1 s (discovery is one request per source)
    ("feed-sloppy", 0.010),  # ill-formed (bare &) but readable: must still yield its items
    ("feed-atom", 0.100),    # Atom instead of RSS 2.0
]
STORED_KINDS = {"ok", "slow", "redirect", "syndicated"}
OVERSIZED_BYTES = 12_000_000
NOT_FOUND = b"<html><body>Not found</body></html>"
PAGE_NOT_FOUND = b"<html><body><h1>Page not found</h1></body></html>"
SERVER_ERROR = b"<html><body>Internal Server Error</body></html>"
PAGE_SERVER_ERROR = b"<html><body><h1>Internal Server Error</h1></body></html>"
OVERSIZED_CHUNK = b"<p>" + b"filler text " * 5000 + b"</p>\n"

# Topic mix of the article pages: what the relevance stage has to sort out.
TOPICS = [("hk-ai-listing", 0.12), ("hk-ai", 0.06), ("hk-not-ai", 0.06), ("ai-not-hk", 0.06), ("general", 0.70)]


# -- text ------------------------------------------------------------------------------

AI_COMPANIES = [
    ("Zhipu AI", "2513"), ("MiniMax", "0100"), ("Moonshot AI", None), ("Biren Technology", "6082"),
    ("Iluvatar CoreX", "9903"), ("Unisound", "9678"), ("Mobvoi", "2438"), ("Black Sesame Technologies", "2533"),
    ("Horizon Robotics", "9660"), ("UBTech Robotics", "9880"), ("4Paradigm", "6682"),
    ("Harbourlight Intelligence", None), ("Kowloon Neural Systems", None), ("Victoria Peak Robotics", None),
    ("Lantau Vision AI", None), ("Pearl Delta Compute", None),
]
BANKS = ["CICC", "Morgan Stanley", "Goldman Sachs", "CLSA", "HSBC", "Jefferies", "Citi", "UBS"]
NAMES = ["Emily Chan", "Raymond Lau", "Priya Natarajan", "Tom Whitfield", "Grace Ho", "Daniel Ng",
         "Sofia Martins", "Kenji Watanabe", "Aisha Rahman", "Michael Leung", "Laura Becker", "Wong Ka-ming"]
SECTIONS = ["Markets", "Technology", "Business", "World", "Opinion", "Property", "Science", "Sport"]

LISTING_SENTENCES = [
    "{company} filed a listing application with the Hong Kong Stock Exchange on {date}, according to a document posted on the HKEX website.",
    "{company} passed its listing hearing at HKEX on {date}, clearing the way for an initial public offering on the Main Board.",
    "{company} priced its Hong Kong IPO at HK${price} per share, raising about HK${amount} billion, the company said in a filing.",
    "Shares of {company} (stock code {code}.HK) debuted in Hong Kong on {date}, opening {pct} per cent above the offer price.",
    "The {adj} developer of large language models is one of several mainland artificial intelligence companies seeking a listing under Chapter 18C of the exchange's rules.",
    "Analysts at {bank} said demand for generative AI had driven a wave of technology IPOs in Hong Kong this year.",
    "{company} said it would use the proceeds to buy computing power, train foundation models and hire engineers in the Greater Bay Area.",
    "The retail tranche of the offering was oversubscribed {n} times, according to the prospectus.",
    "{bank} and {bank2} are the joint sponsors of the deal, which would be among the largest AI listings in Hong Kong since {year}.",
    "{company} reported a net loss of {amount} billion yuan last year as spending on AI chips and research climbed.",
    "The company's cornerstone investors include a sovereign fund and two state-backed semiconductor funds, the prospectus shows.",
    "Hong Kong's exchange has received more than {n} listing applications from technology companies since January, HKEX chief executive said.",
]
HK_AI_SENTENCES = [
    "Cyberport said its artificial intelligence supercomputing centre would double its computing power by {year}.",
    "The Hong Kong Science and Technology Parks Corporation opened a new incubator for machine learning start-ups in Sha Tin.",
    "Researchers at HKUST released an open-source large language model trained on Cantonese text.",
    "The Hong Kong Monetary Authority launched a sandbox for banks testing generative AI tools with customers.",
    "Legislators asked the government how the Digital Policy Office would regulate chatbots in public services.",
    "A Kowloon-based start-up said its robotics platform would be deployed in {n} elderly care homes across Hong Kong.",
    "The Hong Kong AI Research and Development Institute will fund projects on AI for health care and finance, officials said.",
]
HK_NOT_AI_SENTENCES = [
    "Rents for flats in Kowloon rose {pct} per cent in {month}, the Rating and Valuation Department said.",
    "The Hong Kong Observatory issued a number {n} typhoon signal as the storm approached the Pearl River Delta.",
    "Hong Kong's Legislative Council approved funding for a new hospital in the New Territories.",
    "Visitor arrivals in Hong Kong reached {n} million in {month}, the Tourism Board said.",
    "Property developers in Wan Chai cut prices on new flats to clear unsold stock.",
    "The MTR Corporation said the new line to Tseung Kwan O would open in {year}.",
]
AI_NOT_HK_SENTENCES = [
    "OpenAI released a new version of its chatbot that can reason over long documents, the company said.",
    "Nvidia reported record revenue from data centre GPUs as demand for AI accelerators kept rising.",
    "European regulators published guidance on how the AI Act applies to foundation models.",
    "A study by {bank} estimated that generative AI could lift productivity in software development by {pct} per cent.",
    "Researchers in California trained a neural network to predict protein structures in minutes.",
    "Anthropic and Google announced new machine learning models aimed at coding assistants.",
]
FALLBACK_SENTENCES = [
    "The council said the new budget would be published in the spring after a public consultation.",
    "Several residents told reporters that traffic on the main road had grown steadily worse.",
    "The museum will reopen next month with an exhibition of paintings from private collections.",
    "Farmers in the region have reported a poor harvest after weeks of unusually dry weather.",
    "The team won its third match in a row, thanks to a late goal from its young striker.",
    "Officials said the investigation was continuing and declined to comment further.",
    "Prices at the pump have fallen for the fifth week, according to a motoring association.",
    "The author's new novel follows three generations of a family running a seaside hotel.",
]


def load_sentences() -> list[str]:
    """Real English sentences from the shared extraction corpus (read, never copied);
    a small built-in list when the corpus is not present."""
    if not CORPUS.exists():
        return FALLBACK_SENTENCES
    bodies = [v.get("articleBody") or "" for v in json.loads(CORPUS.read_text(encoding="utf-8")).values()]
    out = []
    for body in bodies:
        for sentence in re.split(r"(?<=[.!?])\s+", body):
            sentence = " ".join(sentence.split())
            words = sentence.split()
            if 8 <= len(words) <= 60 and sentence.isascii() and sentence[:1].isupper():
                out.append(sentence)
    return out or FALLBACK_SENTENCES


def _pick_weighted(rng: random.Random, table: list[tuple[str, float]], scale: float, default: str) -> str:
    x = rng.random()
    for name, p in table:
        x -= p * scale
        if x < 0:
            return name
    return default


@dataclass
class Article:
    feed: int
    item: int
    kind: str
    topic: str
    title: str
    author: str
    section: str
    published: datetime
    paragraphs: list[str]


@dataclass
class SyntheticSite:
    """The whole site's content, derived from a seed: every page is generated on request,
    the same bytes every time, so a second run sees an unchanged site. `install` puts it
    on the loopback site (testbed/site.py), in the site's own process."""

    feeds: int
    items: int
    seed: int
    fault_scale: float
    sentences: list[str]
    base_url: str = ""
    epoch: datetime = datetime(2025, 6, 1, tzinfo=timezone.utc)

    def feed_kind(self, i: int) -> str:
        return _pick_weighted(random.Random(f"{self.seed}:feed:{i}"), FEED_FAULTS, self.fault_scale, "feed-rss")

    def article_kind(self, i: int, j: int) -> str:
        return _pick_weighted(random.Random(f"{self.seed}:article:{i}:{j}"), ARTICLE_FAULTS, self.fault_scale, "ok")

    def article_url(self, i: int, j: int) -> str:
        return f"{self.base_url}/news/f{i:04d}/a{j:03d}.html"

    def story_url(self, i: int, j: int) -> str:
        return f"{self.base_url}/story/{i:04d}-{j:03d}.html"

    def article(self, i: int, j: int) -> Article:
        rng = random.Random(f"{self.seed}:text:{i}:{j}")
        kind = self.article_kind(i, j)
        topic = _pick_weighted(rng, TOPICS, 1.0, "general")
        company, code = rng.choice(AI_COMPANIES)
        bank, bank2 = rng.sample(BANKS, 2)
        published = self.epoch + timedelta(minutes=rng.randrange(0, 60 * 24 * 180))
        slots = dict(
            company=company, code=code or f"{rng.randrange(1000, 9999)}", bank=bank, bank2=bank2,
            date=(published - timedelta(days=rng.randrange(0, 30))).strftime("%-d %B %Y"),
            price=f"{rng.uniform(5, 300):.2f}", amount=f"{rng.uniform(0.5, 20):.1f}", pct=rng.randrange(2, 90),
            n=rng.randrange(3, 400), year=rng.randrange(2019, 2027), month=published.strftime("%B"),
            adj=rng.choice(["Beijing-based", "Shanghai-based", "Shenzhen-based", "Hangzhou-based", "Hong Kong-based"]),
        )
        topical = {"hk-ai-listing": LISTING_SENTENCES, "hk-ai": HK_AI_SENTENCES + LISTING_SENTENCES[4:6],
                   "hk-not-ai": HK_NOT_AI_SENTENCES, "ai-not-hk": AI_NOT_HK_SENTENCES}.get(topic, [])
        body = [rng.choice(self.sentences) for _ in range(rng.randrange(10, 36))]
        if topical:
            chosen = rng.sample(topical, min(len(topical), rng.randrange(3, 7)))
            lead = [s.format(**slots) for s in chosen]
            # The story leads with its topic, as news does; the corpus text is the rest.
            body = lead[:2] + body[: len(body) // 2] + lead[2:] + body[len(body) // 2:]
        paragraphs, k = [], 0
        while k < len(body):
            n = rng.randrange(1, 4)
            paragraphs.append(" ".join(body[k:k + n]))
            k += n
        if topic == "hk-ai-listing":
            title = rng.choice([f"{company} files for Hong Kong IPO", f"{company} clears HKEX listing hearing",
                                f"{company} prices Hong Kong share sale", f"{company} shares jump on Hong Kong debut"])
        else:
            title = " ".join(body[0].split()[: rng.randrange(5, 11)]).rstrip(",;:.")
        return Article(i, j, kind, topic, title, rng.choice(NAMES), rng.choice(SECTIONS), published, paragraphs)

    def article_html(self, i: int, j: int) -> bytes:
        art = self.article(i, j)
        paragraphs = art.paragraphs
        if art.kind == "syndicated":
            # Another article's text under this URL, with a wire-service credit: a near duplicate.
            src = self.article((i + 1) % self.feeds, (j + 3) % self.items)
            paragraphs = src.paragraphs + ["This story was first published by a partner news agency."]
            art = Article(i, j, art.kind, src.topic, src.title, art.author, art.section, art.published, paragraphs)
        rng = random.Random(f"{self.seed}:chrome:{i}:{j}")
        canonical = self.story_url(i, j) if art.kind == "redirect" else self.article_url(i, j)
        nav = "".join(f'<li><a href="/section/{s.lower()}">{s}</a></li>' for s in SECTIONS)
        related = "".join(
            f'<li><a href="{self.article_url(rng.randrange(self.feeds), rng.randrange(self.items))}">'
            f"{escape(' '.join(rng.choice(self.sentences).split()[:8]))}</a></li>" for _ in range(6)
        )
        body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
        iso = art.published.isoformat()
        ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": art.title,
                         "datePublished": iso, "author": {"@type": "Person", "name": art.author}})
        page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(art.title)} | Harbour Daily</title>
<link rel="canonical" href="{canonical}">
<meta name="description" content="{escape(paragraphs[0][:150])}">
<meta property="og:title" content="{escape(art.title)}"><meta property="og:type" content="article">
<meta name="author" content="{escape(art.author)}"><meta property="article:published_time" content="{iso}">
<script type="application/ld+json">{ld}</script>
<script>window.dataLayer=window.dataLayer||[];function gtag(){{dataLayer.push(arguments)}}</script>
<style>body{{font-family:Georgia,serif}} .ad{{min-height:250px}}</style>
</head><body>
<div class="cookie-banner">We use cookies to improve your experience. <button>Accept all</button></div>
<header><a href="/" class="logo">Harbour Daily</a><nav><ul>{nav}</ul></nav>
<form action="/search"><input name="q" placeholder="Search"></form></header>
<div class="ad" id="ad-top">Advertisement</div>
<main><article>
<p class="kicker"><a href="/section/{art.section.lower()}">{art.section}</a></p>
<h1>{escape(art.title)}</h1>
<p class="byline">By <a href="/author/{art.author.lower().replace(' ', '-')}">{escape(art.author)}</a>
<time datetime="{iso}">{art.published.strftime('%-d %B %Y %H:%M')} HKT</time></p>
<div class="article-body">
{body}
</div>
<div class="share">Share this article: <a href="#">Facebook</a> <a href="#">X</a> <a href="#">WhatsApp</a></div>
</article>
<aside class="related"><h2>Most read</h2><ul>{related}</ul></aside>
<section class="comments"><h2>Comments</h2><p>Comments are closed for this story.</p></section>
</main>
<footer><p>&copy; {art.published.year} Harbour Daily Ltd. All rights reserved.</p>
<ul><li><a href="/about">About us</a></li><li><a href="/privacy">Privacy</a></li><li><a href="/terms">Terms</a></li></ul>
</footer></body></html>
"""
        return page.encode("utf-8")

    def feed_body(self, i: int) -> bytes:
        kind = self.feed_kind(i)
        if kind == "feed-broken":
            if i % 2:
                return b"<html><body><h1>503 Service Unavailable</h1><p>Try again later.</p></body></html>"
            return (f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
                    f"<title>Harbour Daily feed {i}</title><description>Database error &#").encode()
        entries = []
        for j in range(self.items):
            art = self.article(i, j)
            title = escape(art.title)
            if kind == "feed-sloppy" and j % 3 == 0:
                title = title.replace("&amp;", "&") + " & more"  # a bare ampersand: ill-formed XML
            when = format_datetime(art.published, usegmt=True)
            summary = escape(art.paragraphs[0][:200])
            url = self.article_url(i, j)
            if kind == "feed-atom":
                entries.append(f'<entry><title>{title}</title><link rel="alternate" href="{url}"/><id>{url}</id>'
                               f"<updated>{art.published.isoformat()}</updated><summary>{summary}</summary></entry>")
            else:
                entries.append(f"<item><title>{title}</title><link>{url}</link><guid>{url}</guid>"
                               f"<pubDate>{when}</pubDate><description>{summary}</description></item>")
        if kind == "feed-atom":
            return (f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
                    f"<title>Harbour Daily {i}</title><id>{self.base_url}/feeds/{i}</id>"
                    f"<updated>{self.epoch.isoformat()}</updated>{''.join(entries)}</feed>").encode()
        return (f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
                f"<title>Harbour Daily {i}</title><link>{self.base_url}/</link><description>News</description>"
                f"{''.join(entries)}</channel></rss>").encode()

    def expected(self) -> dict[str, Counter]:
        """What a correct ingest should find: feed kinds, and article kinds in readable feeds."""
        feeds, articles = Counter(), Counter()
        for i in range(self.feeds):
            kind = self.feed_kind(i)
            feeds[kind] += 1
            if kind in ("feed-404", "feed-500", "feed-broken"):
                continue
            for j in range(self.items):
                articles[self.article_kind(i, j)] += 1
        return {"feeds": feeds, "articles": articles}

    # -- served from the loopback site (testbed/site.py), in the site's own process --------

    def install(self, site: Site) -> None:
        """Serve this content from `site`: every path is generated when asked for."""
        self.base_url = site.base
        site.resolve = self.route

    def route(self, path: str) -> Route:
        """The response at `path`; kinds name what the site planted there."""
        if path == "/robots.txt":
            return Route(b"User-agent: *\nAllow: /\n", content_type="text/plain", kind="robots")
        m = re.fullmatch(r"/feeds/f(\d{4})\.xml", path)
        if m:
            return self.feed_route(int(m.group(1)))
        m = re.fullmatch(r"/news/f(\d{4})/a(\d{3})\.html", path) or re.fullmatch(r"/story/(\d{4})-(\d{3})\.html", path)
        if m and int(m.group(1)) < self.feeds and int(m.group(2)) < self.items:
            return self.article_route(int(m.group(1)), int(m.group(2)), redirected=path.startswith("/story/"))
        return Route(NOT_FOUND, status=404, kind="other-404")

    def feed_route(self, i: int) -> Route:
        kind = self.feed_kind(i) if i < self.feeds else "feed-404"
        if kind == "feed-404":
            return Route(NOT_FOUND, status=404, kind=kind)
        if kind == "feed-500":
            return Route(SERVER_ERROR, status=500, kind=kind)
        content_type = "application/atom+xml" if kind == "feed-atom" else "application/rss+xml; charset=utf-8"
        if kind == "feed-broken" and i % 2:
            content_type = "text/html"
        return Route(self.feed_body(i), content_type=content_type, conditional=True, kind=kind,
                     delay_s=1.0 if kind == "feed-slow" else 0.0)

    def article_route(self, i: int, j: int, redirected: bool) -> Route:
        kind = self.article_kind(i, j)
        label = "article-redirect-target" if redirected else f"article-{kind}"
        if kind == "redirect" and not redirected:
            return Route(handler=redirect(self.story_url(i, j), 301), kind=label)
        if kind == "http-404":
            return Route(PAGE_NOT_FOUND, status=404, kind=label)
        if kind == "http-500":
            return Route(PAGE_SERVER_ERROR, status=500, kind=label)
        if kind == "hang":  # no headers until after the read timeout
            return Route(self.article_html(i, j), delay_s=TIMEOUT_S + 3, kind=label)
        if kind == "trickle":
            return Route(handler=trickle(self.article_html(i, j)[:60], every_s=0.5, declare_length=False), kind=label)
        if kind == "oversized":  # declared (refused from the header) or not (the reader has to count)
            return Route(handler=endless(OVERSIZED_CHUNK, OVERSIZED_BYTES, declare_length=bool(j % 2)), kind=label)
        if kind == "not-html":
            variant = (i + j) % 3
            if variant == 0:
                return Route(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n" + b"0" * 20_000,
                             content_type="application/pdf", kind=label)
            if variant == 1:
                return Route(json.dumps({"id": j, "status": "ok"}).encode(), content_type="application/json",
                             kind=label)
            return Route(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40, content_type="image/png", kind=label)
        return Route(self.article_html(i, j), delay_s=1.5 if kind == "slow" else 0.0, kind=label)


# -- measuring the ingest ----------------------------------------------------------------

@dataclass
class RunResult:
    wall_s: float = 0.0
    exit_code: int | None = None
    timed_out: bool = False
    peak: PeakMemory | None = None  # the ingest's process tree
    stdout: str = ""
    stderr: str = ""


def run_ingest(cmd: list[str], env: dict[str, str], timeout_s: float, log_prefix: Path) -> RunResult:
    """Run the CLI, sampling the memory of its whole process tree every SAMPLE_S; kill the
    tree (its own process group) if it overruns."""
    out = RunResult()
    stdout_f = open(f"{log_prefix}.stdout", "w")
    stderr_f = open(f"{log_prefix}.stderr", "w")
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=PROJECT_DIR, env=env, stdout=stdout_f, stderr=stderr_f, start_new_session=True)
    out.peak = PeakMemory(proc.pid, SAMPLE_S)
    out.peak.start()
    try:
        out.exit_code = proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        out.timed_out = True
        _kill_group(proc)
        out.exit_code = proc.wait()
    finally:
        if proc.poll() is None:
            _kill_group(proc)
        out.peak.stop()
        out.wall_s = time.monotonic() - started
        stdout_f.close()
        stderr_f.close()
    out.stdout = Path(f"{log_prefix}.stdout").read_text(errors="replace")
    out.stderr = Path(f"{log_prefix}.stderr").read_text(errors="replace")
    return out


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGTERM the ingest's process group (ours: start_new_session), SIGKILL if it lingers."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


# -- the warehouse after a run --------------------------------------------------------------

def error_kind(error: str) -> str:
    m = re.match(r"HTTP (\d{3})", error)
    if m:
        return f"HTTP {m.group(1)}"
    lowered = error.lower()
    for needle, kind in (("timed out", "deadline (trickle)"), ("timeout", "timeout"),
                         ("too large", "oversized"), ("not html", "not HTML (skipped)"),
                         ("empty body", "empty body"), ("robots", "robots.txt"), ("refused", "refused address"),
                         ("redirect", "redirect")):
        if needle in lowered:
            return kind
    return error[:60]


def warehouse_figures(path: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        cols = [d[0] for d in con.execute("SELECT * FROM runs LIMIT 0").description]
        runs = [dict(zip(cols, r)) for r in con.execute("SELECT * FROM runs ORDER BY started_at").fetchall()]
        last = runs[-1] if runs else {}
        run_id = last.get("run_id")
        errors = Counter()
        for (error, n) in con.execute(
                "SELECT error, count(*) FROM fetches WHERE run_id = ? AND error IS NOT NULL GROUP BY error", [run_id]
        ).fetchall():
            errors[error_kind(error)] += n
        examples = dict(con.execute(
            "SELECT error, any_value(url) FROM fetches WHERE run_id = ? AND error IS NOT NULL GROUP BY error "
            "ORDER BY count(*) DESC LIMIT 8", [run_id]).fetchall())
        fetch_rows = con.execute("SELECT count(*) FROM fetches WHERE run_id = ?", [run_id]).fetchone()[0]
        stored = con.execute(
            "SELECT count(*), count(*) FILTER (is_relevant), count(*) FILTER (duplicate_of IS NOT NULL), "
            "sum(length(text)) FROM articles WHERE run_id = ?", [run_id]).fetchone()
        totals = con.execute("SELECT count(*) FROM articles").fetchone()[0]
        events = con.execute("SELECT count(*) FROM listing_events WHERE NOT known").fetchone()[0]
        states = dict(con.execute("SELECT status, count(*) FROM url_state GROUP BY status").fetchall())
    finally:
        con.close()
    return {"run": last, "errors": errors, "examples": examples, "fetch_rows": fetch_rows,
            "articles": stored[0], "relevant": stored[1], "duplicates": stored[2], "text_chars": stored[3] or 0,
            "articles_total": totals, "listing_events": events, "url_state": states}


# -- the soak run ----------------------------------------------------------------------------

def write_config(tmp: Path, site: SyntheticSite) -> Path:
    import yaml

    config = {
        "warehouse": str(tmp / "soak.duckdb"),
        "http": HTTP_CONFIG,
        "sources": [{"name": f"soak-{i:04d}", "kind": "feed", "url": f"{site.base_url}/feeds/f{i:04d}.xml"}
                    for i in range(site.feeds)],
        "alerts": {"urls": []},
        "archive_dir": str(tmp / "archive"),
    }
    path = tmp / "soak.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _dir_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20 if path.exists() else 0.0


def _table(rows: list[tuple[str, str]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k.ljust(width)}  {v}" for k, v in rows)


def report_run(label: str, res: RunResult, wh: dict | None, stats: SiteStats,
               started_wall: float) -> list[tuple[str, str]]:
    run = (wh or {}).get("run", {})
    articles = (wh or {}).get("articles", 0)
    first = stats.first_request_at
    peak_mib = res.peak.rss / 2**20
    rows = [
        ("run", label),
        ("exit code", "TIMEOUT (killed)" if res.timed_out else str(res.exit_code)),
        ("run status (runs row)", f"{run.get('status')}" + (f" — {run.get('error')}" if run.get("error") else "")),
        ("wall s", f"{res.wall_s:.1f}"),
        ("start-up s (to first HTTP request)", f"{first - started_wall:.1f}" if first else "-"),
        ("articles stored", str(articles)),
        ("articles/s (wall)", f"{articles / res.wall_s:.1f}" if res.wall_s else "-"),
        ("peak RSS MiB (process tree)", f"{peak_mib:.0f}  "
                                        f"({'OK' if peak_mib < RSS_TARGET_MIB else 'OVER'} target < {RSS_TARGET_MIB})"),
        ("  at peak", ", ".join(f"{name} {rss / 2**20:.0f}" for name, rss in res.peak.by_role())),
        ("max live processes", str(res.peak.processes)),
    ]
    if wh:
        rows += [
            ("runs counts", ", ".join(f"{k} {run.get(k)}" for k in (
                "sources", "sources_failed", "sources_unchanged", "discovered", "fetched", "fetch_failed",
                "not_html", "new_articles", "skipped_known", "relevant", "duplicates", "listing_events"))),
            ("fetches rows (this run)", str(wh["fetch_rows"])),
            ("fetch errors by kind", ", ".join(f"{k} {n}" for k, n in wh["errors"].most_common()) or "none"),
            ("relevant / duplicates stored", f"{wh['relevant']} / {wh['duplicates']}"),
        ]
    rows.append(("server requests", ", ".join(f"{k} {n}" for k, n in sorted(stats.kinds.items()))))
    rows.append(("server responses", ", ".join(f"{status} {n}" for status, n in sorted(stats.responses.items()))))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--timeout", type=float, default=1800, help="overall limit in seconds; the ingest is killed past it")
    parser.add_argument("--fault-scale", type=float, default=1.0, help="multiply every fault rate (0: a clean site)")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    if not 1 <= args.feeds <= 9999 or not 1 <= args.items <= 999:
        parser.error("--feeds must be 1..9999 and --items 1..999")

    deadline = time.monotonic() + args.timeout
    tmp = Path(tempfile.mkdtemp(prefix="hkai-soak-"))
    site = SyntheticSite(args.feeds, args.items, args.seed, args.fault_scale, load_sentences())
    expected = site.expected()
    try:
        # The site has a process of its own: its CPU and memory are not counted against the ingest.
        with SiteProcess(site.install) as server:
            site.base_url = server.base
            config = write_config(tmp, site)
            env = dict(os.environ)
            # A Prefect home of its own: no contention with other runs on the project's database.
            env["PREFECT_HOME"] = str(tmp / "prefect")
            env.pop("HKAI_CONFIG", None)
            env.pop("HKAI_WAREHOUSE", None)
            cmd = [str(HKAI), "ingest", "--config", str(config), "--warehouse", str(tmp / "soak.duckdb")]

            print(f"hkai soak: {args.feeds} feeds x {args.items} items on {site.base_url} "
                  f"(site server: separate process, pid {server.process.pid}; ingest: `{' '.join(cmd[1:2])}` subprocess)")
            print(f"  http config: {HTTP_CONFIG}; all feeds on one host, so per-host limits bind")
            print(f"  planted feeds: {dict(sorted(expected['feeds'].items()))}")
            print(f"  planted articles (in readable feeds): {dict(sorted(expected['articles'].items()))}")
            expect_stored = sum(n for k, n in expected["articles"].items() if k in STORED_KINDS)
            print(f"  expected articles stored: {expect_stored} (ok + slow + redirect + syndicated)")
            print(f"  tmp dir: {tmp}", flush=True)

            results = []
            for label in ("first run", "second run (unchanged site)"):
                remaining = deadline - time.monotonic()
                if remaining <= 5:
                    print(f"\n{label}: skipped, overall --timeout {args.timeout:.0f} s used up")
                    break
                server.stats()  # start the site's counts again
                started_wall = time.time()
                res = run_ingest(cmd, env, remaining, tmp / label.split()[0])
                stats = server.stats()
                try:
                    wh = warehouse_figures(tmp / "soak.duckdb")
                except Exception as exc:  # a killed or failed run may leave no readable file
                    print(f"  (warehouse unreadable after {label}: {type(exc).__name__}: {exc})")
                    wh = None
                results.append((label, res, wh, stats))
                print(f"\n{label}:")
                print(_table(report_run(label, res, wh, stats, started_wall)))
                summary = [line for line in res.stdout.splitlines() if line.startswith(("hkai ingest:", "sources:"))]
                for line in summary:
                    print(f"  | {line}")
                if res.exit_code != 0 or res.timed_out:
                    print("  stderr (last 15 lines):")
                    for line in res.stderr.strip().splitlines()[-15:]:
                        print(f"  ! {line}")
                    break
                if wh and label == "first run":
                    print("  most frequent fetch errors (text, example URL):")
                    for error, url in wh["examples"].items():
                        print(f"    {error[:110]!r}  {url.replace(site.base_url, '')}")
                sys.stdout.flush()

            if results:
                first = results[0]
                articles = first[2]["articles"] if first[2] else 0
                print("\nsoak summary:")
                header = ("feeds", "items", "articles stored", "expected", "wall s", "articles/s", "peak RSS MiB",
                          "run status", "2nd run wall s", "2nd run 304s")
                second = results[1] if len(results) > 1 else None
                row = (
                    str(args.feeds), str(args.items), str(articles), str(expect_stored), f"{first[1].wall_s:.1f}",
                    f"{articles / first[1].wall_s:.1f}", f"{first[1].peak.rss / 2**20:.0f}",
                    "TIMEOUT" if first[1].timed_out else str((first[2] or {}).get("run", {}).get("status")),
                    f"{second[1].wall_s:.1f}" if second else "-",
                    f"{(second[2] or {}).get('run', {}).get('sources_unchanged')}/{args.feeds}" if second and second[2] else "-",
                )
                widths = [max(len(h), len(v)) for h, v in zip(header, row)]
                print("  " + "  ".join(h.rjust(w) for h, w in zip(header, widths)))
                print("  " + "  ".join(v.rjust(w) for v, w in zip(row, widths)))
                if first[2]:
                    print("  fetch errors by kind (first run): "
                          + (", ".join(f"{k} {n}" for k, n in first[2]["errors"].most_common()) or "none"))
                    print(f"  warehouse {(tmp / 'soak.duckdb').stat().st_size / 2**20:.0f} MiB, "
                          f"WARC archive {_dir_mib(tmp / 'archive'):.0f} MiB, url_state {first[2]['url_state']}")
                if second and second[2]:
                    run2 = second[2]["run"]
                    print(f"  second run: {run2.get('sources_unchanged')} of {run2.get('sources')} sources answered 304 "
                          f"({run2.get('sources_failed')} failed: the 404/500/broken feeds have no validators), "
                          f"{run2.get('fetched')} article fetches, {second[2]['articles']} new articles")
            return 0 if results and all(r[1].exit_code == 0 for r in results) else 1
    finally:
        if args.keep:
            print(f"kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
