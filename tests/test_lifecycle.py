"""The lifecycle: fusion of the exchange's record and the news into one row per issuer and
stage, who showed it first, confirmations, and which sightings alert: pure functions, no
warehouse (what writes their decisions is tested in test_transactions.py). No Prefect."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from schemas.exchange import DocumentKind, ExchangeApplication, ExchangeDocument, Issuer
from schemas.records import STAGE_RANK, ListingEvent, ListingStage, Origin, Suppressed, issuer_event_id, \
    listing_event_id
from tasks.listings.exchange import stage_sightings
from tasks.listings.lifecycle import Watch, fuse, link_unresolved, resolve_news_events
from tasks.listings.registry import Registry

T0 = datetime(2026, 2, 3, 8, 0, tzinfo=timezone.utc)
T1 = T0 + timedelta(days=1)


def issuer(hkex_id: int = 1001, name_en: str = "Quill Robotics Co., Ltd.", *, is_ai: bool = True,
           status: str = "A", name_zh: str | None = "羽毛機器人有限公司") -> Issuer:
    return Issuer(issuer_id=f"sehk-{hkex_id}", hkex_id=hkex_id, board="sehk", name_en=name_en, name_zh=name_zh,
                  status=status, is_ai=is_ai, company_id=f"sehk-{hkex_id}", first_filed_on=date(2026, 1, 5))


def exchange_event(stage: str, who: Issuer | None = None, **fields) -> ListingEvent:
    who = who or issuer()
    return ListingEvent(event_id=issuer_event_id(who.issuer_id, stage), company=who.name, stage=stage,
                        issuer_id=who.issuer_id, origin=Origin.EXCHANGE, event_date=T0,
                        document_url=f"https://x/app/{who.hkex_id}/{stage}.pdf", evidence=f"{stage} document",
                        **fields)


def news_event(company: str, stage: str, article_id: str = "a1", **fields) -> ListingEvent:
    return ListingEvent(event_id=listing_event_id(company, stage), company=company, stage=stage,
                        article_id=article_id, event_date=T0, evidence=f"{company} reached {stage}.", **fields)


def apply(stored: list[ListingEvent], events: list[ListingEvent], now: datetime) -> tuple[list[ListingEvent], list]:
    """What a store would hold after the changes, and the changes."""
    changes = fuse(events, stored, now)
    rows = {r.event_id: r for r in stored}
    rows.update({c.row.event_id: c.row for c in changes})
    return list(rows.values()), changes


def test_the_exchange_first_then_the_news_is_one_row_and_one_alert():
    stored, changes = apply([], [exchange_event("filing")], T0)
    assert [(c.insert, c.alert, c.row.origin) for c in changes] == [(True, True, "exchange")]
    resolved = news_event("Quill Robotics", "filing").model_copy(update={
        "issuer_id": "sehk-1001", "event_id": issuer_event_id("sehk-1001", "filing"), "amount": 1e9, "currency": "HKD"})
    stored, changes = apply(stored, [resolved], T1)
    assert [(c.insert, c.alert) for c in changes] == [(False, False)]
    (row,) = stored
    assert (row.origin, row.article_id, row.confirmed_at, row.amount) == ("exchange", "a1", None, 1e9)
    assert row.first_seen_at == T0 and row.evidence == "filing document"


def test_the_news_first_then_the_exchange_is_confirmed_not_alerted_again():
    stored, changes = apply([], [news_event("Quill Robotics", "hearing")], T0)
    assert [(c.insert, c.alert, c.row.origin, c.row.issuer_id) for c in changes] == [(True, True, "news", None)]
    # Later the registry resolves the row (link_unresolved), then the exchange shows the stage.
    linked = stored[0].model_copy(update={"issuer_id": "sehk-1001"})
    stored, changes = apply([linked], [exchange_event("hearing")], T1)
    assert [(c.insert, c.alert) for c in changes] == [(False, False)]
    (row,) = stored
    assert (row.origin, row.confirmed_at, row.document_url) == ("news", T1, "https://x/app/1001/hearing.pdf")
    assert row.event_id == listing_event_id("Quill Robotics", "hearing")  # the alerted row keeps its id


def test_known_stale_and_unwatched_rows_are_stored_silently():
    known = exchange_event("filing", known=True)
    history = exchange_event("hearing", stale=True)
    unwatched = exchange_event("filing", issuer(1002, "Pearl Tea House Holdings Limited", is_ai=False),
                               watched=False)
    _, changes = apply([], [known, history, unwatched], T0)
    assert {c.row.company: (c.alert, c.row.suppressed) for c in changes if c.row.stage == "filing"} == {
        "Quill Robotics Co., Ltd.": (False, Suppressed.KNOWN),
        "Pearl Tea House Holdings Limited": (False, Suppressed.UNWATCHED)}
    assert [(c.alert, c.row.suppressed, c.row.stale) for c in changes if c.row.stage == "hearing"] == [
        (False, Suppressed.STALE, True)]


def test_a_stage_before_one_already_reached_is_stale():
    stored, _ = apply([], [exchange_event("debut", stock_code="02513")], T0)
    _, changes = apply(stored, [exchange_event("hearing"), news_event("Lumen", "pricing")], T1)
    hearing = next(c for c in changes if c.row.stage == "hearing")
    assert (hearing.alert, hearing.row.suppressed) == (False, Suppressed.STALE)
    # An unresolved company is judged by its own rows, by name.
    pricing = next(c for c in changes if c.row.stage == "pricing")
    assert pricing.alert
    stored, _ = apply([], [news_event("Lumen", "debut")], T0)
    _, changes = apply(stored, [news_event("LUMEN", "filing", article_id="a2")], T1)
    assert [(c.alert, c.row.suppressed) for c in changes] == [(False, Suppressed.STALE)]


def test_an_outcome_closes_the_application_but_a_refiling_starts_again():
    stored, changes = apply([], [exchange_event("lapsed")], T0)
    assert changes[0].alert
    _, changes = apply(stored, [exchange_event("hearing")], T1)
    assert not changes[0].alert  # stale: the application had lapsed
    refiled = issuer(1017)
    _, changes = apply(stored, [exchange_event("filing", refiled)], T1)
    assert changes[0].alert and changes[0].row.issuer_id == "sehk-1017"
    assert STAGE_RANK[ListingStage.DEBUT] < STAGE_RANK[ListingStage.LAPSED]


def test_a_row_stored_unwatched_alerts_once_when_the_news_shows_the_company_is_watched():
    dumpling = issuer(1002, "Harbour Dumpling House Holdings Limited", is_ai=False)
    stored, changes = apply([], [exchange_event("filing", dumpling, watched=False)], T0)
    assert not changes[0].alert
    news = news_event("Harbour Dumpling House", "filing").model_copy(update={
        "issuer_id": "sehk-1002", "event_id": issuer_event_id("sehk-1002", "filing")})
    stored, changes = apply(stored, [news], T1)
    assert [(c.insert, c.alert, c.row.suppressed) for c in changes] == [(False, True, None)]
    _, changes = apply(stored, [news.model_copy(update={"article_id": "a7"})], T1)
    assert changes == []  # nothing new to fill, and never a second alert


def test_a_batch_with_a_filing_and_a_debut_alerts_both_in_order():
    _, changes = apply([], [exchange_event("debut"), exchange_event("filing")], T0)
    assert [(c.row.stage, c.alert) for c in changes] == [("filing", True), ("debut", True)]


def test_the_exchange_shows_only_its_furthest_stage_as_news():
    app = ExchangeApplication(
        hkex_id=1001, board="sehk", name_en="Quill Robotics Co., Ltd.", status="LT", stock_code="02513", has_phip=True,
        updated_on=date(2026, 2, 1), seen_on=date(2026, 2, 3), lists=["applisted"],
        documents=[ExchangeDocument(url="https://x/ap.pdf", doc_type="Application Proof (1st submission)",
                                    doc_date=date(2025, 9, 1), kind=DocumentKind.APPLICATION_PROOF),
                   ExchangeDocument(url="https://x/phip.pdf", doc_type="Post Hearing Information Pack (1st submission)",
                                    doc_date=date(2026, 1, 20), kind=DocumentKind.PHIP)])
    sightings = stage_sightings(app, issuer(status="LT").model_copy(update={"stock_code": "02513"}))
    assert [(e.stage, e.stale, e.event_date.date(), e.document_url) for e in sightings] == [
        ("filing", True, date(2025, 9, 1), "https://x/ap.pdf"),
        ("hearing", True, date(2026, 1, 20), "https://x/phip.pdf"),
        ("debut", False, date(2026, 2, 3), "https://x/phip.pdf")]
    assert sightings[2].stock_code == "02513" and "stock code 02513" in sightings[2].evidence
    oc = ExchangeDocument(url="https://x/oc.pdf", doc_type="OC Announcement - Appointment")
    oc_only = app.model_copy(update={"status": "A", "has_phip": False, "stock_code": None,
                                     "lists": ["appactive_appphip"], "documents": [oc]})
    assert stage_sightings(oc_only, issuer()) == []  # an overall coordinator's notice is not a filing
    unknown = app.model_copy(update={"status": "ZZ"})
    assert stage_sightings(unknown, issuer()) == []


def test_watch_settings():
    quill, tea = issuer(), issuer(1002, "Pearl Tea House Holdings Limited", is_ai=False)
    assert Watch("ai").covers([quill.name], quill) and not Watch("ai").covers([tea.name], tea)
    assert Watch("ai").covers(["Some Company"], None)  # unresolved: from a relevant article
    assert Watch("all").covers([tea.name], tea)
    names = Watch(["Pearl Tea House", "智譜"])
    assert names.covers([tea.name], tea) and not names.covers([quill.name], quill)
    assert names.covers(["北京智譜華章科技股份有限公司"], None)


def registry_with(*issuers: Issuer) -> Registry:
    return Registry(issuers)


def test_news_events_resolve_through_names_and_the_articles_aliases():
    atlas = issuer(1001, "Knowledge Atlas Technology Joint Stock Company Limited", name_zh="北京智譜華章科技股份有限公司",
                   is_ai=False)
    registry = registry_with(atlas)
    events = resolve_news_events(registry, [
        news_event("Atlas Mind", "hearing", aliases=["Knowledge Atlas"]),  # the article's "also known as"
        news_event("Moonshot AI", "filing"),
        news_event("Moore Threads", "debut", exchange="STAR"),
    ], Watch("ai"), T0)
    hearing, moonshot, star = events
    assert (hearing.issuer_id, hearing.event_id, hearing.company) == (
        "sehk-1001", issuer_event_id("sehk-1001", "hearing"), atlas.name)
    assert hearing.aliases == ["Atlas Mind", "Knowledge Atlas"] and hearing.watched
    assert registry.issuers["sehk-1001"].aliases == ["Atlas Mind", "Knowledge Atlas"]  # the news's other names
    assert registry.issuers["sehk-1001"].is_ai  # a relevant article reported its listing
    assert (moonshot.issuer_id, moonshot.watched) == (None, True)
    assert star.issuer_id is None
    only_zhipu = resolve_news_events(registry, [news_event("Moonshot AI", "filing")], Watch(["Zhipu AI"]), T0)
    assert not only_zhipu[0].watched


def test_unresolved_rows_are_linked_when_the_registry_learns_the_company():
    registry = registry_with(issuer(1231, "Shenzhen Corvid Robotics Co., Ltd."))
    rows = [news_event("Corvid Robotics", "filing").model_copy(update={"first_seen_at": T0}),
            news_event("Corvid", "filing", article_id="a2").model_copy(update={"first_seen_at": T0}),
            news_event("Moonshot AI", "filing").model_copy(update={"first_seen_at": T0})]
    taken: set[tuple[str, str]] = set()
    linked = link_unresolved(registry, rows, taken, T1)
    # Only the first row of a stage is linked: one row per issuer and stage.
    assert [(r.company, r.issuer_id) for r in linked] == [("Corvid Robotics", "sehk-1231")]
    assert taken == {("sehk-1231", "filing")}
