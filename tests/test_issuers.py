"""The issuers' tables on a real DuckDB file: migration 010 upgrading a warehouse with
rows, issuers and documents round-tripping, the list files' state."""

from __future__ import annotations

from datetime import date, datetime, timezone

import duckdb

from schemas.exchange import DocumentKind, ExchangeApplication, ExchangeDocument, ExchangeFile, ExchangeFileResult, \
    ExchangeFileState, Issuer
from schemas.records import Fetch, FetchOutcome
from warehouse import issuers
from warehouse.db import Warehouse, migration_files

NOW = datetime(2026, 2, 3, 8, 0, tzinfo=timezone.utc)


def insert_listing_rows_of_before_the_exchange(con) -> None:
    """Listing events as a warehouse made before the exchange record held them: a known
    debut, a stale filing and a new debut (migrations before 010, file or lake)."""
    con.execute("INSERT INTO listing_stages VALUES ('filing', 0), ('hearing', 1), ('pricing', 2), ('debut', 3)")
    con.execute("INSERT INTO listing_events (event_id, company, exchange, stage, first_seen_at, known, stale) VALUES"
                " ('e1', 'MiniMax', 'HKEX', 'debut', now(), TRUE, FALSE),"
                " ('e2', 'Lumen', 'HKEX', 'filing', now(), FALSE, TRUE),"
                " ('e3', 'Lumen', 'HKEX', 'debut', now(), FALSE, FALSE)")


def test_a_warehouse_before_the_exchange_upgrades_with_its_listing_rows(tmp_path):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
                " applied_at TIMESTAMPTZ NOT NULL)")
    for version, name, sql in [m for m in migration_files() if m[0] < 10]:
        con.execute(sql)
        con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
    insert_listing_rows_of_before_the_exchange(con)
    con.close()
    wh = Warehouse(path)
    assert wh.query("SELECT company, stage, origin, suppressed, issuer_id, aliases FROM listing_events"
                    " ORDER BY event_id") == [("MiniMax", "debut", "news", "known", None, []),
                                              ("Lumen", "filing", "news", "stale", None, []),
                                              ("Lumen", "debut", "news", None, None, [])]
    assert wh.query("SELECT company, latest_stage, current_stage, name_en, stages FROM listings ORDER BY company") == [
        ("Lumen", "debut", "debut", None, ["filing", "debut"]), ("MiniMax", "debut", "debut", None, ["debut"])]
    # The same company may now reach a stage twice, under two applications.
    with wh.transaction() as con:
        con.execute("INSERT INTO listing_events (event_id, company, exchange, stage, first_seen_at, issuer_id)"
                    " VALUES ('e4', 'Lumen', 'HKEX', 'filing', now(), 'sehk-2')")
    assert wh.query("SELECT count(*) FROM listing_events WHERE company = 'Lumen' AND stage = 'filing'") == [(2,)]


def test_issuers_and_documents_round_trip(tmp_path):
    wh = Warehouse(tmp_path / "w.duckdb")
    issuer = Issuer(issuer_id="sehk-1", hkex_id=1, board="sehk", name_en="Quill Robotics Co., Ltd.",
                    name_zh="羽毛機器人有限公司", markers=["P"], status="A", first_filed_on=date(2026, 1, 5), is_ai=True,
                    ai_evidence=["name: robotics"], aliases=["Quill"], company_id="sehk-1", first_seen_at=NOW,
                    updated_at=NOW)
    proof = ExchangeDocument(url="https://x/app/ap.pdf", doc_type="Application Proof (1st submission)",
                             doc_date=date(2026, 1, 5), kind=DocumentKind.APPLICATION_PROOF)
    app = ExchangeApplication(hkex_id=1, board="sehk", status="A", documents=[proof])
    with wh.transaction() as con:
        issuers.save_issuers(con, [issuer])
        issuers.save_documents(con, [("sehk-1", app)], NOW)
        issuers.save_documents(con, [("sehk-1", app)], NOW)  # seen again: kept once
    assert issuers.load_issuers(wh) == [issuer]
    listed = issuer.model_copy(update={"status": "LT", "stock_code": "02513", "updated_at": NOW.replace(day=4)})
    with wh.transaction() as con:
        issuers.save_issuers(con, [listed])
    assert issuers.load_issuers(wh) == [listed]
    assert wh.query("SELECT url, kind, doc_date FROM issuer_documents") == [
        ("https://x/app/ap.pdf", "application_proof", date(2026, 1, 5))]


def result(name: str, **fields) -> ExchangeFileResult:
    file = ExchangeFile(source="hkex", name=name, url=f"https://x/eds/{name}", list_name="applisted", board="sehk",
                        language="e")
    return ExchangeFileResult(file=file, fetch=Fetch(url=file.url, source="hkex", outcome=FetchOutcome.OK,
                                                     fetched_at=NOW), **fields)


def test_file_state_keeps_validators_of_good_files_and_forgets_those_of_broken_ones(tmp_path):
    wh = Warehouse(tmp_path / "w.duckdb")
    good = ExchangeFileState(source="hkex", file="a.json", url="https://x/eds/a.json", etag='"1"',
                             last_modified="Mon, 02 Feb 2026 08:00:00 GMT", generated_at=NOW)
    with wh.transaction() as con:
        issuers.save_exchange_files(con, [result("a.json", state=good, problems=["a.json id 7: unknown status"]),
                                          result("b.json", state=good.model_copy(update={"file": "b.json"}))], NOW)
    states = issuers.exchange_file_states(wh, "hkex")
    assert states["a.json"].etag == '"1"' and states["a.json"].read_at == NOW
    with wh.transaction() as con:
        issuers.save_exchange_files(con, [result("a.json", unchanged=True),
                                          result("b.json", error="b.json: not valid JSON (truncated?)")], NOW)
    states = issuers.exchange_file_states(wh, "hkex")
    assert states["a.json"].etag == '"1"' and states["b.json"].etag is None and states["b.json"].read_at == NOW
    assert dict(wh.query("SELECT file, last_error FROM exchange_files")) == {
        "a.json": "a.json id 7: unknown status", "b.json": "b.json: not valid JSON (truncated?)"}
    assert issuers.exchange_file_states(wh, "other") == {}
