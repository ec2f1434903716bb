"""Per-article work where the pages are analysed: each article read alone (language,
MinHash, entities, listing events) gives, once dedup has run and a duplicate's reading is
dropped, what reading only the originals in the flow's process gave."""

from __future__ import annotations

import numpy as np

from tasks.listings.detect import detect_listing_events
from tasks.per_article import IssuerNames, issuer_names, originals_readings, understand_articles
from tasks.understand.dedup import DedupIndex, dedup_articles, signature
from tasks.understand.language import identify_languages
from tasks.understand.nlp import extract_entities, load_nlp
from tasks.understand.normalise import dedup_text, normalise_article
from tasks.understand.relevance import score_relevance
from testbed.listing_passages import load_passages, passage_article

THRESHOLD = 0.5


def _scored(items: list[dict]):
    return [score_relevance(normalise_article(passage_article(item)), THRESHOLD) for item in items]


def _with_copies(articles):
    """The articles, then an exact copy and a near copy (a sentence added) of the first
    relevant ones, under other ids: a batch with duplicates that report events."""
    relevant = [a for a in articles if a.is_relevant][:4]
    copies = []
    for n, article in enumerate(relevant):
        text = article.text if n % 2 == 0 else article.text + "\nShares were not traded on Friday."
        copy = article.model_copy(update={"article_id": f"copy-{n}", "url": f"https://copy.example/{n}",
                                          "canonical_url": f"https://copy.example/{n}", "text": text})
        copies.append(normalise_article(copy.model_copy(update={"normalized_text": None, "content_hash": None})))
    return articles + [score_relevance(c, THRESHOLD) for c in copies]


def test_articles_read_alone_give_what_reading_only_the_originals_gave():
    batch = _with_copies(_scored(load_passages("holdout") + load_passages("holdout4")))
    nlp = load_nlp()

    # Before: languages, dedup, then entities and events of the originals in one process.
    before = dedup_articles(DedupIndex(), identify_languages(batch))
    before_entities = extract_entities(nlp, before)
    before_events = detect_listing_events(nlp, before_entities)

    # Now: each chunk read alone (in chunks of 8, as an ingest sends them), then dedup on
    # the workers' MinHashes, and what the duplicates told dropped.
    read = [a for i in range(0, len(batch), 8) for a in understand_articles(batch[i:i + 8])]
    after, events = originals_readings(dedup_articles(DedupIndex(), read))

    assert sum(a.duplicate_of is not None for a in after) >= 4  # the copies were found
    assert any(a.listing_events for a in read if a.article_id.startswith("copy-"))  # ... and read alone
    assert [(a.article_id, a.language, a.script, a.duplicate_of, a.similarity) for a in after] == \
        [(a.article_id, a.language, a.script, a.duplicate_of, a.similarity) for a in before]
    assert [a.entities for a in after] == [a.entities for a in before_entities]
    assert events == before_events and events


def test_a_workers_minhash_is_the_signature_of_the_dedup_text():
    (article,) = understand_articles(_scored(load_passages("holdout")[:1]))
    assert np.array_equal(np.frombuffer(article.minhash, dtype=np.uint32),
                          signature(dedup_text(article.normalized_text)))
    assert understand_articles([None, None]) == [None, None]


def test_an_irrelevant_article_is_not_parsed():
    articles = _scored(load_passages("holdout"))
    irrelevant = [a for a in articles if not a.is_relevant][:3]
    assert irrelevant
    assert all(not a.entities and not a.listing_events and a.minhash for a in understand_articles(irrelevant))


def test_issuers_travel_to_the_workers_as_their_chinese_names_only():
    from schemas.exchange import Issuer

    issuers = [Issuer(issuer_id="sehk-1", hkex_id=1, board="sehk", name_en="Knowledge Atlas Technology",
                      name_zh="北京智譜華章科技股份有限公司", aliases=["Zhipu AI"], status="active", company_id="sehk-1"),
               Issuer(issuer_id="sehk-2", hkex_id=2, board="sehk", name_en="Harbour Robotics", status="active",
                      company_id="sehk-2", aliases=["Harbour Bots"])]
    assert issuer_names(issuers) == (IssuerNames("Knowledge Atlas Technology", "北京智譜華章科技股份有限公司", ("Zhipu AI",)),)
