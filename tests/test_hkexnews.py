"""The exchange's list files: names, parsing (pure), and polling through the run's Fetcher
against the loopback replica (real HTTP, conditional GETs, robots.txt). No Prefect."""

from __future__ import annotations

import json
from datetime import date

import pytest

from schemas.config import HkexnewsSource, Http
from schemas.exchange import DocumentKind, ExchangeFile, ExchangeFileState
from schemas.records import FetchOutcome
from tasks.acquire.fetch import Fetcher
from tasks.acquire.hkexnews import ListFileError, document_base, list_files, parse_list_file, poll_list_files
from tasks.listings.exchange import join_records
from testbed.hkexnews_replica import Replica

FILE = ExchangeFile(source="hkex", name="appactive_app_sehk_e.json", url="https://x/eds/appactive_app_sehk_e.json",
                    list_name="appactive_app", board="sehk", language="e")
BASE = "https://www1.hkexnews.hk/app/"


def source(url: str, boards: list[str] | None = None) -> HkexnewsSource:
    return HkexnewsSource(name="hkex", kind="hkexnews", url=url, **({"boards": boards} if boards else {}))


def test_a_source_reads_twenty_files_under_its_url():
    files = list_files(source("https://www1.hkexnews.hk/ncms/json/eds/"))
    assert len(files) == 20 and len({f.url for f in files}) == 20
    assert files[0].url == "https://www1.hkexnews.hk/ncms/json/eds/appactive_app_sehk_e.json"
    assert {f.name for f in files} == set(Replica.file_names())
    assert [f.name for f in list_files(source("https://x/eds/", ["gem"]))][:2] == [
        "appactive_app_gem_e.json", "appactive_app_gem_c.json"]
    assert document_base("https://www1.hkexnews.hk/ncms/json/eds/") == BASE


def document(records: list[dict], gen: str = "1771106410001") -> bytes:
    return json.dumps({"genDate": gen, "uDate": "13/02/2026", "app": records}, ensure_ascii=False).encode()


GOOD = {"id": 108171, "d": "13/02/2026", "a": "Quill Robotics Co., Ltd. - P", "s": "A",
        "ls": [{"d": "13/02/2026", "nF": "Application Proof (1st submission)", "nS1": "Full Version",
                "u1": "sehk/2026/108171/documents/sehk26021300123.pdf", "u2": "sehk/2026/108171/2026021300122.htm"}],
        "ps": [{"d": "02/01/2026", "nF": "OC Announcement - Appointment", "u1": "sehk/2026/108171/oc.pdf"}],
        "hasPhip": False, "postingDate": "Feb 13, 2026"}


def test_a_record_becomes_a_typed_application_record():
    (record,), generated, problems = parse_list_file(document([GOOD]), FILE, BASE)
    assert problems == [] and generated.isoformat() == "2026-02-14T22:00:10.001000+00:00"
    assert (record.hkex_id, record.name, record.status, record.updated_on, record.has_phip) == (
        108171, "Quill Robotics Co., Ltd. - P", "A", date(2026, 2, 13), False)
    proof, oc = record.documents
    assert proof.url == BASE + "sehk/2026/108171/documents/sehk26021300123.pdf"
    assert (proof.kind, proof.doc_date, proof.sub_type) == (DocumentKind.APPLICATION_PROOF, date(2026, 2, 13),
                                                            "Full Version")
    assert oc.kind == DocumentKind.OTHER


@pytest.mark.parametrize("label, kind", [
    ("Application Proof (2nd submission)", DocumentKind.APPLICATION_PROOF),
    ("Post Hearing Information Pack (1st submission)", DocumentKind.PHIP),
    ("申請版本（第一次呈交）", DocumentKind.APPLICATION_PROOF),
    ("聆訊後資料集（第一次呈交）", DocumentKind.PHIP),
    ("整體協調人公告－委任", DocumentKind.OTHER),
])
def test_document_types_in_both_languages(label, kind):
    record = {**GOOD, "ls": [{"d": "13/02/2026", "nF": label, "u1": "x.pdf"}], "ps": []}
    (parsed,), _, _ = parse_list_file(document([record]), FILE, BASE)
    assert parsed.documents[0].kind == kind


@pytest.mark.parametrize("body, message", [
    (b"", "empty file"),
    (b"   \n", "empty file"),
    (document([GOOD])[:60], "not valid JSON (truncated?)"),
    ("{\"app\": [{\"a\": \"羽毛".encode()[:-1], "not valid JSON (truncated?)"),
    (b"[]", "unexpected shape: no 'app' list (list)"),
    (b'{"genDate": "1", "applications": []}', "unexpected shape: no 'app' list (keys ['applications', 'genDate'])"),
    (b'{"app": {"id": 1}}', "unexpected shape: no 'app' list"),
    (b'{"app": [], "x": "\xff\xfe"}', "not UTF-8"),
])
def test_unusable_files_say_why_in_one_line(body, message):
    with pytest.raises(ListFileError) as info:
        parse_list_file(body, FILE, BASE)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_faulty_records_are_skipped_and_unknown_statuses_kept():
    records = [GOOD, {**GOOD, "id": 2, "a": ""}, {**GOOD, "id": 3, "s": None}, {**GOOD, "id": "x"}, "oops",
               {**GOOD, "id": 5, "s": "LT"}, {**GOOD, "id": "6", "s": "ZZ"},
               {**GOOD, "id": 7, "s": "LT", "st": "02513"}]
    parsed, _, problems = parse_list_file(document(records), FILE, BASE)
    assert [r.hkex_id for r in parsed] == [108171, 6, 7]
    assert parsed[2].stock_code == "02513"
    assert problems == [
        "appactive_app_sehk_e.json record 1: id 2: missing 'a' (applicant name): skipped",
        "appactive_app_sehk_e.json record 2: id 3: missing 's' (status): skipped",
        "appactive_app_sehk_e.json record 3: missing or non-numeric 'id': skipped",
        "appactive_app_sehk_e.json record 4: not an object but str: skipped",
        "appactive_app_sehk_e.json record 5: id 5: listed but no 'st' (stock code): skipped",
        "appactive_app_sehk_e.json id 6: unknown status code 'ZZ': kept, no stage derived",
    ]


def test_problems_are_capped_and_counted():
    _, _, problems = parse_list_file(document([{"id": n} for n in range(50)]), FILE, BASE)
    assert len(problems) == 21 and problems[-1] == "appactive_app_sehk_e.json: 50 records skipped in all"


@pytest.fixture
def fetcher():
    with Fetcher(Http(timeout_s=3, per_host_delay_s=0, per_host_concurrency=8)) as f:
        yield f


def states_after(results) -> dict[str, ExchangeFileState]:
    return {r.file.name: r.state.model_copy(update={"read_at": r.generated_at}) for r in results if r.state}


def test_polls_are_conditional_and_broken_files_do_not_stop_the_others(site, fetcher):
    replica = Replica(site)
    replica.file(501, "Quill Robotics Co., Ltd.", "羽毛機器人有限公司")
    replica.file(502, "Lumen Compute Inc.", "流明算力有限公司")
    replica.list(502, "02513")
    replica.break_file("appinactive_gem_e.json", "missing")
    replica.break_file("appreturned_gem_e.json", "server_error")
    replica.break_file("applisted_gem_c.json", "truncated")
    replica.publish()
    first = poll_list_files(source(replica.url), fetcher, {})
    by_name = {r.file.name: r for r in first}
    assert len(first) == 20 and all(r.first_read for r in first)
    assert by_name["appinactive_gem_e.json"].fetch.outcome == FetchOutcome.GONE
    assert by_name["appinactive_gem_e.json"].error == "appinactive_gem_e.json: HTTP 404 Not Found"
    assert by_name["appreturned_gem_e.json"].fetch.outcome == FetchOutcome.HTTP_ERROR
    assert by_name["applisted_gem_c.json"].fetch.outcome == FetchOutcome.MALFORMED
    assert by_name["applisted_gem_c.json"].state is None  # its validators are not kept
    assert sum(1 for r in first if r.state) == 17
    assert [r.hkex_id for r in by_name["appactive_app_sehk_e.json"].records] == [501]
    assert by_name["applisted_sehk_c.json"].records[0].name == "流明算力有限公司"

    site.reset_hits()
    second = poll_list_files(source(replica.url), fetcher, states_after(first))
    assert sum(1 for r in second if r.unchanged) == 17 and not any(r.first_read for r in second if r.unchanged)
    conditional = [h for path, h in site.requests if path.endswith(".json") and "If-None-Match" in h]
    assert len(conditional) == 17
    # The broken files are asked for whole again, and once repaired read for the first time.
    for name in list(replica.broken):
        replica.fix_file(name)
    replica.publish(date(2026, 2, 3))
    third = poll_list_files(source(replica.url), fetcher, states_after(first))
    assert {r.file.name for r in third if r.first_read} == {"appinactive_gem_e.json", "appreturned_gem_e.json",
                                                            "applisted_gem_c.json"}
    assert not any(r.error for r in third)


def test_robots_txt_is_honoured(site, fetcher):
    site.add("/robots.txt", "User-agent: *\nDisallow: /ncms/\n", content_type="text/plain")
    replica = Replica(site)
    replica.publish()
    results = poll_list_files(source(replica.url, ["sehk"]), fetcher, {})
    assert len(results) == 10
    assert {r.fetch.outcome for r in results} == {FetchOutcome.ROBOTS_DISALLOWED}
    assert all(r.error.endswith("disallowed by robots.txt") for r in results)
    assert not [p for p, _ in site.requests if p.endswith(".json")]


def test_records_in_both_languages_join_by_id(site, fetcher):
    replica = Replica(site)
    replica.file(601, "Quanta Mind Intelligent Technology Co., Ltd. - P", "上海量子心智能科技股份有限公司－Ｐ")
    replica.phip(601)
    replica.file(602, "Gem Robotics Co., Ltd.", "寶石機器人有限公司", board="gem")
    replica.publish()
    results = poll_list_files(source(replica.url), fetcher, {})
    gem, quanta = join_records(results)  # by board, then id
    assert (quanta.hkex_id, quanta.board, quanta.name_en, quanta.name_zh) == (
        601, "sehk", "Quanta Mind Intelligent Technology Co., Ltd. - P", "上海量子心智能科技股份有限公司－Ｐ")
    assert quanta.has_phip and quanta.lists == ["appactive_appphip"] and quanta.baseline
    assert {d.language for d in quanta.documents} == {"e", "c"} and len(quanta.documents) == 4
    assert (gem.board, gem.lists) == ("gem", ["appactive_app", "appactive_appphip"])
    # Files read before make their applications news, not baseline.
    later = [r.model_copy(update={"first_read": not r.file.name.startswith("appactive_appphip")}) for r in results]
    assert not join_records(later)[1].baseline


def test_a_record_further_along_wins_when_lists_disagree(site, fetcher):
    replica = Replica(site)
    replica.file(701, "Lumen Compute Inc.", "流明算力有限公司")
    replica.publish()
    active = poll_list_files(source(replica.url, ["sehk"]), fetcher, {})
    replica.list(701, "02513")
    replica.publish(date(2026, 2, 5))
    listed = [r for r in poll_list_files(source(replica.url, ["sehk"]), fetcher, {}) if r.file.list_name == "applisted"]
    (app,) = join_records([r for r in active if r.file.list_name.startswith("appactive")] + listed)
    assert (app.status, app.stock_code, app.seen_on) == ("LT", "02513", date(2026, 2, 5))
    # A record in the listed list that still says "A" has listed all the same.
    stale_status = [r.model_copy(update={"records": [rec.model_copy(update={"status": "A"}) for rec in r.records]})
                    for r in listed]
    assert join_records(stale_status)[0].status == "LT"
