"""The loopback site itself (testbed/site.py), which the tests and the benchmarks share:
validators and 304s, counts, generated routes, and a site in a process of its own."""

from __future__ import annotations

import os

import httpx

from testbed.site import LAST_MODIFIED, Route, Site, SiteProcess, webhook


def get(url: str, **headers: str) -> httpx.Response:
    return httpx.get(url, headers=headers, timeout=10, trust_env=False)


def test_a_conditional_route_answers_304_to_its_validators_if_none_match_first(site):
    site.add("/feed.xml", b"<rss/>", content_type="application/rss+xml", conditional=True)
    first = get(site.base + "/feed.xml")
    etag = first.headers["ETag"]
    assert first.status_code == 200 and first.headers["Last-Modified"] == LAST_MODIFIED
    assert get(site.base + "/feed.xml", **{"If-None-Match": etag}).status_code == 304
    assert get(site.base + "/feed.xml", **{"If-Modified-Since": LAST_MODIFIED}).status_code == 304
    # RFC 9110: If-None-Match, when sent, decides alone.
    stale = get(site.base + "/feed.xml", **{"If-None-Match": '"other"', "If-Modified-Since": LAST_MODIFIED})
    assert stale.status_code == 200 and stale.content == b"<rss/>"


def test_responses_kinds_and_hits_are_counted_until_reset(site):
    site.add("/a", b"a", kind="article")
    for path in ("/a", "/a", "/missing"):
        get(site.base + path)
    stats = site.stats()
    assert stats.responses == {200: 2, 404: 1} and stats.kinds == {"article": 2}
    assert site.hits == {"/a": 2, "/missing": 1} and stats.first_request_at <= stats.last_request_at
    site.reset_hits()
    assert site.stats().responses == {} and site.hits == {} and site.requests == []


def test_a_webhook_route_records_each_json_body_posted_to_it(site):
    received: list[dict] = []
    site.add("/hook", handler=webhook(received))
    answer = httpx.post(site.base + "/hook", json={"title": "MiniMax: debut"}, timeout=10, trust_env=False)
    assert answer.status_code == 200 and received == [{"title": "MiniMax: debut"}]
    assert httpx.post(site.base + "/elsewhere", json={}, timeout=10, trust_env=False).status_code == 404


def test_routes_may_share_one_body_and_paths_may_be_generated():
    shared = Route(b"<p>one body</p>", conditional=True)
    with Site(resolve=lambda path: Route(path.encode()) if path.startswith("/gen/") else None,
              keep_requests=False) as site:
        site.routes["/a"] = site.routes["/b"] = shared
        assert get(site.base + "/a").headers["ETag"] == get(site.base + "/b").headers["ETag"]
        assert get(site.base + "/gen/7?x=1").content == b"/gen/7"
        assert get(site.base + "/other").status_code == 404
        assert site.requests == []


def serve_pid(site: Site) -> None:
    """Runs in the site's process: a page that names that process."""
    site.add("/pid", str(os.getpid()), kind="pid")


def test_a_site_process_serves_from_its_own_process_and_reports_its_counts():
    with SiteProcess(serve_pid) as remote:
        answer = get(remote.base + "/pid")
        assert answer.status_code == 200 and int(answer.text) != os.getpid()
        stats = remote.stats()
        assert stats.responses == {200: 1} and stats.kinds == {"pid": 1} and stats.first_request_at
        assert remote.stats().responses == {}  # each call starts the count again
        pid = remote.process.pid
    assert not remote.process.is_alive() and pid
