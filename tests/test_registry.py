"""The issuers registry: names in both languages, markers, legal forms, city prefixes,
aliases, re-filings, which application a sighting is about, and which issuers are AI.
Pure: no warehouse, no Prefect."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from schemas.exchange import DocumentKind, ExchangeApplication, ExchangeDocument
from schemas.records import Article, Entity, ListingStage
from tasks.listings.registry import NameIndex, Registry, ai_signals, merge_issuer, name_core, name_key, strip_markers

NOW = datetime(2026, 2, 3, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("raw, name, markers", [
    ("Xyz Technology Co., Ltd. - W", "Xyz Technology Co., Ltd.", ["W"]),
    ("MiniMax Group Inc. - W - P", "MiniMax Group Inc.", ["W", "P"]),
    ("Kuaishou Technology - SW", "Kuaishou Technology", ["S", "W"]),
    ("快手－Ｗ", "快手", ["W"]),  # full-width, as the Chinese files write it
    ("Plain Name Limited", "Plain Name Limited", []),
    ("Anti-Wrinkle Co", "Anti-Wrinkle Co", []),  # a hyphen inside a name is not a marker
])
def test_markers_are_taken_off_the_name(raw, name, markers):
    assert strip_markers(raw) == (name, markers)


@pytest.mark.parametrize("a, b", [
    ("Knowledge Atlas Technology Joint Stock Company Limited", "Knowledge Atlas Technology"),
    ("Shanghai Biren Technology Co., Ltd. - W", "Biren Technology"),
    ("MiniMax Group Inc.", "MiniMax"),
    ("Hong Kong Harbour Robotics Holdings Limited", "Harbour Robotics"),
    ("Xi'an Foo Bar Corp", "Foo Bar"),
    ("北京智譜華章科技股份有限公司", "智谱华章科技"),
    ("上海壁仞科技股份有限公司－Ｗ", "壁仞科技"),
])
def test_legal_forms_cities_and_scripts_share_a_key(a, b):
    assert name_key(a) == name_key(b)


def test_the_core_drops_what_a_company_does():
    assert name_core("Zhipu AI") == "zhipu"
    assert name_core("Quanta Mind Intelligent Technology Co., Ltd.") == "quanta mind"
    assert name_core("北京智譜華章科技股份有限公司") == "智谱华章"
    assert name_core("AI Technology Limited") == "ai"  # all generic: indexed by its key only


def index_of(names: dict[str, list[str]]) -> NameIndex:
    index = NameIndex()
    for ident, written in names.items():
        for name in written:
            index.add(name, ident)
    return index


COMPANIES = {
    "zhipu": ["Knowledge Atlas Technology Joint Stock Company Limited", "北京智譜華章科技股份有限公司"],
    "biren": ["Shanghai Biren Technology Co., Ltd.", "上海壁仞科技股份有限公司"],
    "minimax": ["MiniMax Group Inc.", "稀宇科技有限公司"],
    "iluvatar": ["Shanghai Iluvatar CoreX Semiconductor Co., Ltd.", "上海天數智芯半導體股份有限公司"],
    "horizon": ["Horizon Robotics", "地平線機器人"],
    "corvid": ["Shenzhen Corvid Robotics Co., Ltd.", "深圳渡鴉機器人有限公司"],
    "dumpling": ["Harbour Dumpling House Holdings Limited", "港灣餃子館控股有限公司"],
    "generic": ["AI Technology Limited"],
    "china-robot": ["China Robot Holdings Limited"],
    "china-chip": ["China Chip Holdings Limited"],
}


@pytest.mark.parametrize("news_name, company", [
    # The news's short names, its own aliases, both scripts.
    ("Zhipu AI", "zhipu"), ("Zhipu", "zhipu"), ("Knowledge Atlas", "zhipu"), ("智譜", "zhipu"), ("智谱AI", "zhipu"),
    ("智谱华章", "zhipu"), ("Biren", "biren"), ("Biren Technology", "biren"), ("Shanghai Biren", "biren"),
    ("壁仞科技", "biren"), ("MiniMax", "minimax"), ("Minimax", "minimax"), ("Iluvatar CoreX", "iluvatar"),
    ("Iluvatar", "iluvatar"), ("天數智芯", "iluvatar"), ("Horizon Robotics", "horizon"), ("Corvid Robotics", "corvid"),
    ("Corvid", "corvid"), ("渡鸦机器人", "corvid"), ("Harbour Dumpling House", "dumpling"),
    ("AI Technology Ltd", "generic"), ("Knowledge Atlass Technology", "zhipu"),  # a typo, near-identical
    # Names that are no company in particular, or could be two: nothing.
    ("AI", None), ("China", None), ("Technology", None), ("Hong Kong", None), ("Atlas", None), ("科技", None),
    ("China Robot", "china-robot"), ("China Holdings", None), ("Harbour", None), ("Moonshot AI", None),
    ("Quill Robotics", None),
])
def test_news_names_resolve_to_their_company(news_name, company):
    assert index_of(COMPANIES).match(news_name) == company


def application(hkex_id: int, name_en: str | None, name_zh: str | None = None, *, status: str = "A",
                proof_on: date | None = date(2026, 1, 5), code: str | None = None, phip: bool = False,
                baseline: bool = False, seen_on: date | None = date(2026, 2, 3), board: str = "sehk"
                ) -> ExchangeApplication:
    documents = []
    if proof_on:
        documents.append(ExchangeDocument(url=f"https://x/app/{hkex_id}/ap.pdf",
                                          doc_type="Application Proof (1st submission)", doc_date=proof_on,
                                          kind=DocumentKind.APPLICATION_PROOF))
    if phip:
        documents.append(ExchangeDocument(url=f"https://x/app/{hkex_id}/phip.pdf",
                                          doc_type="Post Hearing Information Pack (1st submission)",
                                          doc_date=date(2026, 2, 1), kind=DocumentKind.PHIP))
    return ExchangeApplication(hkex_id=hkex_id, board=board, name_en=name_en, name_zh=name_zh, status=status,
                               updated_on=proof_on, stock_code=code, has_phip=phip, documents=documents,
                               baseline=baseline, seen_on=seen_on)


def test_english_and_chinese_records_and_later_polls_make_one_issuer():
    registry = Registry()
    issuer, old = registry.record_application(
        application(1001, "Knowledge Atlas Technology Joint Stock Company Limited - P", "北京智譜華章科技股份有限公司－Ｐ"), NOW)
    assert old is None
    assert (issuer.issuer_id, issuer.name_en, issuer.name_zh, issuer.markers) == (
        "sehk-1001", "Knowledge Atlas Technology Joint Stock Company Limited", "北京智譜華章科技股份有限公司", ["P"])
    assert issuer.first_filed_on == date(2026, 1, 5) and issuer.company_id == "sehk-1001"
    assert registry.changed() == [issuer]
    registry.mark_saved()
    # A later poll that read only the Chinese file keeps the English name; nothing changed.
    same, _ = registry.record_application(application(1001, None, "北京智譜華章科技股份有限公司－Ｐ"), NOW)
    assert same.name_en == issuer.name_en and registry.changed() == []
    listed, _ = registry.record_application(application(
        1001, "Knowledge Atlas Technology Joint Stock Company Limited - P", status="LT", code="02513", phip=True), NOW)
    assert (listed.status, listed.stock_code, listed.has_phip) == ("LT", "02513", True)
    assert registry.changed() == [listed]


def test_a_refiling_after_a_lapse_is_the_same_company():
    registry = Registry()
    registry.record_application(application(1001, "Orchid Vision AI Limited", "蘭花視覺智能有限公司", status="LP",
                                            proof_on=date(2025, 3, 1), seen_on=date(2025, 9, 2)), NOW)
    again, _ = registry.record_application(application(1017, "Orchid Vision AI Limited", "蘭花視覺智能有限公司",
                                                       proof_on=date(2026, 2, 3)), NOW)
    assert (again.company_id, again.refiled_from) == ("sehk-1001", "sehk-1001")
    assert registry.issuers["sehk-1001"].closed_on == date(2025, 9, 2)
    other, _ = registry.record_application(application(1018, "Orchid Vision Robotics Limited"), NOW)
    assert other.company_id == "sehk-1018"  # a similar name is not a re-filing: only the same name is
    company = registry.resolve("Orchid Vision AI")
    assert company == "sehk-1001"
    # Which application a sighting is about: the one filed by then; a filing reported after
    # the old one closed, before the new one shows, belongs to neither yet.
    may, february = datetime(2025, 5, 1, tzinfo=timezone.utc), datetime(2026, 2, 3, tzinfo=timezone.utc)
    assert registry.application_for(company, ListingStage.HEARING, may).hkex_id == 1001
    assert registry.application_for(company, ListingStage.FILING, february).hkex_id == 1017
    assert registry.application_for(company, ListingStage.FILING, None).hkex_id == 1017


def test_a_filing_after_the_only_application_closed_waits_for_the_new_one():
    registry = Registry()
    registry.record_application(application(1001, "Orchid Vision AI Limited", status="LP", proof_on=date(2025, 3, 1),
                                            seen_on=date(2025, 9, 2)), NOW)
    assert registry.application_for("sehk-1001", ListingStage.FILING, datetime(2026, 1, 9, tzinfo=timezone.utc)) is None
    assert registry.application_for("sehk-1001", ListingStage.FILING,
                                    datetime(2025, 3, 2, tzinfo=timezone.utc)).hkex_id == 1001


def test_a_debut_belongs_to_the_listed_application():
    registry = Registry()
    registry.record_application(application(1001, "Lumen Compute Inc.", status="LT", code="02513", phip=True,
                                            proof_on=date(2025, 6, 1)), NOW)
    registry.record_application(application(1050, "Lumen Compute Inc.", proof_on=date(2026, 1, 1)), NOW)
    assert registry.application_for("sehk-1001", ListingStage.DEBUT, NOW).hkex_id == 1001


@pytest.mark.parametrize("name_en, name_zh, markers, expected", [
    ("Quill Robotics Co., Ltd.", None, [], ["name: robotics"]),
    ("Beacon Lidar Technology Co., Ltd.", None, [], ["name: lidar"]),
    ("Tessellate Semiconductor Co., Ltd.", None, [], ["name: semiconductor"]),
    ("Plain Holdings Limited", "流明算力有限公司", [], ["name: 算力"]),
    ("Plain Holdings Limited", "天數智芯半導體股份有限公司", [], ["name: 芯"]),
    ("Plain Holdings Limited", None, ["P"], ["marker: P (Chapter 18C specialist technology)"]),
    ("Pearl Tea House Holdings Limited", "珍珠茶館控股有限公司", ["W"], []),
    ("Paint Maker Co", None, [], []),  # "ai" inside a word is not AI
])
def test_the_record_says_which_issuers_are_ai(name_en, name_zh, markers, expected):
    assert ai_signals(name_en, name_zh, markers) == expected


def article(article_id: str, text: str, entities: list[tuple[str, str]], relevant: bool = True) -> Article:
    found = [Entity(label="ORG", text=name, normalized=name, start_char=text.index(name),
                    end_char=text.index(name) + len(name)) for name, _ in entities]
    return Article(article_id=article_id, url=f"https://n/{article_id}", canonical_url=f"https://n/{article_id}",
                   source="t", fetched_at=NOW, text=text, is_relevant=relevant, entities=found)


def test_relevant_articles_that_tie_an_issuer_to_ai_make_it_ai():
    registry = Registry()
    registry.record_application(application(1001, "Pearl Tea House Holdings Limited", "珍珠茶館控股有限公司"), NOW)
    registry.record_application(application(1002, "Harbour Dumpling House Holdings Limited"), NOW)
    assert not registry.issuers["sehk-1001"].is_ai
    marked = registry.note_mentions([
        article("a1", "Pearl Tea House said it would use AI models to plan its menus.\n"
                      "Harbour Dumpling House opened a new shop in Mong Kok.",
                [("Pearl Tea House", "ORG"), ("Harbour Dumpling House", "ORG")]),
        article("a2", "Harbour Dumpling House is training a large language model.", [("Harbour Dumpling House", "ORG")],
                relevant=False),
    ], NOW)
    assert marked == ["sehk-1001"]
    assert registry.issuers["sehk-1001"].is_ai and registry.issuers["sehk-1001"].ai_evidence == ["news: a1"]
    assert not registry.issuers["sehk-1002"].is_ai  # named in a sentence with no AI, and in an irrelevant article
    chinese = registry.note_mentions([article("a3", "珍珠茶館今日宣布以人工智能管理門店。", [])], NOW)
    assert chinese == ["sehk-1001"]


def test_news_names_become_aliases_unless_they_are_the_name_itself():
    registry = Registry()
    registry.record_application(application(1001, "Knowledge Atlas Technology Joint Stock Company Limited"), NOW)
    issuer = registry.note_news("sehk-1001", ["Zhipu AI", "Knowledge Atlas Technology", "Zhipu AI"], "a9", NOW)
    assert issuer.aliases == ["Zhipu AI"] and issuer.is_ai and issuer.ai_evidence == ["news: a9"]
    assert registry.resolve("ZHIPU") == "sehk-1001"


def test_a_copy_takes_changes_without_touching_the_original():
    registry = Registry()
    registry.record_application(application(1001, "Quill Robotics Co., Ltd.", "羽毛機器人有限公司"), NOW)
    registry.mark_saved()
    assert registry.resolve("Quill Robotics") == "sehk-1001"  # its name index is built
    copy = registry.copy()
    copy.record_application(application(1002, "Lumen Compute Inc.", "流明算力有限公司"), NOW)
    copy.note_news("sehk-1001", ["Quill"], "a1", NOW)
    assert copy.resolve("Lumen Compute") == "sehk-1002" and copy.issuers["sehk-1001"].aliases == ["Quill"]
    assert [i.issuer_id for i in copy.changed()] == ["sehk-1001", "sehk-1002"]
    assert registry.resolve("Lumen Compute") is None and "sehk-1002" not in registry.issuers
    assert registry.issuers["sehk-1001"].aliases == [] and registry.changed() == []


def test_a_change_merges_with_what_another_writer_saved_meanwhile():
    registry = Registry()
    base, _ = registry.record_application(application(1001, "Quill Robotics Co., Ltd.", "羽毛機器人有限公司"), NOW)
    registry.mark_saved()
    # This writer learns a name from the news; another writer, meanwhile, saw it list.
    ours = registry.note_news("sehk-1001", ["Quill"], "a1", NOW.replace(hour=10))
    theirs = base.model_copy(update={"status": "LT", "stock_code": "02513", "has_phip": True,
                                     "aliases": ["QR"], "updated_at": NOW.replace(hour=11)})
    ((before, after),) = registry.changes()
    assert (before, after) == (base, ours)
    merged = merge_issuer(before, after, theirs)
    assert (merged.status, merged.stock_code, merged.has_phip) == ("LT", "02513", True)  # theirs: we did not change them
    assert merged.aliases == ["QR", "Quill"] and "news: a1" in merged.ai_evidence and merged.is_ai
    assert merged.first_seen_at == base.first_seen_at and merged.updated_at == NOW.replace(hour=11)
    # Nobody else wrote it: ours as it is. A row new to us but stored by another: ours, lists joined.
    assert merge_issuer(before, after, base) == after
    assert merge_issuer(None, after, theirs).status == "A" and merge_issuer(None, after, theirs).aliases == ["QR", "Quill"]
    assert registry.resolve("QR") is None  # builds the name index
    registry.mark_saved([merged])
    assert registry.issuers["sehk-1001"] == merged and registry.changes() == []
    assert registry.resolve("QR") == "sehk-1001"  # the other writer's name, now indexed too
