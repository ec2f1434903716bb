"""Listing events in Chinese news, traditional and simplified: stages, the company a clause
names, and what is not a stage (plans, rumours, the CSRC, other markets, placements, history).

Every sentence here is written for this project, about fictional companies unless a
known company's mapping to its English name is what is tested.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from schemas.records import Article
from tasks.listings.detect import detect_listing_events
from tasks.listings.detect_zh import parse_amount_zh
from tasks.listings.parsers import story_day
from tasks.understand.nlp import load_nlp

PUBLISHED = datetime(2026, 3, 12, 2, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def nlp():
    return load_nlp()


def found(nlp, text: str, title: str | None = None, published: datetime | None = PUBLISHED) -> set[tuple[str, str]]:
    article = Article(article_id="z1", url="https://news.example/z1", canonical_url="https://news.example/z1",
                      source="test", title=title, published_at=published, fetched_at=PUBLISHED, language="zh",
                      text=text, is_relevant=True)
    return {(e.company, e.stage) for e in detect_listing_events(nlp, [article])}


@pytest.mark.parametrize("text, expected", [
    # filing, both scripts, with a stock-code-less name after its description
    ("服務機器人企業雲帆智能今日向港交所遞交上市申請，擬於主板上市。", {("雲帆智能", "filing")}),
    ("服务机器人企业云帆智能今日向港交所递交上市申请,拟于主板上市。", {("云帆智能", "filing")}),
    ("據港交所官網顯示，星河光芯科技有限公司再次遞表，中金公司為獨家保薦人。", {("星河光芯科技有限公司", "filing")}),
    # hearing, and the post-hearing pack
    ("晶算科技通過港交所上市聆訊，並於今晚刊發聆訊後資料集。", {("晶算科技", "hearing")}),
    # pricing: a launch with its range, and a final price
    ("智駕方案商行雲智駕(02789)今日起至下周一招股，每股招股價介乎12至15港元。", {("行雲智駕", "pricing")}),
    ("行云智驾公布最终发售价定为每股14.2港元,募资约8.5亿港元。", {("行云智驾", "pricing")}),
    # debut, named by its description and stock code, and in a headline
    ("人形機器人「第一股」銀翼機器人(09021)今日在港交所主板掛牌上市，首日高開35%。", {("銀翼機器人", "debut")}),
    ("港股人形机器人第一股银翼机器人今日挂牌", {("银翼机器人", "debut")}),
])
def test_stages_in_both_scripts(nlp, text, expected):
    assert found(nlp, text) == expected


def test_a_known_company_takes_its_english_name_in_either_script(nlp):
    assert found(nlp, "優必選今日在港交所掛牌上市，首日收漲。") == {("UBTech Robotics", "debut")}
    assert found(nlp, "优必选今日在港交所挂牌上市,首日收涨。") == {("UBTech Robotics", "debut")}


def test_one_event_per_company_its_latest_stage(nlp):
    text = ("雲帆智能於去年12月通過聆訊，本月初啟動招股。\n"
            "雲帆智能今日正式在港交所掛牌上市，開盤報21港元，較招股價高出12%。")
    assert found(nlp, text) == {("雲帆智能", "debut")}


def test_a_clause_without_a_subject_is_about_the_sentences_company(nlp):
    assert found(nlp, "芯途半導體(02577.HK)宣布，公司已通過港交所上市聆訊，並將於下周招股。") == {("芯途半導體", "hearing")}


@pytest.mark.parametrize("text", [
    "雲帆智能擬於今年下半年赴港上市，目前正物色保薦人。",                      # a plan
    "市場消息指，雲帆智能已秘密向港交所遞表。",                              # a rumour
    "雲帆智能獲中國證監會備案通知書，擬發行不超過5000萬股H股並在香港聯交所上市。",  # the CSRC's step
    "雲帆智能今日在科創板上市，首日大漲180%。",                              # another market
    "雲帆智能宣布以每股配售價8.2港元配售新股，集資約4億港元。",                    # a placement
    "雲帆智能的上市申請已於上月失效。",                                     # a lapse
    "雲帆智能將於下周一在港交所掛牌上市。",                                  # a timetable
    "雲帆智能未能在6個月內通過聆訊，申請自動失效。",                           # a failure
    "由於市況波動，雲帆智能宣布暫緩招股。",                                   # a postponement
])
def test_what_is_not_a_stage(nlp, text):
    assert found(nlp, text) == set()


def test_history_in_a_story_of_now(nlp):
    text = "雲帆智能於2023年5月首次遞表。雲帆智能今日再次向港交所遞交上市申請。"
    assert found(nlp, text) == {("雲帆智能", "filing")}
    assert found(nlp, "雲帆智能於2023年5月在港交所上市，其後股價反覆下跌。") == set()


def test_a_roundup_names_each_company_listed_before_its_count(nlp):
    text = "星河光芯(02511)、雲帆智能(02512)、晶算科技(02513)共3家公司今日一同在港交所上市。"
    assert found(nlp, text) == {("星河光芯", "debut"), ("雲帆智能", "debut"), ("晶算科技", "debut")}


def test_a_tally_of_companies_already_listed_is_history(nlp):
    text = "今年赴港的機器人企業中，星河光芯、雲帆智能、晶算科技3家已掛牌上市，其餘仍在排隊。"
    assert found(nlp, text) == set()


def test_pinyin_glosses_do_not_break_names_or_phrases(nlp):
    assert found(nlp, "雲帆(fān)智能今日正式啟動(dòng)招股，每股招股價12港元。") == {("雲帆智能", "pricing")}


def test_a_story_without_a_publication_date_is_dated_by_its_own_text(nlp):
    # Fetched in March 2026, telling of June 2024: the filing of that June is news in it.
    text = "2024年6月18日，雲帆智能向港交所遞交上市申請。"
    assert found(nlp, text, published=None) == {("雲帆智能", "filing")}
    day, exact = story_day(text, PUBLISHED)
    assert day == datetime(2024, 6, 18, tzinfo=timezone.utc) and exact
    assert story_day("雲帆智能在2024年的收入增長", PUBLISHED) == (datetime(2024, 12, 31, tzinfo=timezone.utc), False)


@pytest.mark.parametrize("text, expected", [
    ("募資約43.48億港元", (4.348e9, "HKD")),
    ("所得款项总额约为4,348.1百万港元", (4.3481e9, "HKD")),
    ("市值約500億港元", (None, None)),
])
def test_amounts(text, expected):
    amount, currency = parse_amount_zh(text)
    assert (round(amount, -5) if amount else None, currency) == (expected[0] and round(expected[0], -5), expected[1])


def test_a_name_before_a_date_is_the_subject_in_a_story_of_several_companies(nlp):
    # Without the subject, the clause would fall to the article's first company.
    text = ("新股速递:本周多家科技企业推进港股上市。\n"
            "云帆智能于3月2日向港交所递交上市申请。\n"
            "晶算科技于2026年3月9日通过港交所聆讯,拟在香港主板上市。")
    assert found(nlp, text) == {("云帆智能", "filing"), ("晶算科技", "hearing")}


def test_a_line_that_is_only_a_name_heads_the_paragraph_after_it(nlp):
    text = ("多家工控企业正谋求赴港上市,统计如下:\n"
            "云帆智能(301234.SZ)\n"
            "2026年3月2日向港交所递交招股书,中金公司为保荐人。\n"
            "晶算科技(688765.SH)\n"
            "2026年3月9日通过港交所上市聆讯。")
    assert found(nlp, text) == {("云帆智能", "filing"), ("晶算科技", "hearing")}


def test_respectively_gives_each_company_its_own_step(nlp):
    text = "云帆智能及晶算科技已分别递交港股上市申请及启动A股上市辅导。"
    assert found(nlp, text) == {("云帆智能", "filing")}


def test_companies_joined_before_a_together_word_share_the_stage(nlp):
    text = "两家独角兽云帆智能与 Lumora 本周上演闪电战,三天内相继向港交所递交招股书。"
    assert found(nlp, text) == {("云帆智能", "filing"), ("Lumora", "filing")}


def test_this_offering_is_the_article_s_company_not_a_neighbour_in_the_sentence(nlp):
    text = ("晶算科技今日起招股,基石投资者包括云帆智能。\n"
            "募资情况 - 本次发行定价为每股18.6港元,全球发售1200万股。")
    assert found(nlp, text) == {("晶算科技", "pricing")}


@pytest.mark.parametrize("text, expected", [
    ("据港交所官网,山东云帆科技股份有限公司于3月2日首次向港交所呈交了IPO(首次公开募股)申请文件。",
     {("山东云帆科技股份有限公司", "filing")}),
    ("内地空调制造商云帆电气上月中再入表申请上市,于昨晚上载通过上市聆讯的初步上市文件。", {("云帆电气", "hearing")}),
    # A company's Chinese name and its Latin name side by side: the known company.
    ("稀宇科技MiniMax于2026年3月9日通过港交所聆讯。", {("MiniMax", "hearing")}),
    # Not events: a path described, a help, a condition, a heading's plan.
    ("晶算科技从递表到上市,也有一套流程需要完成。", set()),
    ("新规有助于科技公司快速登陆港股市场。", set()),
    ("只要达到40亿市值,晶算科技就可以在港交所上市。", set()),
])
def test_more_ways_a_stage_is_written_and_ways_it_is_not(nlp, text, expected):
    assert found(nlp, text) == expected


def test_a_heading_s_plan_does_not_hedge_the_story_under_it(nlp):
    text = "分拆上市计划 - 云帆集团旗下AI芯片子公司晶算科技已于3月1日以保密形式向香港联交所提交上市申请表格。"
    assert found(nlp, text) == {("晶算科技", "filing")}


def test_a_new_share_data_sheet_reports_the_offering_of_the_company_it_heads(nlp):
    sheet = ("保荐人:中国国际金融香港证券有限公司\n"
             "招股价格:21.00港元-25.00港元\n"
             "每手股数  200股\n"
             "招股日期 2026年3月10日—2026年3月13日\n"
             "上市日期 2026年3月18日(星期三)")
    assert found(nlp, "$云帆智能(02512)$\n" + sheet) == {("云帆智能", "pricing")}
    assert found(nlp, sheet, title="$YUNFAN-W(HK|02512)$") == {("YUNFAN", "pricing")}


@pytest.mark.parametrize("text, expected", [
    ("3月12日,港股市场一次迎来两家机器人玩家——云帆智能(02512)与晶算科技(02513),双双高开。",
     {("云帆智能", "debut"), ("晶算科技", "debut")}),
    ("港交所迎来年内最拥挤的一天。", set()),
    ("港交所下周将迎来云帆智能(02512)上市。", set()),
])
def test_the_market_welcoming_companies_is_their_debut(nlp, text, expected):
    assert found(nlp, text) == expected


def test_listed_at_the_offer_price_on_a_day_in_chinese_numerals_is_a_debut(nlp):
    # Taiwan's and Hong Kong's papers write the day in words and tell the close after the offer price.
    assert found(nlp, "雲帆智能以發行價每股二十八．五港元上市，收在三十一港元，漲幅八．八％。") == {("雲帆智能", "debut")}
    assert found(nlp, "晶片設計商晶算科技，十二日在香港交易所上市，盤中一度大漲。") == {("晶算科技", "debut")}
    # A plan stays a plan.
    assert found(nlp, "雲帆智能將以發行價每股二十八港元上市。") == set()


def test_companies_named_in_a_clause_of_their_own_share_the_next_clause_s_stage(nlp):
    assert found(nlp, "機器人概念股雲帆智能和晶算科技，八日在香港交易所上市，首日表現分化。") == {
        ("雲帆智能", "debut"), ("晶算科技", "debut")}
    assert found(nlp, "被稱為「新四小龍」之一的雲帆智能，以及「晶片四小龍」之一的晶算科技，八日在香港交易所上市。") == {
        ("雲帆智能", "debut"), ("晶算科技", "debut")}
    # A clause between them breaks the thread: the stage is the last-named company's only.
    assert found(nlp, "雲帆智能和晶算科技，去年的收入都翻了一倍，晶算科技八日在香港交易所上市。") == {("晶算科技", "debut")}


def test_a_government_bureau_and_its_head_are_not_a_company(nlp):
    text = ("以下是創新科技及工業局局長今日出席雲帆智能上市儀式的致辭。\n"
            "今天我非常高興見證又一家企業在港成功上市。雲帆智能今天在這裏成功上市。")
    assert found(nlp, text, title="創新科技及工業局局長出席雲帆智能上市儀式") == {("雲帆智能", "debut")}


def test_a_crowd_of_companies_is_no_company(nlp):
    assert found(nlp, "AI企業密集赴港遞表，機器人企業紛紛赴港遞表。") == set()


def test_the_day_after_a_debut_is_not_the_debut(nlp):
    assert found(nlp, "與雲帆智能同為18C科技股的晶算科技（2627）承接首日升勢，昨日在港上市次日再升31.3%。") == set()
    assert found(nlp, "晶算科技（2627）昨日在港上市，首日升31.3%至43.7元。") == {("晶算科技", "debut")}
