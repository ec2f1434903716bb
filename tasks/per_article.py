"""What each article tells of itself alone, before it meets the warehouse: its language
(and a Chinese one's script), the MinHash of its dedup text, and for a relevant one its
entities and the listing events it reports, read as if it were an original.

This runs where the pages are analysed (tasks/pool.py: a worker, or the run's own process
for a poll of a few pages), so the flow's process keeps only what needs the whole
warehouse: the dedup lookup, resolution against the registry, the lifecycle and the
load. A worker loads each model once in its life (`load_models`). Once dedup has run,
`originals_readings` drops what was read of the duplicates and merges the originals'
sightings: the same entities and events as when only originals were read
(tests/test_per_article.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from schemas.exchange import Issuer
from schemas.records import Article, ListingEvent, Seed
from tasks.listings.lifecycle import first_sightings


class IssuerNames(NamedTuple):
    """What the Chinese recogniser learns of an issuer (chinese_entities.learn_issuers):
    the registry's issuers travel to the workers as these, not as whole records."""

    name_en: str | None
    name_zh: str | None
    aliases: tuple[str, ...]


def issuer_names(issuers: Iterable[Issuer]) -> tuple[IssuerNames, ...]:
    """The names of the issuers that have a Chinese one, in the registry's order: the others
    teach the recogniser nothing."""
    from tasks.understand.chinese import HAN

    return tuple(IssuerNames(i.name_en, i.name_zh, tuple(i.aliases)) for i in issuers
                 if any(name and HAN.search(name) for name in (i.name_zh, *i.aliases)))


def load_models() -> None:
    """Load what every article needs, once per process: py3langid's tables (74 MB) and
    datasketch's MinHash (numpy only). The models only relevant articles need load with
    the first one a process meets, and stay for its life: spaCy (~90 MB) for English,
    jieba (~150 MB) for Chinese. A crawl of general news may meet few (bench/README.md)."""
    from tasks.understand.dedup import signature
    from tasks.understand.language import identifier

    identifier()
    signature("warm up")


def understand_articles(articles: Sequence[Article | None],
                        issuers: Sequence[IssuerNames] = ()) -> list[Article | None]:
    """Each article (None stays None) with its language and script, its `minhash`, and,
    when relevant, its `entities` and `listing_events` (none merged across articles).
    `issuers` are the registry's names the Chinese recogniser learns first."""
    from tasks.understand.dedup import article_signature
    from tasks.understand.language import identify_languages

    present = identify_languages([a for a in articles if a is not None])
    present = [a.model_copy(update={"minhash": article_signature(a).tobytes()}) for a in present]
    if any(a.is_relevant for a in present):
        from tasks.listings.detect import sightings_by_article
        from tasks.understand.nlp import extract_entities, load_nlp

        nlp = load_nlp()
        present = extract_entities(nlp, present, issuers=issuers)
        present = [a.model_copy(update={"listing_events": events}) if events else a
                   for a, events in zip(present, sightings_by_article(nlp, present))]
    done = iter(present)
    return [None if a is None else next(done) for a in articles]


def understand_seeds(seeds: Sequence[Seed]) -> tuple[dict[str, bytes], list[ListingEvent]]:
    """The seeds' MinHashes by seed_id, and the listings they report (known, never alerted)."""
    from tasks.listings.detect import known_listings_from_seeds
    from tasks.understand.dedup import seed_signature
    from tasks.understand.nlp import load_nlp

    return ({seed.seed_id: seed_signature(seed).tobytes() for seed in seeds},
            known_listings_from_seeds(load_nlp(), list(seeds)))


def originals_readings(articles: Sequence[Article]) -> tuple[list[Article], list[ListingEvent]]:
    """After dedup: the articles with a duplicate's entities and events dropped, and the
    relevant originals' sightings merged, one per company and stage (what reading only
    the originals gave: detect.detect_listing_events)."""
    kept = [a if a.duplicate_of is None else a.model_copy(update={"entities": [], "listing_events": []})
            for a in articles]
    return kept, first_sightings([e for a in kept if a.is_relevant for e in a.listing_events])
