"""Search terms: the words of a query, and of a text for its snippet, in the one form
they are matched in.

An English (or any non-Chinese) word is matched by its lemma (tasks/understand/english.py):
"listings" and "listed" meet "listing", "heart" stays apart from "hearing". Chinese is
cut into words by the project's segmenter (tasks/understand/chinese.py: jieba, in
simplified form), so either script finds the other and a word never matches the middle
of another. The search index (tasks/search.py) holds the same words: folded word
forms for the one, segmented Chinese for the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tasks.understand import chinese
from tasks.understand.english import fold, lemma

HAN_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HAN = re.compile(f"[{HAN_CLASS}]")
# A token is a run of Han characters (cut into words after) or of other letters and digits.
TOKEN = re.compile(rf"[{HAN_CLASS}]+|[^\W_{HAN_CLASS}]+")
APOSTROPHES = "'’"
# Words a query leaves out unless they are all it has or stand in quotes; the index keeps
# them, for phrases ("Bank of China").
ENGLISH_STOPWORDS = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the their this to was were will with"
    .split())
CHINESE_STOPWORDS = frozenset("的 了 在 是 和 与 及 或 之 将 于 也 就 都 而 把 被 对".split())
# Distinct words remembered with their term; the memory is dropped when it grows past
# this (a long-running `hkai serve` makes snippets for years).
MAX_REMEMBERED = 100_000


class _Terms(dict):
    """A word as written -> its term, computed once per distinct word."""

    def __missing__(self, word: str) -> str:
        if len(self) >= MAX_REMEMBERED:
            self.clear()
        term = self[word] = lemma(fold(word))
        return term


_TERMS = _Terms()


def word_term(word: str) -> str:
    """The term of a non-Chinese word: its folded lemma (Listings -> list)."""
    return _TERMS[word]


def is_possessive_s(text: str, start: int) -> bool:
    """Whether the token "s" at `start` is the end of a possessive (Huawei's): no word.
    The index drops it too, so "Huawei chips" is a phrase in "Huawei's chips"."""
    return start >= 2 and text[start - 1] in APOSTROPHES and not text[start - 2].isspace()


def term_spans(text: str, segment_chinese: bool = True) -> list[tuple[str, int, int, bool]]:
    """(term, start, end, is Chinese) of every word of the text, offsets into the text as
    written. Without `segment_chinese` a run of Chinese is one span, as written: the
    segmenter's dictionary takes half a second to load, which a snippet for an English
    query need not pay."""
    spans = []
    for match in TOKEN.finditer(text):
        start, token = match.start(), match.group()
        if HAN.match(token):
            if not segment_chinese:
                spans.append((token, start, match.end(), True))
                continue
            spans.extend((word, start + s, start + e, True) for word, s, e in chinese.word_spans(token))
        elif not (token in ("s", "S") and is_possessive_s(text, start)):
            spans.append((_TERMS[token], start, match.end(), False))
    return spans


# -- queries ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class QueryWord:
    """One thing the reader asked for: a word, or a phrase whose terms must stand in a row
    ("quoted", a hyphenated word, a Chinese name the segmenter cuts in two). Its terms are
    all Chinese words or all lemmas of other words."""

    text: str  # as typed
    terms: tuple[str, ...]
    chinese: bool = False

    @property
    def is_phrase(self) -> bool:
        return len(self.terms) > 1


QUOTED = re.compile(r'"([^"]*)"?|“([^”]*)”?|「([^」]*)」?')


def parse_query(query: str) -> list[QueryWord]:
    """The query's words and phrases, in order, without repeats; English and Chinese
    common words are left out unless quoted or nothing else is asked for. Empty when the
    query has no words at all."""
    words: list[tuple[QueryWord, bool]] = []  # (word, is a common word)
    position = 0
    for match in QUOTED.finditer(query):
        words.extend(_loose_words(query[position:match.start()]))
        inside = next((g for g in match.groups() if g is not None), "")
        words.extend((word, False) for word in _quoted_words(inside))
        position = match.end()
    words.extend(_loose_words(query[position:]))
    kept = [word for word, common in words if not common] or [word for word, _ in words]
    unique: dict[tuple[tuple[str, ...], bool], QueryWord] = {}
    for word in kept:
        unique.setdefault((word.terms, word.chinese), word)
    return list(unique.values())


def _runs(spans: list[tuple[str, int, int, bool]]) -> list[list[tuple[str, int, int, bool]]]:
    """The spans in runs of one kind (Chinese or not)."""
    runs: list[list[tuple[str, int, int, bool]]] = []
    for span in spans:
        if runs and runs[-1][-1][3] == span[3]:
            runs[-1].append(span)
        else:
            runs.append([span])
    return runs


def _word(text: str, run: list[tuple[str, int, int, bool]]) -> QueryWord:
    return QueryWord(" ".join(text[run[0][1]:run[-1][2]].split()), tuple(s[0] for s in run), run[0][3])


def _quoted_words(text: str) -> list[QueryWord]:
    """A quoted phrase: one phrase per run of Chinese or other words in it."""
    return [_word(text, run) for run in _runs(term_spans(text))]


def _loose_words(text: str) -> list[tuple[QueryWord, bool]]:
    found = []
    for chunk in text.split():
        for run in _runs(term_spans(chunk)):
            if run[0][3]:
                found.extend(_chinese_words(chunk, run))
            else:
                # Letters and digits of one chunk stay together: chip-maker, U.S., HK$2.
                word = _word(chunk, run)
                found.append((word, len(run) == 1 and fold(word.text) in ENGLISH_STOPWORDS))
    return found


def _chinese_words(chunk: str, spans: list[tuple[str, int, int, bool]]) -> list[tuple[QueryWord, bool]]:
    """Each Chinese word is a query word, but a single character stays with the word
    after it (or before it, at the end) as a phrase: a name the segmenter does not know
    falls apart into single characters (優必選: 优 + 必选), and a single character alone
    would match any text where it stands as a word of its own."""
    groups: list[list[tuple[str, int, int, bool]]] = []
    pending: list[tuple[str, int, int, bool]] = []
    for span in spans:
        if len(spans) > 1 and span[0] in CHINESE_STOPWORDS:
            if pending:
                groups.append(pending)
                pending = []
            groups.append([span])
            continue
        pending.append(span)
        if span[2] - span[1] > 1:
            groups.append(pending)
            pending = []
    if pending:
        if groups and groups[-1][-1][0] not in CHINESE_STOPWORDS and groups[-1][-1][2] == pending[0][1]:
            groups[-1].extend(pending)
        else:
            groups.append(pending)
    return [(_word(chunk, group), len(group) == 1 and group[0][0] in CHINESE_STOPWORDS) for group in groups]
