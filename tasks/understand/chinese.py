"""Chinese text: its script, one form for matching (simplified, through OpenCC), and its
words (jieba, whose dictionary ships in its package: nothing is downloaded).

Traditional and simplified writings of one word must meet, in search, dedup and names, so
every comparison is made on the simplified form, while what is stored and shown stays as
written. OpenCC's character tables map one character to one character, so offsets found
in the simplified form are offsets in the original too.
"""

from __future__ import annotations

import functools
import re
import threading
import warnings
from collections.abc import Iterable

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
# A run of Latin letters or digits, a number's separators included ("3,030", "30.3").
_OTHER_WORD = re.compile(r"[^\W\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+(?:[.,]\d+)*")
# A token worth indexing or comparing: Han characters, Latin letters or digits.
_WORDLIKE = re.compile(r"[\w\u3400-\u4dbf\u4e00-\u9fff]", re.UNICODE)
# Below this many Han characters whose form differs between the scripts, a text has no
# script worth recording (a name or two in an English text).
MIN_SCRIPT_EVIDENCE = 3

_lock = threading.Lock()


def han_count(text: str) -> int:
    return len(HAN.findall(text))


def word_count(text: str) -> int:
    """Words of a Chinese text as Chinese publishing counts them (字數): each Han
    character, plus each run of Latin letters or digits."""
    return han_count(text) + len(_OTHER_WORD.findall(text))


def is_chinese(text: str) -> bool:
    """Mostly Chinese: more Han characters than Latin words, and not Japanese (whose
    sentences all have kana: a Chinese text has at most a name in katakana)."""
    han = han_count(text)
    return han > 0 and han >= len(re.findall(r"[A-Za-z]+", text)) and 10 * len(_KANA.findall(text)) < han


@functools.cache
def _converter(config: str):
    import opencc

    return opencc.OpenCC(config)


def to_simplified(text: str) -> str:
    """The text in simplified characters (character for character: offsets are kept)."""
    if not HAN.search(text):
        return text
    converted = _converter("t2s").convert(text)
    # OpenCC's phrase tables can change a phrase's length; keep offsets stable then by
    # converting character by character.
    if len(converted) != len(text):
        converted = "".join(_converter("t2s").convert(c) if HAN.match(c) else c for c in text)
    return converted


# Full-width ASCII forms to ASCII and the ideographic space to a space, one character for one.
_FULL_WIDTH = str.maketrans({chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)} | {"\u3000": " "})


def fold(text: str) -> str:
    """The form Chinese text is matched in: simplified characters, ASCII for full-width
    letters, digits and punctuation; offsets are those of the text as written."""
    return to_simplified(text).translate(_FULL_WIDTH)


def fold_width(text: str) -> str:
    """The text with full-width letters, digits and punctuation as ASCII (its script kept)."""
    return text.translate(_FULL_WIDTH)


def to_traditional(text: str) -> str:
    return _converter("s2t").convert(text) if HAN.search(text) else text


def script_of(text: str) -> str | None:
    """"Hant" or "Hans" for a Chinese text, by which characters only one script has; None
    when the text has too few such characters to tell."""
    sample = "".join(HAN.findall(text[:20000]))
    if not sample:
        return None
    traditional_only = sum(a != b for a, b in zip(sample, _converter("t2s").convert(sample)))
    simplified_only = sum(a != b for a, b in zip(sample, _converter("s2t").convert(sample)))
    if max(traditional_only, simplified_only) < MIN_SCRIPT_EVIDENCE:
        return None
    return "Hant" if traditional_only > simplified_only else "Hans"


@functools.cache
def _tokenizer():
    with warnings.catch_warnings():  # jieba imports pkg_resources, which warns on import
        warnings.simplefilter("ignore")
        import jieba

    jieba.setLogLevel(60)  # its dictionary-loading messages are not the user's business
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    # Known organisations, places and trade terms are words from the start, so a text
    # segments the same in every process whether or not entities ran in it before.
    from tasks.understand.chinese_entities import dictionary_words

    for word, tag in dictionary_words():
        tokenizer.add_word(word, freq=max(tokenizer.suggest_freq(word, tune=False), 1000), tag=tag)
    return tokenizer


def add_words(words: Iterable[str], tag: str | None = None) -> None:
    """Teach the segmenter names it should keep whole (companies' Chinese names), in
    either script; `tag` is their part of speech for `tagged_spans` ("nt" an
    organisation, "ns" a place)."""
    tokenizer = _tokenizer()
    with _lock:
        for word in words:
            word = to_simplified(word.strip())
            if len(word) >= 2 and HAN.search(word):
                tokenizer.add_word(word, freq=max(tokenizer.suggest_freq(word, tune=False), 1000), tag=tag)


def is_dictionary_word(word: str) -> bool:
    """The segmenter's dictionary has the word (simplified) as a word of its own."""
    return bool(_tokenizer().FREQ.get(word))


@functools.cache
def _tagger():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import jieba.posseg

    return jieba.posseg.POSTokenizer(_tokenizer())


def tagged_spans(text: str) -> list[tuple[str, str, int, int]]:
    """(word in simplified form, jieba part-of-speech tag, start, end) of every token of
    the text, spaces and punctuation included, offsets into the text as written. Tags
    that name things: nr a person, ns a place, nt an organisation, nz another proper noun."""
    spans = []
    position = 0
    with _lock:  # the tagger merges words added since its last call into its tables
        tokens = list(_tagger().cut(to_simplified(text)))
    for token in tokens:
        start, position = position, position + len(token.word)
        spans.append((token.word, token.flag, start, position))
    return spans


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """(word in simplified form, start, end) of every word of the text, offsets into the
    text as written; punctuation and spaces are not words."""
    simplified = to_simplified(text)
    spans = []
    position = 0
    for token in _tokenizer().cut(simplified):
        start, position = position, position + len(token)
        if _WORDLIKE.search(token):
            spans.append((token.strip().lower(), start, position))
    return [s for s in spans if s[0]]


def words(text: str) -> list[str]:
    """The words of a Chinese (or mixed) text, simplified and lower-cased, for indexing and
    matching: "優必選通過聆訊" and "优必选通过聆讯" give the same words."""
    return [word for word, _, _ in word_spans(text)]
