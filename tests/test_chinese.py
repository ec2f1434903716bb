"""Chinese text helpers: script, simplified form, words."""

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
