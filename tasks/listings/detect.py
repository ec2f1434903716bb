"""Listing events in news text: which company filed, cleared its hearing, priced or debuted.

Pure: takes the spaCy pipeline (tasks.understand.nlp.load_nlp) and articles or seeds,
returns ListingEvent records. A sentence yields an event only when a stage phrase
(tasks/listings/rules.py) governs a named company in the dependency tree, the sentence is
about a stock listing, and the verb is neither hedged, negated, future nor historical.
Precision comes first: a missed sentence is usually repeated elsewhere, a false alert is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span, Token

from schemas.records import STAGE_RANK, Article, ListingEvent, Seed, listing_event_id
from tasks.listings import parsers, rules
from tasks.listings.names import KNOWN_ORGS, canonical_name


def _require_parser(nlp: Language) -> None:
    if not nlp.has_pipe("parser") or not nlp.has_pipe("lemmatizer"):
        raise ValueError("listing detection needs spaCy's parser and lemmatizer (tasks.understand.nlp.load_nlp)")


@dataclass
class _Found:
    company: str
    stage: str
    exchange: str
    stock_code: str | None
    amount: float | None
    currency: str | None
    event_date: datetime | None
    evidence: str


@dataclass
class _Context:
    """What a document has said so far: the company "it" and "the company" refer to."""

    reference: datetime | None
    known: bool
    recent: list[tuple[int, str, int]] = field(default_factory=list)  # (sentence no, company, char)
    sentence_no: int = 0
    previous: str = ""


# --- the dependency tree ----------------------------------------------------------------

def _governor(token: Token) -> Token:
    """The verb a stage phrase hangs on ("debut" in "made its debut" -> "made")."""
    current = token
    while current.pos_ not in ("VERB", "AUX") and current.head.i != current.i:
        current = current.head
    return current if current.pos_ in ("VERB", "AUX") else token


def _clause_chain(verb: Token) -> Iterator[Token]:
    """The verb and the verbs it is an open complement or conjunct of, up to its clause."""
    current = verb
    yield current
    while current.dep_ in ("xcomp", "conj", "ccomp", "advcl", "aux", "pcomp", "prep") and current.head.i != current.i:
        current = current.head
        if current.pos_ in ("VERB", "AUX"):
            yield current


def _is_hedged(verb: Token, stage_rule: str) -> bool:
    for clause_verb in _clause_chain(verb):
        for child in clause_verb.children:
            if child.dep_ == "neg" or child.lower_ in rules.HEDGE_WORDS:
                return True
            if child.dep_ in ("aux", "auxpass") and child.lower_ == "will" and stage_rule != "schedule":
                return True
        if clause_verb.lemma_.lower() in rules.RUMOUR_VERBS and any(
                c.dep_ == "nsubj" and c.lemma_.lower() in rules.RUMOUR_SOURCES for c in clause_verb.children):
            return True
        if clause_verb.i != verb.i or stage_rule != "schedule":
            lemma = clause_verb.lemma_.lower()
            if lemma in rules.HEDGE_LEMMAS and not (stage_rule == "schedule" and lemma in rules.SCHEDULE_OK):
                return True
    return False


def _is_aside(verb: Token) -> bool:
    """A clause that describes a name in passing: "SenseTime, which listed in 2021," or
    "SenseTime, listed since 2021,". The parser also tags some main clauses relcl, so a
    relative clause counts only with a relative pronoun or as a bare participle."""
    if verb.dep_ == "amod":
        return True
    if verb.dep_ not in ("relcl", "acl", "appos"):
        return False
    if any(c.tag_ in ("WDT", "WP", "WP$") or c.lower_ == "that" for c in verb.subtree if c.i < verb.i):
        return True
    return verb.tag_ == "VBN" and not any(c.dep_ in ("aux", "auxpass", "nsubj") for c in verb.children)


def _is_prospective(noun: Token, verb: Token) -> bool:
    """A stage noun the sentence looks forward to: "for a January debut", "ahead of its debut"."""
    current = noun
    while current.i != verb.i and current.head.i != current.i:
        current = current.head
        if current.lower_ in ("for", "before", "ahead", "until", "pending", "prior", "toward", "towards"):
            return True
    return False


def _is_historical(verb: Token, sentence: Span, reference: datetime | None) -> bool:
    """True when the stage phrase describes an old listing ("which listed in 2021")."""
    for clause_verb in _clause_chain(verb):
        if _is_aside(clause_verb):
            return True
    if rules.HISTORICAL_WORDS.search(sentence.text):
        return True
    for ent in sentence.ents:
        if ent.label_ != "DATE" or _governor(ent.root).i != verb.i:
            continue
        years = [int(y) for y in parsers.YEAR.findall(ent.text)]
        if reference and years:
            latest = datetime(max(years), 12, 31, tzinfo=timezone.utc)
            if (reference - latest).days > rules.HISTORY_DAYS:
                return True
        found = parsers.parse_date(ent.text, reference)
        if reference and found and (reference - found).days > rules.HISTORY_DAYS:
            return True
    return False


def _org_entities(span: Span | Iterable[Token], sentence: Span) -> list[Span]:
    """Issuers named among the tokens: ORG entities, else proper names the small model
    missed or mislabelled ("Pony AI" as PERSON, "XtalPi" as CARDINAL, "Moore Threads")."""
    tokens = sorted(span, key=lambda t: t.i)
    indices = {t.i for t in tokens}
    found = [e for e in sentence.ents if e.root.i in indices and _is_issuer(e)]
    labelled = {t.i for e in sentence.ents if e.label_ not in rules.MISLABELLED for t in e}
    for token in tokens:
        if token.dep_ not in rules.NAME_DEPS or token.i in labelled or not _looks_like_name(token):
            continue
        start = token.i
        while start > sentence.start and token.doc[start - 1].dep_ == "compound" \
                and token.doc[start - 1].head.i == token.i and _looks_like_name(token.doc[start - 1]) \
                and start - 1 not in labelled:
            start -= 1
        chunk = token.doc[start: token.i + 1]
        if any(e.start < chunk.end and chunk.start < e.end for e in found):
            continue
        text = chunk.text.strip()
        if text.lower() in rules.NOT_ISSUER_TEXT or rules.NOT_ISSUER_WORDS.search(text) or canonical_name(text) in rules.NOT_ISSUERS:
            continue
        found.append(chunk)
    return sorted(found, key=lambda e: e.start)


def _looks_like_name(token: Token) -> bool:
    if token.lower_ in parsers.MONTHS or token.lower_ in parsers.WEEKDAYS or token.lower_ in rules.PRONOUNS:
        return False
    if not token.text[:1].isalpha() or ".hk" in token.lower_:
        return False
    return token.pos_ == "PROPN" or any(c.isupper() for c in token.text[1:])


def _is_issuer(ent: Span) -> bool:
    if ent.label_ not in rules.ORG_LABELS:
        return False
    name = canonical_name(ent.ent_id_ or ent.text)
    if name in rules.NOT_ISSUERS or ent.text.strip().lower() in rules.NOT_ISSUER_TEXT:
        return False
    return ent.ent_id_ in KNOWN_ORGS or not rules.NOT_ISSUER_WORDS.search(ent.text)




def _is_modifier(name: Span) -> bool:
    """A name that only qualifies another noun: "SenseTime spin-off SenseAuto", "Tencent-backed"."""
    root = name.root
    if root.dep_ not in ("compound", "poss", "npadvmod", "amod", "nmod"):
        return False
    head = root.head
    return head.pos_ != "PROPN" and head.lemma_.lower() not in rules.OWN_NOUNS


def _subjects(verb: Token) -> list[Token]:
    for clause_verb in _clause_chain(verb):
        found = [c for c in clause_verb.children if c.dep_ in ("nsubj", "nsubjpass", "agent")]
        if found:
            return found
    return []


def _refers_back(token: Token) -> bool:
    """"It", "its", "the company": the issuer named in an earlier sentence."""
    if token.lower_ in rules.PRONOUNS:
        return True
    return token.lemma_.lower() in rules.GENERIC_SUBJECTS and any(c.lower_ in ("the", "this") for c in token.children)


def _issuers(trigger: Span, verb: Token, sentence: Span, context: _Context) -> list[Span | str]:
    """Companies the stage phrase is about: its subject, else whose phrase it is."""
    pointers: list[Token] = []
    for subject in _subjects(verb):
        ents = [e for e in _org_entities(subject.subtree, sentence) if not _is_modifier(e)]
        if ents:
            return ents
        pointers.append(subject)
    root = trigger.root
    owners = [c for t in (root, root.head) for c in t.children if c.dep_ == "poss"]
    own = [c for c in root.children if c.dep_ == "prep" and c.lower_ in ("of", "by", "from", "for")]
    for token in owners + own:
        ents = _org_entities(token.subtree, sentence)
        if ents:
            return ents
        pointers.append(token)
    # Headlines parse badly ("Zhipu AI files for Hong Kong IPO" comes out as a noun phrase):
    # a company named right before the stage phrase is its subject.
    adjacent = [e for e in sentence.ents if e.end == trigger.start and _is_issuer(e)]
    if adjacent:
        return adjacent
    if any(_refers_back(p) or any(_refers_back(t) for t in p.subtree if t.dep_ == "poss") for p in pointers):
        recent = [name for number, name, _ in context.recent if context.sentence_no - number <= 3]
        if recent:
            return [recent[-1]]
    return []


def _remember_subjects(sentence: Span, context: _Context) -> None:
    for token in sentence:
        if token.dep_ in ("nsubj", "nsubjpass"):
            for ent in _org_entities(token.subtree, sentence):
                context.recent.append((context.sentence_no, _name(ent), ent.start_char))
                return


def _name(ent: Span | str) -> str:
    if isinstance(ent, str):
        return ent
    return canonical_name(ent.ent_id_ or ent.text)


def _sentence_events(sentence: Span, matcher: Matcher, context: _Context) -> list[_Found]:
    text = sentence.text
    if not rules.LISTING_CONTEXT.search(text + " " + (context.previous if context.known else "")) or rules.NOT_IPO.search(text):
        return []
    doc = sentence.doc
    found: list[_Found] = []
    seen: set[tuple[str, str]] = set()
    for match_id, start, end in matcher(doc[sentence.start: sentence.end]):
        rule = doc.vocab.strings[match_id]
        trigger = doc[sentence.start + start: sentence.start + end]
        stage = rules.RULE_STAGE[rule]
        verb_tokens = [t for t in trigger if t.pos_ == "VERB"]
        verb = verb_tokens[0] if verb_tokens else _governor(trigger.root)
        if rule == "debut_word":
            # Seeds run sentences together ("...a wave of listings. X and Y made debuts"), so
            # in known mode the previous sentence may supply the market words.
            if not rules.MARKET_DEBUT_CONTEXT.search(text + " " + (context.previous if context.known else "")):
                continue
            if verb.lemma_ == "debut" and any(c.dep_ == "dobj" for c in verb.children):
                continue  # "debuted its new model"
            if _is_prospective(trigger.root, verb):
                continue  # "paving the way for a January debut", "ahead of its debut"
        if rule == "past_listing" and (not context.known or trigger.root.dep_ in ("compound", "amod", "nmod")):
            continue  # "the IPO market", "listing rules": the noun is not the listing itself
        if _is_hedged(verb, rule):
            continue
        if rule == "schedule":
            dates = [e for e in sentence.ents if e.label_ == "DATE" and parsers.is_specific_date(e.text)]
            if not dates:
                continue
        if not context.known and _is_historical(verb, sentence, context.reference):
            continue
        issuers = _issuers(trigger, verb, sentence, context)
        if not issuers:
            continue
        event_date = None
        if rule != "schedule":
            for ent in sentence.ents:
                if ent.label_ == "DATE" and _governor(ent.root).i == verb.i:
                    event_date = parsers.parse_date(ent.text, context.reference)
                    if event_date:
                        break
        if event_date is None or (context.reference and event_date > context.reference + timedelta(days=1)):
            event_date = context.reference
        exchange = parsers.exchange_of(text)
        spans = sorted((i for i in issuers if not isinstance(i, str)), key=lambda e: e.start_char)
        for issuer in issuers:
            company = _name(issuer)
            if (company, stage) in seen:
                continue
            seen.add((company, stage))
            # With several companies in one sentence, a code or amount belongs to the company
            # it follows, up to the next company.
            window = None
            if len(issuers) > 1 and not isinstance(issuer, str):
                later = [e.start_char for e in spans if e.start_char > issuer.start_char]
                window = (issuer.end_char - sentence.start_char,
                          (min(later) if later else sentence.end_char) - sentence.start_char)
            local = text[window[0]: window[1]] if window else text
            if len(issuers) > 1 and isinstance(issuer, str):
                local = ""
            amount, currency = parsers.parse_amount(local) if local else (None, None)
            found.append(_Found(company, stage, exchange, parsers.normalise_stock_code(local) if local else None,
                                amount, currency, event_date, " ".join(text.split())))
    return found


def _documents(nlp: Language, texts: list[str]) -> Iterator[Doc | None]:
    """Parse the paragraphs that may hold a listing, plus the one before each (for "it")."""
    wanted = [bool(rules.PARAGRAPH_KEYWORDS.search(t)) for t in texts]
    keep = [w or (i + 1 < len(wanted) and wanted[i + 1]) for i, w in enumerate(wanted)]
    parsed = iter(nlp.pipe([t for t, k in zip(texts, keep) if k]))
    for k in keep:
        yield next(parsed) if k else None


def _code_near(text: str, company: str) -> str | None:
    """A stock code written right after the company's name anywhere in the article."""
    names = {company, *KNOWN_ORGS.get(company, ("", ()))[1]}
    for name in sorted((n for n in names if n), key=len, reverse=True):
        for match in re.finditer(re.escape(name), text):
            code = parsers.normalise_stock_code(text[match.end(): match.end() + 40])
            if code:
                return code
    return None


def _detect(nlp: Language, paragraphs: list[str], reference: datetime | None, known: bool) -> list[_Found]:
    context = _Context(reference=reference, known=known)
    matcher = rules.stage_matcher(nlp, known)
    found: list[_Found] = []
    for doc in _documents(nlp, paragraphs):
        if doc is None:
            context.recent.clear()
            continue
        for sentence in doc.sents:
            context.sentence_no += 1
            found.extend(_sentence_events(sentence, matcher, context))
            _remember_subjects(sentence, context)
            context.previous = sentence.text
    return found


def _paragraphs(title: str | None, text: str) -> list[str]:
    lines = [" ".join(line.split()) for line in text.split("\n")]
    head = [title.strip()] if title and title.strip() else []
    return head + [line for line in lines if line]


def _merge(found: Iterable[_Found], article_id: str | None, known: bool, full_text: str) -> list[ListingEvent]:
    """One event per company and stage: the first sentence, completed by later ones."""
    merged: dict[tuple[str, str], _Found] = {}
    for item in found:
        key = (item.company, item.stage)
        first = merged.setdefault(key, item)
        if first is item:
            continue
        first.stock_code = first.stock_code or item.stock_code
        if first.amount is None and item.amount is not None:
            first.amount, first.currency = item.amount, item.currency
        if first.exchange == "HKEX" and item.exchange != "HKEX" and not parsers.EXCHANGES[0][0].search(first.evidence):
            first.exchange = item.exchange
    events = []
    for (company, stage), item in merged.items():
        events.append(ListingEvent(
            event_id=listing_event_id(company, stage), company=company, exchange=item.exchange,
            stage=stage, stock_code=item.stock_code or _code_near(full_text, company),
            amount=item.amount, currency=item.currency, event_date=item.event_date,
            article_id=article_id, evidence=item.evidence, known=known,
        ))
    return events


def detect_listing_events(nlp: Language, articles: list[Article]) -> list[ListingEvent]:
    """Listing events in relevant, original articles; one per company and stage, earliest first."""
    _require_parser(nlp)
    found: list[ListingEvent] = []
    for article in articles:
        if article.is_relevant is not True or article.duplicate_of is not None:
            continue
        reference = article.published_at or article.fetched_at
        paragraphs = _paragraphs(article.title, article.text)
        found.extend(_merge(_detect(nlp, paragraphs, reference, known=False), article.article_id,
                            known=False, full_text="\n".join(paragraphs)))
    return _first_sightings(found)


def _first_sightings(events: list[ListingEvent]) -> list[ListingEvent]:
    far_future = datetime.max.replace(tzinfo=timezone.utc)
    ordered = sorted(events, key=lambda e: (e.event_date or far_future, STAGE_RANK[e.stage]))
    kept: dict[str, ListingEvent] = {}
    for event in ordered:
        first = kept.setdefault(event.event_id, event)
        if first is not event and first.stock_code is None and event.stock_code:
            kept[event.event_id] = first.model_copy(update={"stock_code": event.stock_code})
    return list(kept.values())


def known_listings_from_seeds(nlp: Language, seeds: list[Seed]) -> list[ListingEvent]:
    """Listings the seed documents already report (finished or in progress): known=True."""
    _require_parser(nlp)
    found: list[ListingEvent] = []
    for seed in seeds:
        paragraphs = _paragraphs(None, seed.text)
        found.extend(_merge(_detect(nlp, paragraphs, None, known=True), None, known=True,
                            full_text="\n".join(paragraphs)))
    return _first_sightings(found)
