"""Configuration: the contract's YAML, validated; every problem is one line naming file and key;
the defaults hkai gives Prefect."""

from __future__ import annotations

import os

import pytest

from schemas.config import ConfigError, config_for, config_in_use, load_config, parse_config
from tests.conftest import PROJECT


def check_error(tmp_path, text: str) -> str:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path))
    return message


def test_contract_example_is_valid():
    config = parse_config({
        "warehouse": "warehouse/hkai.duckdb",
        "schedule": {"interval_minutes": 15, "min_interval_s": 60, "max_interval_s": 3600},
        "http": {"timeout_s": 20, "max_bytes": 10000000, "concurrency": 16, "per_host_concurrency": 2,
                 "per_host_delay_s": 1.0, "user_agent": "x"},
        "sources": [{"name": "harbour-rss", "kind": "feed", "url": "https://example.org/rss.xml", "poll_every_s": 120},
                    {"name": "news-sitemap", "kind": "sitemap", "url": "https://example.org/news.xml"},
                    {"name": "archive", "kind": "warc", "path": "archives/cc-news-sample.warc.gz"}],
        "alerts": {"urls": ["json://127.0.0.1:8999/hook"]},
    })
    assert [s.kind for s in config.sources] == ["feed", "sitemap", "warc"]
    assert [s.poll_every_s for s in config.sources] == [120, None, None]
    assert (config.schedule.min_interval_s, config.schedule.max_interval_s) == (60, 3600)


def test_default_config_lists_real_sources():
    config = load_config(PROJECT / "hkai.yaml")
    kinds = {s.kind for s in config.sources}
    urls = " ".join(s.url for s in config.sources if s.kind != "warc")
    assert kinds == {"feed", "sitemap", "hkexnews"}
    (hkex,) = [s for s in config.sources if s.kind == "hkexnews"]
    assert hkex.url == "https://www1.hkexnews.hk/ncms/json/eds/" and hkex.boards == ["sehk", "gem"]
    assert config.listings.watch == "ai"
    assert "hkex.com.hk" in urls and "news.google.com/rss/search" in urls and "rthk.hk" in urls
    # Chinese-language outlets and news searches, in both scripts.
    assert "rthk.hk/rthk/news/rss/c_expressnews_cfinance.xml" in urls and "news.mingpao.com" in urls
    assert "36kr.com" in urls and "chinanews.com.cn" in urls
    assert "ceid=HK:zh-Hant" in urls and "ceid=CN:zh-Hans" in urls


@pytest.mark.parametrize("text, expected", [
    ("sources: [{name: a, kind: feed, url: 'http://x', colour: red}]", "sources[0](a).colour: unknown key"),
    ("sources: [{name: a, kind: feed}]", "sources[0](a).url: required key is missing"),
    ("sources: [{name: a, kind: ftp, url: 'x'}]", "sources[0](a): unknown kind 'ftp' (expected feed, sitemap, warc or hkexnews)"),
    ("sources: [{name: hk, kind: hkexnews}]", "sources[0](hk).url: required key is missing"),
    ("sources: [{name: hk, kind: hkexnews, url: 'ftp://x/'}]", "sources[0](hk).url: expected an http(s) URL"),
    ("sources: [{name: hk, kind: hkexnews, url: 'https://x/', boards: [sehk, nyse]}]",
     "sources[0](hk).boards[1]: Input should be 'sehk' or 'gem'"),
    ("sources: [{name: hk, kind: hkexnews, url: 'https://x/', board: gem}]", "sources[0](hk).board: unknown key"),
    ("listings: {watch: some}", "listings.watch: expected ai, all or a non-empty list of company names"),
    ("listings: {watch: []}", "listings.watch: expected ai, all or a non-empty list of company names"),
    ("listings: {wach: ai}", "listings.wach: unknown key"),
    ("sources: [{name: a, kind: warc}]", "sources[0](a).path: required key is missing"),
    ("http: {timeout_s: -1}", "http.timeout_s: Input should be greater than 0"),
    ("wherehouse: x.duckdb", "wherehouse: unknown key"),
    ("schedule: {min_interval_s: 600, max_interval_s: 60}", "schedule: min_interval_s (600) is above max_interval_s (60)"),
    ("sources: [{name: a, kind: feed, url: 'http://x', poll_every_s: 0}]",
     "sources[0](a).poll_every_s: Input should be greater than 0"),
    ("sources: [{name: a, kind: feed, url: 'http://x'}, {name: a, kind: feed, url: 'http://y'}]",
     "sources: duplicate source name 'a'"),
    ("sources: [{name: a, kind: feed, url: 'http://x'}\n", "invalid YAML"),
    ("- just\n- a list\n", "(top level): expected a mapping"),
])
def test_each_problem_names_the_key(tmp_path, text, expected):
    assert expected in check_error(tmp_path, text)


def test_exchange_source_and_watch_settings():
    config = parse_config({"sources": [{"name": "hkex", "kind": "hkexnews", "url": "https://www1.hkexnews.hk/ncms/json/eds",
                                        "boards": ["gem", "gem"]}],
                           "listings": {"watch": [" Zhipu AI ", "MiniMax"]}})
    (source,) = config.sources
    assert source.url.endswith("/eds/") and source.boards == ["gem"]
    assert config.listings.watch == ["Zhipu AI", "MiniMax"]
    assert parse_config({"listings": {"watch": "all"}}).listings.watch == "all"


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml")


def test_alert_urls_take_secrets_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "c.yaml"
    path.write_text("alerts: {urls: ['json://127.0.0.1:1/${HOOK_TOKEN}']}")
    monkeypatch.setenv("HOOK_TOKEN", "s3cret")
    assert load_config(path).alerts.urls == ["json://127.0.0.1:1/s3cret"]
    monkeypatch.delenv("HOOK_TOKEN")
    message = check_error(tmp_path, path.read_text())
    assert "alerts.urls: environment variable HOOK_TOKEN is not set" in message


def test_the_ephemeral_prefect_api_gets_time_to_migrate_a_fresh_database_unless_the_user_says(monkeypatch):
    from flows.cli import _prefect_environment
    from flows.server import START_TIMEOUT_S

    setting = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
    for given, expected in ((None, str(START_TIMEOUT_S)), ("45", "45")):
        environment = {k: v for k, v in os.environ.items() if k != setting}  # this worker's stays as it is
        if given:
            environment[setting] = given
        monkeypatch.setattr(os, "environ", environment)
        _prefect_environment()
        assert environment[setting] == expected


def test_a_commands_flows_take_the_configuration_it_read_instead_of_reading_it_again(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("relevance: {threshold: 0.7}\n")
    read = load_config(path)
    with config_in_use(str(path), read):
        path.write_text("relevance: {threshold: 0.2}\n")  # not read again while the command runs
        assert config_for(str(path)) is read
        assert config_for(None) is not read  # another file is read as it is
    assert config_for(str(path)).relevance.threshold == 0.2  # a deployment's run reads its file
