"""The exchange's record and the news, as a person following Hong Kong AI IPOs meets them:
does every stage change of a watched company alert within one poll, once, and nothing else?

A loopback replica of the exchange's twenty list files (testbed/hkexnews_replica.py) at about
the real scale (some 1,100 applications, a quarter of them AI by name), a news feed on the
same site, a webhook receiver, and the real `hkai ingest` four times against one warehouse:

1. baseline: everything listed is known;
2. a day of changes: watched (AI) companies file, post PHIPs, list, lapse, are withdrawn,
   rejected, returned, file again under a new id; unwatched companies file, post PHIPs,
   list, lapse; the news reports some of the same stages after the exchange, a pricing
   (which only the news has), and a filing the exchange does not show yet;
3. the exchange shows that filing; other outlets report the day's stages again;
4. nothing changed: twenty conditional GETs;
5. the same unchanged run without the exchange source, for the exchange's share of 4.

    .venv/bin/python -m bench.exchange
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import yaml

from flows.server import local_server
from testbed.hkexnews_replica import Replica
from testbed.receiver import Receiver
from testbed.site import Site

PROJECT = Path(__file__).resolve().parents[1]
HKAI = [sys.executable, "-m", "flows.cli"]
DAYS = [date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)]
TARGET_POLL_S = 1.0
SEED = 11

# Company names are coined from three syllables (1,728 of them), so no two share a word
# the news could confuse; the news calls a company "<Name> Technologies".
SYLLABLES = (["Zan", "Kor", "Vel", "Tam", "Ris", "Qua", "Mor", "Lex", "Dav", "Sor", "Nex", "Pol"],
             ["tor", "vi", "la", "men", "dra", "qui", "ne", "ro", "sa", "ki", "lu", "ga"],
             ["ix", "on", "ar", "us", "ia", "ent", "is", "ora", "eon", "ai", "ex", "um"])
SYLLABLES_ZH = ("星玄鈷燼峽螺靛鳶雲瑪棱晶", "北藍光銀迅峰港岩河原冠橋", "林點門爐潮帆柳風石玉明子")
AI_KINDS = [("Robotics Co., Ltd.", "機器人有限公司"), ("Intelligent Technology Co., Ltd.", "智能科技股份有限公司"),
            ("Semiconductor Co., Ltd.", "半導體有限公司"), ("AI Limited", "人工智能有限公司"),
            ("Autonomous Driving Inc.", "自動駕駛有限公司"), ("Lidar Technology Co., Ltd.", "激光雷達科技有限公司")]
OTHER_KINDS = [("Catering Holdings Limited", "餐飲控股有限公司"), ("Property Development Co., Ltd.", "地產發展有限公司"),
               ("Logistics Group Limited", "物流集團有限公司"), ("Apparel Holdings Limited", "服飾控股有限公司"),
               ("Tea House Holdings Limited", "茶館控股有限公司"), ("Dairy Co., Ltd.", "乳業有限公司")]
# Applications per board and list, at about the real lists' size.
SIZES = {"sehk": {"A": 280, "PHIP": 40, "LT": 150, "LP": 300, "W": 150, "RJ": 20, "RT": 40},
         "gem": {"A": 15, "PHIP": 3, "LT": 10, "LP": 30, "W": 25, "RJ": 3, "RT": 5}}


@dataclass
class Company:
    hkex_id: int
    short: str  # what the news calls it
    name_en: str
    name_zh: str
    ai: bool


@dataclass
class Scenario:
    replica: Replica
    site: Site
    companies: dict[int, Company] = field(default_factory=dict)
    expected: list[set[tuple[str, str]]] = field(default_factory=lambda: [set(), set(), set()])  # per poll
    unwatched: set[str] = field(default_factory=set)  # names of changed companies that are not AI
    next_id: int = 100_000
    stories: list[tuple[str, str, list[str], date]] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))
    phips: list[Company] = field(default_factory=list)  # day two's hearings, for day three's news
    listed: list[Company] = field(default_factory=list)

    def company(self, ai: bool) -> Company:
        """A new company with a name of its own."""
        while True:
            picks = [self.rng.randrange(12) for _ in range(3)]
            coined = "".join(SYLLABLES[n][k] for n, k in enumerate(picks))
            if coined not in self.names:
                break
        self.names.add(coined)
        kind_en, kind_zh = self.rng.choice(AI_KINDS if ai else OTHER_KINDS)
        self.next_id += 1
        chinese = "".join(SYLLABLES_ZH[n][k] for n, k in enumerate(picks))
        company = Company(self.next_id, f"{coined} Technologies", f"{coined} {kind_en}", f"{chinese}{kind_zh}", ai)
        self.companies[company.hkex_id] = company
        return company

    def file(self, company: Company, board: str, day: date) -> None:
        self.replica.file(company.hkex_id, company.name_en, company.name_zh, board=board, day=day)

    def story(self, slug: str, title: str, paragraphs: list[str], day: date) -> None:
        self.stories.append((slug, title, paragraphs, day))
        self.site.add_article(f"/news/{slug}.html", title, paragraphs, published=f"{day.isoformat()}T11:00:00+08:00")
        self.site.add_feed("/feed.xml", [(t, f"/news/{s}.html") for s, t, _, _ in self.stories])


def build_baseline(s: Scenario) -> dict[str, list[Company]]:
    """Every list filled; returns the companies each later change is made to, by kind."""
    pools: dict[str, list[Company]] = {}
    old = date(2025, 6, 2)
    for board, sizes in SIZES.items():
        for status, count in sizes.items():
            for _ in range(count):
                company = s.company(s.rng.random() < 0.25)
                s.file(company, board, old)
                if status == "PHIP":
                    s.replica.phip(company.hkex_id, date(2025, 12, 1))
                elif status == "LT":
                    s.replica.phip(company.hkex_id, date(2025, 9, 1))
                    s.replica.list(company.hkex_id, f"{company.hkex_id % 100000:05d}")
                elif status != "A":
                    s.replica.close(company.hkex_id, status)
                if board == "sehk":
                    key = f"{status}:{'ai' if company.ai else 'other'}"
                    pools.setdefault(key, []).append(company)
    s.replica.publish(DAYS[0])
    return pools


def hearing_story(c: Company) -> list[str]:
    return [f"{c.short} has passed its listing hearing at the Hong Kong Stock Exchange, according to a post-hearing "
            "information pack published on the bourse's website.",
            "The company develops artificial intelligence systems and the chips that run them.",
            "Its bankers expect to open the books to investors in Hong Kong next week."]


def debut_story(c: Company, code: str) -> list[str]:
    return [f"{c.short} made its trading debut in Hong Kong on Tuesday under the stock code {int(code)}.",
            "Shares of the artificial intelligence company rose 35 per cent in the morning session.",
            "The listing adds to a run of AI floats on the city's exchange this year."]


def filing_story(c: Company) -> list[str]:
    return [f"{c.short}, a Shenzhen maker of humanoid robots, filed a listing application with the Hong Kong "
            "Stock Exchange on Tuesday.",
            "The company sells AI-powered robots to factories and warehouses in the Greater Bay Area.",
            "It plans to list under Chapter 18C, the rules for specialist technology firms."]


def pricing_story(c: Company) -> list[str]:
    return [f"{c.short} priced its Hong Kong IPO at HK$21 per share, raising HK$900 million, according to a "
            "filing with the exchange.",
            "The artificial intelligence company will begin trading in Hong Kong next week.",
            "Cornerstone investors took about half of the offering."]


def day_two(s: Scenario, pools: dict[str, list[Company]]) -> Company:
    """The day's changes; returns the company whose filing the news shows first."""
    day, expect = DAYS[1], s.expected[1]

    def take(key: str) -> Company:
        return pools[key].pop()  # each company changes once
    for _ in range(4):
        c = s.company(True)
        s.file(c, "sehk", day)
        expect.add((c.name_en, "filing"))
    phips = [take("A:ai") for _ in range(3)]
    for c in phips:
        s.replica.phip(c.hkex_id, day)
        expect.add((c.name_en, "hearing"))
    listed = [take("PHIP:ai") for _ in range(2)]
    for c in listed:
        s.replica.list(c.hkex_id, f"{c.hkex_id % 100000:05d}")
        expect.add((c.name_en, "debut"))
    for status, stage in (("LP", "lapsed"), ("W", "withdrawn"), ("RJ", "rejected"), ("RT", "returned")):
        c = take("A:ai")
        s.replica.close(c.hkex_id, status)
        expect.add((c.name_en, stage))
    lapsed = take("LP:ai")
    s.next_id += 1
    s.replica.refile(lapsed.hkex_id, s.next_id, day)
    s.companies[s.next_id] = Company(s.next_id, lapsed.short, lapsed.name_en, lapsed.name_zh, True)
    expect.add((lapsed.name_en, "filing"))
    for _ in range(3):
        c = s.company(False)
        s.file(c, "sehk", day)
        s.unwatched.add(c.name_en)
    for key, change in (("A:other", "phip"), ("A:other", "phip"), ("PHIP:other", "list"), ("A:other", "LP")):
        c = take(key)
        s.unwatched.add(c.name_en)
        if change == "phip":
            s.replica.phip(c.hkex_id, day)
        elif change == "list":
            s.replica.list(c.hkex_id, f"{c.hkex_id % 100000:05d}")
        else:
            s.replica.close(c.hkex_id, change)
    s.replica.publish(day)
    # The news: two PHIPs and a debut after the exchange, a pricing, a filing first.
    for n, c in enumerate(phips[:2]):
        s.story(f"hearing-{n}", f"{c.short} clears Hong Kong listing hearing", hearing_story(c), day)
    code = f"{listed[0].hkex_id % 100000:05d}"
    s.story("debut-0", f"{listed[0].short} soars in Hong Kong debut", debut_story(listed[0], code), day)
    s.story("pricing-0", f"{phips[2].short} prices Hong Kong IPO", pricing_story(phips[2]), day)
    expect.add((phips[2].name_en, "pricing"))
    first = s.company(True)
    s.story("filing-first", f"{first.short} files for Hong Kong IPO", filing_story(first), day)
    expect.add((first.short, "filing"))
    s.phips, s.listed = phips, listed
    return first


def day_three(s: Scenario, first: Company) -> None:
    day = DAYS[2]
    s.file(first, "sehk", day)
    for n, c in enumerate(s.phips[:2]):
        s.story(f"hearing-again-{n}", f"AI developer {c.short} wins listing approval",
                hearing_story(c)[:1] + ["Analysts said demand for AI listings in Hong Kong remained strong."], day)
    s.story("debut-again-0", f"{s.listed[0].short} shares jump on first day",
            debut_story(s.listed[0], f"{s.listed[0].hkex_id % 100000:05d}"), day)
    s.replica.publish(day)


def alerted(received: list[dict]) -> list[tuple[str, str]]:
    """(name as titled, stage) of each alert."""
    found = []
    for alert in received:
        match = re.match(r"HKEX listing: (.*?)(?: \(.*\))? \u2014 (\w+)$", alert["json"]["title"])
        found.append((match.group(1), match.group(2)) if match else (alert["json"]["title"], "?"))
    return found


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="hkai-bench-exchange-") as tmp, \
            local_server({"PREFECT_HOME": str(Path(tmp) / "prefect")}) as api:
        tmp = Path(tmp)
        site, receiver = Site().start(), Receiver()
        try:
            return run(site, receiver, tmp, api)
        finally:
            receiver.close()
            site.stop()


def run(site: Site, receiver: Receiver, tmp: Path, api: str) -> int:
    scenario = Scenario(Replica(site), site)
    pools = build_baseline(scenario)
    site.add_feed("/feed.xml", [])
    warehouse = tmp / "hkai.duckdb"
    news = {"name": "news", "kind": "feed", "url": site.base + "/feed.xml"}
    exchange = {"name": "hkex", "kind": "hkexnews", "url": scenario.replica.url}
    configs = {}
    for name, sources in (("hkai.yaml", [exchange, news]), ("news-only.yaml", [news])):
        configs[name] = tmp / name
        configs[name].write_text(yaml.safe_dump({
            "warehouse": str(warehouse), "http": {"timeout_s": 5, "per_host_delay_s": 0, "per_host_concurrency": 8},
            "sources": sources, "alerts": {"urls": [receiver.url()]}}), encoding="utf-8")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("HKAI_", "PREFECT_"))},
           "PREFECT_API_URL": api, "PREFECT_HOME": str(tmp / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}

    polls = []

    def poll(name: str, config: str = "hkai.yaml") -> None:
        site.reset_hits()
        before = len(receiver.received)
        result = subprocess.run([*HKAI, "ingest", "--config", str(configs[config])], cwd=PROJECT, env=env,
                                capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            raise SystemExit(f"hkai ingest failed in poll {name}: {result.stderr[-2000:]}")
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            seconds = con.execute("SELECT epoch(finished_at - started_at) FROM runs ORDER BY started_at DESC"
                                  " LIMIT 1").fetchone()[0]
        finally:
            con.close()
        requests = [(p, h) for p, h in site.requests if p.endswith(".json")]
        polls.append({"name": name, "alerts": alerted(receiver.received[before:]), "seconds": seconds,
                      "requests": len(requests), "conditional": sum(1 for _, h in requests if "If-None-Match" in h)})
        print(f"  poll {name}: {len(polls[-1]['alerts'])} alerts, flow {seconds:.2f} s", file=sys.stderr, flush=True)

    print(f"bench.exchange: {len(scenario.companies)} applications in the replica", file=sys.stderr)
    poll("1 baseline")
    first = day_two(scenario, pools)
    poll("2 changes")
    day_three(scenario, first)
    poll("3 confirmations")
    poll("4 unchanged")
    poll("5 unchanged, news source only", "news-only.yaml")  # what the same run costs without the exchange
    return report(scenario, polls, warehouse)


def _matches(alert: tuple[str, str], expected: tuple[str, str]) -> bool:
    return alert[1] == expected[1] and alert[0] == expected[0]


def report(s: Scenario, polls: list[dict], warehouse: Path) -> int:
    expected = s.expected[1]
    second = polls[1]["alerts"]
    hit = {e for e in expected if any(_matches(a, e) for a in second)}
    every = [a for p in polls for a in p["alerts"]]
    duplicates = sum(n - 1 for n in Counter(every).values() if n > 1)
    unwatched = sum(1 for name, _ in every if name in s.unwatched)
    unexpected = [a for a in second if not any(_matches(a, e) for e in expected)]
    others = unexpected + polls[2]["alerts"] + polls[3]["alerts"]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        confirmed = con.execute("SELECT count(*) FROM listing_events WHERE origin = 'news' AND confirmed_at IS NOT NULL"
                                " AND issuer_id IS NOT NULL").fetchone()[0]
        issuers = con.execute("SELECT count(*) FROM issuers").fetchone()[0]
    finally:
        con.close()
    last = polls[3]
    rows = [
        ("stage changes of watched issuers alerted within one poll", f"{len(hit)}/{len(expected)}",
         f"{len(expected)}/{len(expected)}", len(hit) == len(expected)),
        ("alerts for unwatched issuers", str(unwatched), "0", unwatched == 0),
        ("alerts from the baseline poll (already known)", str(len(polls[0]["alerts"])), "0", not polls[0]["alerts"]),
        ("alerts for anything else (not a change)", str(len(others)), "0", not others),
        ("duplicate alerts (news and exchange report a stage)", str(duplicates), "0", duplicates == 0),
        ("unchanged poll: conditional GETs of the 20 files", f"{last['conditional']}/{last['requests']}", "20/20",
         last["conditional"] == last["requests"] == 20),
        ("unchanged poll: flow time (runs table)", f"{last['seconds']:.2f} s", f"< {TARGET_POLL_S:g} s",
         last["seconds"] < TARGET_POLL_S),
    ]
    share = last["seconds"] - polls[4]["seconds"]
    print(f"\nhkai and the exchange's record: {issuers} issuers, {len(s.stories)} news stories, "
          f"{confirmed} news-first stages confirmed by the exchange")
    print(f"{'figure':<56} {'hkai':>10} {'target':>10}  verdict")
    for name, figure, target, ok in rows:
        print(f"{name:<56} {figure:>10} {target:>10}  {'meets' if ok else 'MISSES'}")
    for p in polls:
        print(f"  poll {p['name']}: {len(p['alerts'])} alerts, {p['requests']} list-file requests "
              f"({p['conditional']} conditional), flow {p['seconds']:.2f} s")
    print(f"  the exchange's share of the unchanged poll: {share:.2f} s (poll 4 minus poll 5; the rest is every"
          f" run's own cost: opening the warehouse, alerts, summary)")
    if unexpected or len(hit) < len(expected):
        print(f"  missed: {sorted(expected - hit)}; unexpected: {unexpected}")
    return 0  # like bench.harness: the verdicts are in the table; a failed run exits non-zero above


if __name__ == "__main__":
    raise SystemExit(main())
