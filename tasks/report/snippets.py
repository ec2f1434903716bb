"""Search snippets: the passage of an article that best shows why it matched, with the
matched words marked."""

from __future__ import annotations

import re

# A Han character is a word of its own (as in the search index); other words are runs of
# letters and digits.
HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
TOKEN = re.compile(rf"[{HAN_RANGES}]|[^\W{HAN_RANGES}]+")
WINDOW_WORDS = 36


def matches_stem(word: str, stem: str) -> bool:
    """Whether `word` is a form of the Porter stem `stem` (listing ~ list, company ~ compani).
    Short stems must match exactly, so 'ai' marks 'AI' but not 'aim'."""
    word = word.casefold()
    if word == stem:
        return True
    if len(stem) < 3 or len(word) < len(stem) - 1:
        return False
    common = 0
    for a, b in zip(word, stem):
        if a != b:
            break
        common += 1
    return common >= len(stem) - (1 if stem.endswith("i") else 0)


def make_snippet(text: str, stems: list[str], open_mark: str = "**", close_mark: str = "**",
                 window: int = WINDOW_WORDS) -> str:
    """About `window` words of `text` around the densest cluster of the query's words, the
    matched ones wrapped in the marks; the text's opening when nothing matches."""
    tokens = [(m.start(), m.end(), m.group()) for m in TOKEN.finditer(text)]
    if not tokens:
        return ""
    matched = [next((s for s in stems if matches_stem(word, s)), None) for _, _, word in tokens]
    best_start, best_score = 0, (0, 0)
    for start in range(0, max(1, len(tokens) - window + 1)):
        found = [s for s in matched[start:start + window] if s]
        score = (len(set(found)), len(found))
        if score > best_score:
            best_start, best_score = start, score
        if not found and start > 0 and best_score[0] == len(stems):
            break
    # Open the window a few words before the first match, so the sentence reads (but
    # keep it full near the end of the text).
    first = next((i for i in range(best_start, min(best_start + window, len(tokens))) if matched[i]), None)
    start = best_start if first is None else max(0, min(first - 4, len(tokens) - window))
    end = min(len(tokens), start + window)
    pieces, cursor = [], tokens[start][0]
    for i in range(start, end):
        begin, stop, word = tokens[i]
        pieces.append(text[cursor:begin])
        pieces.append(f"{open_mark}{word}{close_mark}" if matched[i] else word)
        cursor = stop
    if end == len(tokens):
        pieces.append(text[cursor:])  # the closing punctuation
    # Paragraphs and runs of spaces become one space; neighbouring marked words (Han
    # characters) one marked run.
    snippet = " ".join("".join(pieces).split()).replace(close_mark + open_mark, "")
    return ("… " if start > 0 else "") + snippet + (" …" if end < len(tokens) else "")
