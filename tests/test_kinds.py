"""The kinds of source behind one interface (tasks/acquire/kinds.py): what each discovers,
whether and when it is polled, and that no source reaches a reader not its own."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest

from schemas.config import SOURCE_KINDS, SOURCE_MODELS, Schedule, parse_config
from tasks.acquire import feed, hkexnews, kinds, sitemap, warc
from tasks.acquire.kinds import Discovers, UnknownKind

SOURCES = parse_config({"sources": [
    {"name": "wire", "kind": "feed", "url": "https://news.example/rss.xml"},
    {"name": "news", "kind": "sitemap", "url": "https://news.example/news.xml"},
    {"name": "crawl", "kind": "warc", "path": "crawl.warc.gz"},
    {"name": "hkex", "kind": "hkexnews", "url": "https://www1.hkexnews.hk/ncms/json/eds/"},
]}).sources


def test_every_configured_kind_has_its_module_reading_its_configuration():
    for kind, model in zip(SOURCE_KINDS, SOURCE_MODELS):
        declared = importlib.import_module(f"tasks.acquire.{kind}").KIND
        assert (declared.name, declared.config) == (kind, model)


def test_each_source_is_read_by_its_own_kinds_reader():
    assert [kinds.kind_of(s).read for s in SOURCES] == [feed.discover_feed, sitemap.discover_sitemap,
                                                        warc.read_pages, hkexnews.poll_list_files]
    assert [s.name for s in kinds.discovering(SOURCES, Discovers.LINKS)] == ["wire", "news"]
    assert [s.name for s in kinds.discovering(SOURCES, Discovers.APPLICATIONS)] == ["hkex"]
    assert [s.name for s in kinds.discovering(SOURCES, Discovers.PAGES)] == ["crawl"]
    assert [s.name for s in kinds.polled(SOURCES)] == ["wire", "news", "hkex"]


def test_an_unknown_kind_reaches_no_reader():
    gopher = SimpleNamespace(name="burrow", kind="gopher", url="gopher://news.example/")
    with pytest.raises(UnknownKind, match="burrow.*gopher"):
        kinds.kind_of(gopher)
    with pytest.raises(UnknownKind):
        kinds.find_links(gopher, fetcher=None, state=None)
    # A configuration that names one kind but is another kind's model is not read either.
    mislabelled = SOURCES[1].model_construct(name="odd", kind="feed", url="https://news.example/news.xml")
    with pytest.raises(UnknownKind, match="odd"):
        kinds.kind_of(mislabelled)


def test_a_reader_is_never_handed_a_source_of_another_kind():
    wire, _, crawl, hkex = SOURCES
    with pytest.raises(UnknownKind, match="hkexnews source gives applications, not links"):
        kinds.find_links(hkex, fetcher=None, state=None)
    with pytest.raises(UnknownKind):
        kinds.poll_applications(wire, fetcher=None, states={})
    with pytest.raises(UnknownKind):
        kinds.read_pages(hkex, batch_size=64)
    with pytest.raises(UnknownKind):
        kinds.find_links(crawl, fetcher=None, state=None)


def test_only_the_exchange_has_a_publication_window():
    schedule = Schedule(min_interval_s=60, max_interval_s=3600)
    policies = [kinds.poll_policy(schedule, s) for s in SOURCES]
    assert [p.publication for p in policies] == [None, None, None, hkexnews.PUBLICATION]
    assert policies[0].min_interval_s == 60 and policies[0].max_interval_s == 3600
