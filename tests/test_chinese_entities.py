"""Organisations, people and places in Chinese text (tasks/understand/chinese_entities.py):
known names and the exchange's applicants in either script, names the text writes out,
and what jieba tags, where it is believable."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from schemas.exchange import Issuer
from schemas.records import Article
from tasks.names import KNOWN_ORGS
from tasks.understand import chinese
from tasks.understand.chinese_entities import MORE_ORGANISATIONS, ORDINARY_WORDS, ORGANISATIONS, recogniser
from tasks.understand.nlp import extract_entities, load_nlp

GOLDEN = json.loads((Path(__file__).parent / "data/chinese_pages/expected.json").read_text(encoding="utf-8"))["pages"]


def found(text: str) -> set[tuple[str, str, str]]:
    entities = recogniser().entities(text)
    for e in entities:
        assert text[e.start_char:e.end_char] == e.text  # offsets into the text as written
    return {(e.label, e.text, e.normalized) for e in entities}


def issuer(hkex_id: int, name_zh: str, name_en: str | None = None, aliases: tuple[str, ...] = ()) -> Issuer:
    return Issuer(issuer_id=f"sehk-{hkex_id}", hkex_id=hkex_id, board="sehk", name_zh=name_zh, name_en=name_en,
                  status="A", company_id=f"sehk-{hkex_id}", aliases=list(aliases))


def test_the_chinese_names_of_organisations_come_from_the_shared_table_and_add_only_what_it_lacks():
    shared = {alias for _, aliases in KNOWN_ORGS.values() for alias in aliases}
    for canonical, names in MORE_ORGANISATIONS.items():
        assert canonical in KNOWN_ORGS or chinese.HAN.search(canonical), canonical
        assert names and all(chinese.to_simplified(n) == n for n in names), canonical
        assert not shared & set(names), canonical  # one place for each name
    assert "智谱" in ORGANISATIONS["Zhipu AI"][1] and "港交所" in ORGANISATIONS["HKEX"][1]
    assert "数码港" in ORGANISATIONS["Cyberport"][1]
    # Ordinary words the table also gives as a company's short name are not names here.
    assert all(not ORDINARY_WORDS & set(names) for _, names in ORGANISATIONS.values())


def test_known_organisations_and_places_in_either_script_get_the_english_names():
    traditional = found("優必選與商湯科技在香港數碼港合作，港交所及香港證監會表示歡迎。")
    simplified = found("优必选与商汤科技在香港数码港合作，港交所及香港证监会表示欢迎。")
    assert {n for _, _, n in traditional} == {n for _, _, n in simplified} == {
        "UBTech Robotics", "SenseTime", "Hong Kong", "Cyberport", "HKEX", "SFC"}
    assert ("ORG", "優必選", "UBTech Robotics") in traditional and ("ORG", "优必选", "UBTech Robotics") in simplified
    assert ("GPE", "香港", "Hong Kong") in traditional
    assert found("公司將擴建東南亞產能，並在大灣區設廠。") >= {("LOC", "東南亞", "Southeast Asia"),
                                                   ("LOC", "大灣區", "Greater Bay Area")}


def test_the_exchanges_applicants_are_organisations_by_their_full_short_and_core_names():
    recogniser().learn_issuers([
        issuer(9001, "北京智譜華章科技股份有限公司", "Knowledge Atlas Technology Joint Stock Company Limited"),
        issuer(9002, "靈犀智算科技股份有限公司", "Lingxi Computing Technology Co., Ltd."),
        issuer(9003, "雲躍星科控股有限公司", None, aliases=("雲躍",)),
    ])
    text = "智譜華章與智谱週一公布業績；靈犀智算通過聆訊，灵犀智算科技股份有限公司稱，雲躍星科及雲躍均有參與。"
    entities = found(text)
    assert ("ORG", "智譜華章", "Zhipu AI") in entities and ("ORG", "智谱", "Zhipu AI") in entities
    assert ("ORG", "靈犀智算", "Lingxi Computing Technology") in entities
    assert ("ORG", "灵犀智算科技股份有限公司", "Lingxi Computing Technology") in entities
    # Without an English name, the simplified name without its legal form.
    assert ("ORG", "雲躍星科", "云跃星科") in entities and ("ORG", "雲躍", "云跃星科") in entities
    # The segmenter keeps the names whole from now on, in either script.
    assert "灵犀智算" in chinese.words("靈犀智算今日招股")


def test_a_legal_name_written_out_and_the_short_name_the_text_gives_it():
    text = ("港交所披露，人形機器人企業深思維機器人科技股份有限公司（下稱「深思維」）已遞表。"
            "深思維成立於2019年，總部位於杭州市。")
    entities = found(text)
    assert ("ORG", "深思維機器人科技股份有限公司", "深思维机器人科技") in entities
    assert sum(1 for label, name, _ in entities if name == "深思維") == 1  # the set folds the two mentions
    assert [e.start_char for e in recogniser().entities(text) if e.text == "深思維"] == [
        text.index("深思維」"), text.rindex("深思維")]
    assert ("GPE", "杭州市", "杭州市") in entities
    assert ("ORG", "港交所", "HKEX") in entities


def test_coined_company_names_before_a_company_word():
    assert ("ORG", "馳遠科技", "驰远科技") in found("自動駕駛方案商馳遠科技今日起招股。")
    assert ("ORG", "鼎曜科技", "鼎曜科技") in found("伺服器代工廠鼎曜科技今天召開董事會。")
    # Ordinary words and terms of the trade before 科技 are no company.
    assert not {n for label, n, _ in found("金融科技和人工智能科技發展迅速，多家特專科技公司來港上市。") if label == "ORG"}


def test_people_are_names_with_a_common_surname_not_words_jieba_also_tags_as_names():
    entities = found("行政總裁陳大文表示，創辦人李明接受訪問。記者林曉彤報道。公司的高階伺服器和無人駕駛技術受歡迎，華為亦有參與。")
    people = {name for label, name, _ in entities if label == "PERSON"}
    assert people == {"陳大文", "李明", "林曉彤"}
    assert ("PERSON", "陳大文", "陈大文") in entities  # one normalized form for both scripts


def test_generic_words_are_no_organisation_and_listing_is_no_place():
    entities = found("多家上市公司在交易所上市，特區政府表示歡迎。")
    assert not [e for e in entities if e[0] in ("ORG", "GPE", "LOC") and e[1] in ("上市公司", "交易所", "上市")]


@pytest.mark.parametrize("page", GOLDEN, ids=[p["file"] for p in GOLDEN])
def test_golden_pages_entities_point_into_their_text(page):
    entities = recogniser().entities(page["text"])
    assert entities
    assert all(page["text"][e.start_char:e.end_char] == e.text for e in entities)
    assert {e.label for e in entities} <= {"ORG", "PERSON", "GPE", "LOC"}


def test_extract_entities_runs_the_chinese_recogniser_with_the_applicants_names():
    def article(article_id: str, text: str) -> Article:
        return Article(article_id=article_id, url=f"https://x.test/{article_id}", canonical_url=f"https://x.test/{article_id}",
                       source="t", fetched_at=datetime(2026, 1, 1, tzinfo=timezone.utc), text=text, language="zh",
                       is_relevant=True)

    applicant = issuer(9101, "晨曦芯算半導體股份有限公司", "Chenxi Xinsuan Semiconductor Co., Ltd.")
    done = extract_entities(load_nlp(), [article("hant", "晨曦芯算通過上市聆訊，港交所稱。"),
                                         article("hans", "晨曦芯算通过上市聆讯，港交所称。")], issuers=[applicant])
    for a in done:
        assert {(e.label, e.normalized) for e in a.entities} == {("ORG", "Chenxi Xinsuan Semiconductor"),
                                                                ("ORG", "HKEX")}
