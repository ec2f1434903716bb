"""Chinese text helpers: script, simplified form, words."""

import json
import random
import subprocess
import sys
from pathlib import Path

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


# -- the word store: jieba's table read in blocks, as `hkai search` cuts ----------------------


PROJECT = Path(__file__).resolve().parents[1]


def _chinese_texts() -> list[str]:
    """The Chinese passages of the test data, simplified: every string of the labelled
    records with Han characters in it, and the Chinese news pages' lines."""
    def strings(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict | list):
            for item in value.values() if isinstance(value, dict) else value:
                yield from strings(item)

    texts = []
    for path in sorted((PROJECT / "tests" / "data").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            texts += [text for text in strings(json.loads(line)) if chinese.HAN.search(text)]
    encodings = {"utf8": "utf-8", "big5": "big5hkscs", "gbk": "gbk", "gb18030": "gb18030"}
    for path in sorted((PROJECT / "tests" / "data" / "chinese_pages").glob("*.html")):
        encoding = next(codec for key, codec in encodings.items() if f".{key}" in path.name)
        lines = path.read_bytes().decode(encoding, errors="replace").splitlines()
        texts += [line.strip() for line in lines if chinese.han_count(line) >= 4]
    return [chinese.to_simplified(text) for text in dict.fromkeys(texts)]


def test_the_word_store_cuts_every_text_as_the_whole_table_does(tmp_path):
    dictionary_words = chinese._dictionary_words()
    whole = chinese._new_tokenizer(dictionary_words)  # this process's may have been taught names
    path = chinese.write_word_store(whole, dictionary_words, tmp_path)
    assert path is not None and path.parent == tmp_path
    texts = _chinese_texts()
    assert len(texts) > 50 and sum(map(len, texts)) > 5000
    rng = random.Random(24)
    characters = sorted(set("".join(texts))) + list("AIabc019.%-+ ")
    texts += ["".join(rng.choice(characters) for _ in range(rng.randint(1, 40))) for _ in range(300)]
    texts += ["优必选通过聆讯", "大湾区的科技公司", "云跃星科今日递表", "A股H股", "3C电子", "黑芝麻智能首日挂牌"]
    shared = chinese.StoredTokenizer(path)  # keeps what earlier texts loaded
    for number, text in enumerate(texts):
        expected = list(whole.cut(text))
        assert list(shared.cut(text)) == expected, text
        assert list(shared.cut(text, HMM=False)) == list(whole.cut(text, HMM=False)), text
        if number % 10 == 0:  # a fresh store loads only this text's blocks
            assert list(chinese.StoredTokenizer(path).cut(text)) == expected, text


SEGMENTER_PROBE = """
import json, sys
from pathlib import Path
from tasks.understand import chinese
chinese._store_dirs = lambda: [Path(sys.argv[1])]
words = chinese.words("優必選通過港交所上市聆訊，大灣區的科技公司雲躍星科今日遞表")
print(json.dumps({"words": words, "whole_table": chinese._tokenizer.cache_info().currsize,
                  "pkg_resources": "pkg_resources" in sys.modules,
                  "stores": sorted(p.name for p in Path(sys.argv[1]).iterdir())}))
"""


def test_a_process_without_a_store_loads_the_whole_table_and_writes_one_for_the_next(tmp_path):
    def probe() -> dict:
        result = subprocess.run([sys.executable, "-c", SEGMENTER_PROBE, str(tmp_path)], capture_output=True,
                                text=True, cwd=PROJECT)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    first, second = probe(), probe()
    assert first["whole_table"] == 1 and len(first["stores"]) == 1  # loaded jieba's table, wrote the store
    assert second["whole_table"] == 0 and second["stores"] == first["stores"]  # read the store instead
    assert first["words"] == second["words"] == chinese.words("优必选通过港交所上市聆讯，大湾区的科技公司云跃星科今日递表")
    assert "优必选" in second["words"] and "大湾区" in second["words"]  # the dictionary words
    assert not first["pkg_resources"] and not second["pkg_resources"]  # jieba imported without it


def test_a_store_of_another_dictionary_is_not_read(tmp_path, monkeypatch):
    whole = chinese._new_tokenizer([])
    path = chinese.write_word_store(whole, [], tmp_path)
    monkeypatch.setattr(chinese, "_store_dirs", lambda: [tmp_path])
    chinese._stored_tokenizer.cache_clear()
    try:
        assert chinese._find_store(chinese._store_name(chinese._dictionary_words())) is None
        assert chinese._stored_tokenizer() is None  # a store without the dictionary words
        assert chinese.StoredTokenizer(path).name == path.name
    finally:
        chinese._stored_tokenizer.cache_clear()


def test_a_new_store_removes_all_but_the_newest_of_the_older_ones(tmp_path):
    import os
    from types import SimpleNamespace

    table = SimpleNamespace(FREQ={"聆": 10, "聆讯": 5}, total=15)
    paths = []
    for number in range(5):
        paths.append(chinese.write_word_store(table, [(f"词{number}", "n")], tmp_path))
        os.utime(paths[-1], (1_000_000 + number, 1_000_000 + number))  # written in this order
    kept = sorted(path.name for path in tmp_path.iterdir())
    assert kept == sorted(path.name for path in paths[-1 - chinese._OTHER_STORES_KEPT:])
    assert [word for word in chinese.StoredTokenizer(paths[-1]).cut("聆讯")] == ["聆讯"]
