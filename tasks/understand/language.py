"""Which language an article is written in: py3langid (langid.py's model, 97 languages).

The text decides when there is enough of it: page templates often declare `lang="en"`
on Chinese or Portuguese articles. The page's own declaration is the fallback for texts
too short to judge.
"""

from __future__ import annotations

import functools
import re

from schemas.records import Article

# Below this many characters of text the model guesses (a headline-length "Zhipu AI files
# for Hong Kong IPO" came out as Nigerian Pidgin); the page's declaration is kept instead.
# A Chinese or Japanese character carries about a word, so each counts as three.
MIN_CHARS = 100
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
# The model needs no more than this to be sure; reading more only costs time.
SAMPLE_CHARS = 3000


@functools.cache
def identifier():
    # Loaded on first use, once per process (0.7 s, 74 MB of tables): in each worker, which
    # identifies every article it analyses (tasks/per_article.py).
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE)


def declared_code(declared: str | None) -> str | None:
    """"en-GB", "zh_Hant", "EN" -> "en", "zh", "en"; None for anything that is not a code."""
    if not declared:
        return None
    code = declared.strip().lower().replace("_", "-").split("-")[0]
    return code if code.isalpha() and 2 <= len(code) <= 3 else None


def detect_language(text: str, declared: str | None = None) -> str | None:
    """ISO 639-1 code of the text's language (traditional and simplified Chinese are
    both "zh"); for a text too short to judge, the declared language, else None."""
    sample = " ".join(text[:SAMPLE_CHARS].split())
    if len(sample) + 2 * len(_CJK.findall(sample)) >= MIN_CHARS:
        code, _ = identifier().classify(sample)
        return code
    return declared_code(declared)


def identify_languages(articles: list[Article]) -> list[Article]:
    """The articles with `language` identified from their text, the language they
    declared (held in `language` until now) kept for texts too short to judge, and, for
    Chinese ones, the `script` ("Hant" or "Hans"; None for any other language)."""
    identified = []
    for article in articles:
        language = detect_language(article.text, article.language)
        identified.append(article.model_copy(update={"language": language, "script": article_script(language, article)}))
    return identified


def article_script(language: str | None, article: Article) -> str | None:
    """The script of a Chinese article, by its title and text; None for other languages."""
    if language != "zh":
        return None
    from tasks.understand.chinese import script_of

    return script_of(f"{article.title or ''}\n{article.text}")


def is_english(language: str | None, text: str) -> bool:
    """English by the recorded language; with none recorded (a short text that declared
    nothing), by the model's best guess, right more often than not."""
    if language:
        return declared_code(language) == "en"
    sample = " ".join(text[:SAMPLE_CHARS].split())
    return bool(sample) and identifier().classify(sample)[0] == "en"
