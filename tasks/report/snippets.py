"""Search snippets: the passage of an article that best shows why it matched, with the
matched words marked. Words are matched as the index matches them
(tasks/understand/terms.py): English by lemma, Chinese by segmented word, a phrase only
where its words stand in a row."""

from __future__ import annotations

from tasks.understand.terms import QueryWord, term_spans

WINDOW_WORDS = 36


def matched_spans(text: str, words: list[QueryWord]) -> tuple[list[tuple[int, int]], list[int | None]]:
    """The text's word spans, and for each the index of the query word it is part of
    (None: no match)."""
    spans = term_spans(text, segment_chinese=any(word.chinese for word in words))
    keys = [(term, is_chinese) for term, _, _, is_chinese in spans]
    matched: list[int | None] = [None] * len(spans)
    for number, word in enumerate(words):
        # A Chinese phrase matches as one word too, as in the index (tasks/search.py).
        forms = [[(term, word.chinese) for term in word.terms]]
        if word.chinese and word.is_phrase:
            forms.append([("".join(word.terms), True)])
        for wanted in forms:
            size = len(wanted)
            for i in range(len(keys) - size + 1):
                if keys[i] == wanted[0] and keys[i:i + size] == wanted:
                    matched[i:i + size] = [number] * size
    return [(start, end) for _, start, end, _ in spans], matched


def make_snippet(text: str, words: list[QueryWord], open_mark: str = "**", close_mark: str = "**",
                 window: int = WINDOW_WORDS) -> str:
    """About `window` words of `text` around the passage with the most of the query's
    words, the matched ones wrapped in the marks; the text's opening when nothing matches."""
    tokens, matched = matched_spans(text, words)
    if not tokens:
        return ""
    best_start, best_score = 0, (0, 0)
    for start in range(0, max(1, len(tokens) - window + 1)):
        found = [m for m in matched[start:start + window] if m is not None]
        score = (len(set(found)), len(found))
        if score > best_score:
            best_start, best_score = start, score
        if not found and start > 0 and best_score[0] == len(words):
            break
    # Open the window a few words before the first match, so the sentence reads (but
    # keep it full near the end of the text).
    first = next((i for i in range(best_start, min(best_start + window, len(tokens))) if matched[i] is not None), None)
    start = best_start if first is None else max(0, min(first - 4, len(tokens) - window))
    end = min(len(tokens), start + window)
    pieces, cursor, i = [], tokens[start][0], start
    while i < end:
        begin, stop = tokens[i]
        pieces.append(text[cursor:begin])
        if matched[i] is None:
            pieces.append(text[begin:stop])
        else:
            # A phrase's words are marked as one run, with what stands between them.
            while i + 1 < end and matched[i + 1] == matched[i] and words[matched[i]].is_phrase:
                i += 1
                stop = tokens[i][1]
            pieces.append(f"{open_mark}{text[begin:stop]}{close_mark}")
        cursor = stop
        i += 1
    if end == len(tokens):
        pieces.append(text[cursor:])  # the closing punctuation
    # Paragraphs and runs of spaces become one space; neighbouring marked words (a phrase,
    # Chinese words) one marked run.
    snippet = " ".join("".join(pieces).split()).replace(close_mark + open_mark, "")
    return ("… " if start > 0 else "") + snippet + (" …" if end < len(tokens) else "")
