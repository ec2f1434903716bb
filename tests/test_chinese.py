"""Chinese text helpers: script, simplified form, words."""

import pytest

from tasks.understand import chinese


def test_script_is_told_by_the_characters_only_one_script_has():
    assert chinese.script_of("這家機器人公司今日通過港交所上市聆訊，將於下週掛牌") == "Hant"
    assert chinese.script_of("这家机器人公司今日通过港交所上市聆讯，将于下周挂牌") == "Hans"
    assert chinese.script_of("An English text naming 優必選 once") is None


def test_simplified_form_keeps_offsets():
    text = "智譜華章於香港聯交所掛牌"
    simplified = chinese.to_simplified(text)
    assert len(simplified) == len(text)
    assert simplified == "智谱华章于香港联交所挂牌"


def test_both_scripts_give_the_same_words():
    assert chinese.words("機器人公司通過聆訊") == chinese.words("机器人公司通过聆讯")
    assert "聆讯" in chinese.words("機器人公司通過聆訊")


def test_added_names_stay_whole_in_either_script():
    chinese.add_words(["雲躍星科"])
    assert "云跃星科" in chinese.words("雲躍星科今日遞表")
    assert "云跃星科" in chinese.words("云跃星科今日递表")


def test_word_spans_point_into_the_text_as_written():
    text = "港交所：某公司今日招股"
    for word, start, end in chinese.word_spans(text):
        assert chinese.to_simplified(text[start:end]).lower() == word


def test_chinese_text_is_told_from_english_and_japanese():
    assert chinese.is_chinese("機器人公司通過聆訊，預計下月掛牌。")
    assert chinese.is_chinese("AI芯片公司向港交所递表，拟募资10亿港元。")
    assert not chinese.is_chinese("UBTech (優必選) passed its listing hearing on Monday.")
    assert not chinese.is_chinese("東京証券取引所に上場する予定です。")


def test_a_chinese_text_counts_each_character_as_a_word():
    # 16 characters, and 15, 3,030 and L4
    assert chinese.word_count("馳遠科技擬集資15億港元，入場費約3,030元（L4級）") == 16 + 3


def test_known_names_are_words_from_the_start_in_every_process():
    # The segmenter's own dictionary cuts 優必選 into 优 + 必选; hkai's known names and
    # places are whole in every process, whether or not entities ran in it.
    assert "优必选" in chinese.words("優必選通過聆訊")
    assert "大湾区" in chinese.words("大灣區的科技公司")


@pytest.mark.parametrize("written, canonical", [
    ("稀宇科技MiniMax", "MiniMax"),  # a Chinese and a Latin name side by side
    ("MiniMax稀宇科技", "MiniMax"),
    ("知行汽车科技(苏州)股份有限公司", "Zhixing Technology"),  # a city in brackets inside the registered name
    ("諾比侃人工智能科技(成都)股份有限公司", "Nobikan"),  # traditional, with its trade words
    ("稀宇科技Apple", None),  # two different known companies are no one name
])
def test_known_names_as_articles_write_them(written, canonical):
    from tasks.names import known_name

    assert known_name(written) == canonical
