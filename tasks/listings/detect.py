"""Listing events in news text: which company filed, cleared its hearing, priced or debuted
in Hong Kong.

Pure: takes the spaCy pipeline (tasks.understand.nlp.load_nlp) and articles or seeds,
returns ListingEvent records. An article is read sentence by sentence, the headline first.
A stage phrase (tasks/listings/rules.py) yields an event when

- it is reported, not planned, rumoured, negated, undone (a lapsed application, a
  postponed hearing, a hearing recalled in a story of the listing postponed), historical
  (a date weeks back, "last year", an aside such as "which listed in 2021") or a reference
  ("after Horizon's debut");
- it is about Hong Kong: the exchange named nearest to it is not the STAR Market, Nasdaq ...;
- it belongs to a company (tasks/listings/mentions.py): the subject of its verb, the owner
  of its noun, or, for "it", "the company", "the chipmaker", the company the article was
  last about; never an investor, parent, sponsor, customer or rival;
- for a roundup ("Three companies began trading ..."), each company the next sentences list.

One event per company and article: the latest stage it reports, so an offer price quoted
in a debut story is an attribute of the debut. Stock codes and amounts come from the
event's sentence, a sentence about the same company, or the headline.
Precision comes first: a missed sentence is usually repeated elsewhere, a false alert is not.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span, Token

from schemas.records import STAGE_RANK, Article, ListingEvent, Seed, listing_event_id
from tasks.listings import clauses, parsers, rules
from tasks.listings.lifecycle import first_sightings as _first_sightings
from tasks.listings.detect_zh import read_chinese_article
from tasks.listings.mentions import Mention, aliases_between, sentence_mentions
from tasks.names import ESTABLISHED, LISTED_ELSEWHERE
from tasks.understand.chinese import is_chinese
from tasks.understand.normalise import is_boilerplate

# A wire dateline, "HONG KONG, Oct 29 (Reuters) - ": the small model reads it into the
# first name of the sentence ("Oct 29 - Qiming Vision" as a date).
_DATELINE = re.compile(r"^[A-Z][A-Z .'/-]{2,40},\s+(?:[A-Z][a-z]{2,8}\.?\s+\d{1,2}|\d{1,2}\s+[A-Z][a-z]{2,8})"
                       r"(?:,?\s+\d{4})?\s*(?:\([^)]{1,30}\))?\s*[-\u2013\u2014]+\s*")
# A city in brackets inside a Chinese company's registered name ("Kunlunxin (Beijing)
# Technology Co., Ltd."): the model cuts the name at the bracket, so it goes before parsing.
_CITY_IN_NAME = re.compile(r"\s*\((?:[A-Z][a-z]+)\)(?=\s+(?:[A-Z][\w&-]*\s+)*(?:Co\b|Co\.|Ltd|Limited|Inc|Corp|"
                           r"Technology|Technologies|Group|Holdings|Intelligent|Intelligence))")
# A body sentence in the present tense reports the day's news only with these words.
_TODAY = re.compile(r"\b(?:today|this (?:morning|afternoon)|in early trade|in morning trade)\b", re.IGNORECASE)
# A price, a size or a range of an offering: "HK$3.73 to HK$3.99", "17,000,000 Class B
# ordinary shares", "price range".
_OFFERING_TERMS = re.compile(r"(?:HK|US|S)?\$\s?\d|\b(?:HKD|USD|RMB|CNY)\s?\d|\d\s?(?:yuan|Hong Kong dollars)\b|"
                             r"\d[\d,.]*\s*(?:million|billion|mln|bln|m|bn)?\s+(?:[A-Za-z-]+\s+){0,3}shares\b|"
                             r"\boffer(?:ing)? price\b|\bprice range\b|\bper share\b|\bcornerstone investors?\b", re.IGNORECASE)
# A large group's business becoming a listed company of its own.
_SPIN_OFF = re.compile(r"\bspin(?:-| )?off\b|\bspun off\b|\bspinning off\b|\b(?:chip|AI|robotics|driving) (?:unit|subsidiary|arm)\b|"
                       r"\bsubsidiary\b", re.IGNORECASE)
# Where in its range an offering is priced: said of a decision, even one "set to" be announced.
_PRICED_WHERE = re.compile(r"\bat (?:the )?(?:top|bottom|upper|lower|low|high)(?:[- ]end)?(?: of)?\b|\bat HK\$\s?\d",
                           re.IGNORECASE)
# A tally of many companies, not a roundup of a day's: "10 companies (41.66%) saw ...",
# "24 companies listed between August and October".
_TALLY = re.compile(r"\b(?:\d{2,}|six|seven|eight|nine|ten|eleven|twelve|dozens?)\s+(?:\w+\s+){0,2}"
                    r"(?:companies|firms|issuers|listings|ipos|stocks)\b(?:\s*\(\d+(?:\.\d+)?%\))?|"
                    r"\b[4-9]\s+(?:new\s+)?(?:IPOs|listings|new stocks|debutants)\b", re.IGNORECASE)
# A debut's own day told as a move after it: "dropped 12% after its debut on the exchange".
_MOVE_AFTER_DEBUT = re.compile(r"\b(?:fell|dropped|slumped|sank|jumped|rose|surged|soared|climbed|gained|tumbled|plunged|"
                               r"drop|fall|rise|jump|surge|slump)\b[^.;]{0,60}\bafter\s+(?:its|their)\s+(?:\w+\s+){0,2}debut\b|"
                               r"\bafter\s+(?:its|their)\s+(?:\w+\s+){0,2}debut\b[^.;]{0,40}\d+(?:\.\d+)?\s?(?:%|per ?cent)",
                               re.IGNORECASE)
_SEGMENT_BREAKS = {";", ":", "that", "while", "whereas", "but", "after", "as", "when", "because", "although",
                   "though", "since", "before"}


def _contains(words: list[str], part: list[str]) -> bool:
    """`part` occurs in `words` as consecutive words."""
    return any(words[i: i + len(part)] == part for i in range(len(words) - len(part) + 1))


def _require_parser(nlp: Language) -> None:
    if not nlp.has_pipe("parser") or not nlp.has_pipe("lemmatizer"):
        raise ValueError("listing detection needs spaCy's parser and lemmatizer (tasks.understand.nlp.load_nlp)")


# --- one article ---------------------------------------------------------------------------

@dataclass
class _Sentence:
    span: Span
    number: int
    title: bool
    mentions: list[Mention]
    subjects: list[Mention] = field(default_factory=list)  # the mentions that are a verb's subject
    plural_subject: bool = False  # its main subject is several companies ("three start-ups")

    def __post_init__(self) -> None:
        core: set[int] = set()
        for token in self.span:
            if token.dep_ in ("nsubj", "nsubjpass") or token.dep_ == "ROOT" and token.pos_ in ("PROPN", "NOUN"):
                core |= clauses.core(token)
            if token.dep_ in ("nsubj", "nsubjpass") and token.head.dep_ == "ROOT" and clauses.is_plural(token):
                self.plural_subject = True
        first = self.mentions[0] if self.mentions else None
        self.subjects = [m for m in self.mentions
                         if any(i in core for i in range(m.start, m.end)) or m is first and self.title]


@dataclass
class _Sighting:
    company: str
    stage: str
    sentence: int
    evidence: str
    event_date: datetime | None
    mention: Mention | None  # the name that showed the company, if the sentence named it


@dataclass
class _Found:
    """One company's event in one article."""

    company: str
    stage: str
    stock_code: str | None
    amount: float | None
    currency: str | None
    event_date: datetime | None
    evidence: str
    aliases: list[str] = field(default_factory=list)


class _ArticleReader:
    """Reads one article's parsed sentences and returns its events."""

    def __init__(self, sentences: list[_Sentence], reference: datetime | None, known: bool, matcher: Matcher,
                 exact: bool = True):
        self.sentences = sentences
        self.reference = reference
        self.exact = exact  # the reference is a day the page or its text gives, not a year's end
        self.known = known
        self.matcher = matcher
        self.text = "\n".join(dict.fromkeys(s.span.doc.text for s in sentences))
        self._confirm_weak()
        self.role_names = {m.name for s in sentences for m in s.mentions if m.role}
        self.canonical = self._canonical_names()
        self.aliases: dict[str, set[str]] = {}
        self.alias_of: dict[str, str] = {}
        self._join_aliases()
        self.focus = self._focus()
        self.default_venue = self._default_venue()
        self.sightings: list[_Sighting] = []
        self.owners: dict[int, str] = {}  # sentence number -> the company it is about
        self._phrases: dict[int, list[tuple[str, Span]]] = {}  # id(Doc) -> its stage phrases
        self.trace: list[str] = []  # why each stage phrase did or did not become an event

    # names ------------------------------------------------------------------------

    def _confirm_weak(self) -> None:
        """Keep a one-word name at a sentence's start only when the article also names the
        company in full ("Skyrun raised ..." after "Skyrun Robotics") or starts two
        sentences with it ("Ridelink jumps ...", "Ridelink shares jumped ...")."""
        full = {m.name.split()[0] for s in self.sentences for m in s.mentions if not m.weak}
        weak = [m.name for s in self.sentences for m in s.mentions if m.weak and not m.word]
        repeated = {name for name in weak if weak.count(name) > 1}  # English words need the full name
        for sentence in self.sentences:
            sentence.mentions = [m for m in sentence.mentions if not m.weak or m.name in full or m.name in repeated]
            sentence.subjects = [m for m in sentence.subjects if not m.weak or m.name in full or m.name in repeated]

    def _canonical_names(self) -> dict[str, str]:
        """Short names to the full name the article also uses: "Lanyue" -> "Lanyue Robotics"."""
        names = {m.name for s in self.sentences for m in s.mentions if not m.known}
        mapping = {}
        for short in names:
            words = short.split()
            longer = [n for n in names if n != short and n.split()[: len(words)] == words]
            if longer:
                mapping[short] = min(longer, key=len)
        # A Title Case headline runs the name into the words around it ("Lidar Maker Spectra
        # Sensing Jumps"): it stands for the body's name that it contains the start of.
        body = {m.name for s in self.sentences if not s.title for m in s.mentions if not m.role}
        for headline_name in {m.name for s in self.sentences if s.title for m in s.mentions if not m.known} - body:
            words = headline_name.split()
            inside = [b for b in body if len(b.split()[:2]) < len(words)
                      and _contains(words, [w.split("'")[0] for w in b.split()[:2]])]
            if inside:
                body_name = max(inside, key=lambda b: (len(b.split()[:2]), len(b)))
                mapping[headline_name] = mapping.get(body_name, body_name)
        return mapping

    def name(self, mention: Mention) -> str:
        name = self.canonical.get(mention.name, mention.name)
        return self.alias_of.get(name, name)

    def _join_aliases(self) -> None:
        """"Knowledge Atlas, also known as Zhipu": one company under the name the article
        (or the known-organisation table) prefers, the others kept as aliases."""
        counts: dict[str, int] = {}
        for sentence in self.sentences:
            for mention in sentence.mentions:
                name = self.canonical.get(mention.name, mention.name)
                counts[name] = counts.get(name, 0) + 1
        for sentence in self.sentences:
            for first, second in zip(sentence.mentions, sentence.mentions[1:]):
                if first.role or second.role or not aliases_between(sentence.span.doc.text, first, second):
                    continue
                a = self.canonical.get(first.name, first.name)
                b = self.canonical.get(second.name, second.name)
                if a == b:
                    continue
                if first.known != second.known:
                    keep, other = (a, b) if first.known else (b, a)
                else:
                    keep, other = (b, a) if counts.get(b, 0) > counts.get(a, 0) else (a, b)
                keep = self.alias_of.get(keep, keep)
                self.alias_of[other] = keep
                self.aliases.setdefault(keep, set()).add(other)

    def _eligible(self, mention: Mention) -> bool:
        """May stand for "the company": not named anywhere in the article as someone's
        investor, parent, sponsor or rival, nor a large listed group (the seeds aside)."""
        if self.known:
            return not mention.role
        return mention.eligible and mention.name not in self.role_names

    def _focus(self) -> str | None:
        """The article's company: the headline's, else the first body sentence's, else
        (a story that opens with "The company, backed by Intel, is selling ...") the one it
        names most often."""
        for sentence in self.sentences[:2]:
            for mention in sentence.mentions:
                if self._eligible(mention):
                    return self.name(mention)
            if not sentence.title:
                break
        counts: dict[str, int] = {}
        for sentence in self.sentences:
            for mention in sentence.mentions:
                if self._eligible(mention):
                    counts[self.name(mention)] = counts.get(self.name(mention), 0) + 1
        return max(counts, key=counts.__getitem__) if counts else None

    def _default_venue(self) -> str | None:
        """The exchange of a stage phrase whose sentence names none: Hong Kong when the
        article names it at all, else the one other exchange it names."""
        venues = [v for v, _, _ in parsers.venue_mentions(self.text)]
        if not venues or parsers.HKEX in venues:
            return parsers.HKEX
        return venues[0]

    def refer_back(self, sentence: _Sentence, before: int, pronoun: bool = False) -> str | None:
        """The company "it" or "the company" stands for: the last one that was the subject
        of this or the previous few sentences (not an investor, parent or rival), else the
        article's."""
        for earlier in reversed(self.sentences[: sentence.number + 1]):
            if sentence.number - earlier.number > 3:
                break
            if earlier.number != sentence.number and (len({m.name for m in earlier.subjects if not m.role}) > 1
                                                      or earlier.plural_subject):
                continue  # "Li Auto, Nio and Xpeng plan to list": "the company" is none of several
            for mention in reversed(earlier.subjects):
                if earlier.number == sentence.number and mention.start >= before:
                    continue
                # "Baidu underwhelmed investors when trading began for its newly listed shares":
                # a large group is "its" within its own sentence (but "the company" there is
                # still the issuer the article is about).
                if self._eligible(mention) or pronoun and earlier.number == sentence.number and not mention.role:
                    return self.name(mention)
        return self.focus

    # stages -------------------------------------------------------------------------

    def read(self) -> list[_Found]:
        """The article's events: every stage phrase read in order, one event per company."""
        roundup: tuple[str, int] | None = None  # (stage, sentence) of "Three companies began trading"
        for sentence in self.sentences:
            self.owners[sentence.number] = self._owner(sentence)
            if roundup and sentence.number - roundup[1] <= 2 and self._roundup_members(sentence, roundup[0]):
                roundup = (roundup[0], sentence.number)  # the list goes on, a company a sentence
            for rule, trigger in self._stage_phrases(sentence):
                verdict = self._stage(sentence, rule, trigger)
                self.trace.append(f"{verdict}: {rule} {trigger.text!r} in {sentence.span.text!r}")
                if verdict == "roundup":
                    roundup = (rules.RULE_STAGE[rule], sentence.number)
                    self._roundup_members(sentence, roundup[0], after=trigger.end)
            if self.known:
                self._known_nouns(sentence)
        return self._merge()

    def _stage_phrases(self, sentence: _Sentence) -> list[tuple[str, Span]]:
        """(rule, phrase) for every stage phrase of the sentence, the longest of overlapping
        ones of a rule, in text order; "Trading in shares of X ... begin" from the parse."""
        span = sentence.span
        found = [(rule, phrase) for rule, phrase in self._doc_phrases(span.doc)
                 if span.start <= phrase.start and phrase.end <= span.end]
        for token in span:
            if token.lower_ in rules.TRADING_SUBJECTS and token.dep_ == "nsubj" \
                    and token.head.lemma_ in rules.TRADING_VERBS and token.head.tag_ in ("VBD", "VBN") \
                    and token.head.i - token.i > 4:
                found.append((rules.TRADING_RULE, span.doc[token.i: token.i + 1]))
        return _longest_first(found)

    def _doc_phrases(self, doc: Doc) -> list[tuple[str, Span]]:
        """The matcher's stage phrases of a paragraph, run once per paragraph."""
        if id(doc) not in self._phrases:
            self._phrases[id(doc)] = [(self.matcher.vocab.strings[match_id], doc[start:end])
                                      for match_id, start, end in self.matcher(doc)]
        return self._phrases[id(doc)]

    def _stage(self, sentence: _Sentence, rule: str, trigger: Span) -> str:
        """Records the stage phrase's events; returns "event", "roundup" (its subject is
        several companies the next sentences name) or why it reports no event."""
        span = sentence.span
        text = span.text
        context = " ".join(s.span.text for s in self.sentences
                           if s.number == sentence.number - 1 or s.title) + " " + text
        if not rules.LISTING_CONTEXT.search(context) or rules.NOT_IPO.search(text):
            return "not about a listing"
        stage = rules.RULE_STAGE[rule]
        verb_tokens = [t for t in trigger if t.pos_ == "VERB"] if rule != rules.TRADING_RULE else []
        verb = verb_tokens[0] if verb_tokens else clauses.governor(trigger.root.head if rule == rules.TRADING_RULE
                                                              else trigger.root)
        noun_trigger = not verb_tokens
        if rule == "debut_word":
            if not rules.MARKET_DEBUT_CONTEXT.search(text):
                return "not a market debut"
            if verb.lemma_ == "debut" and any(c.dep_ == "dobj" for c in verb.children) or _names_a_product(trigger):
                return "a product debut"  # "debuted its new model", "debuts reasoning model"
        after = span.doc[trigger.end: trigger.end + 4]
        if noun_trigger and any(t.lower_ in rules.SCHEDULED_WORDS and (t.lower_ != "set" or t.nbor().lower_ in ("for", "to"))
                                for t in after if t.i + 1 < len(span.doc)):
            return "scheduled"  # "debut set for Dec 29"
        if rule == "first_open" and not rules.OFFER_PRICE.search(text):
            return "not the first day"  # "opened at HK$5.39" with no price it was sold at
        if noun_trigger and trigger.root.tag_ == "NNS" and any(c.dep_ == "nummod" for c in trigger.root.children):
            return "a count"  # "The six debuts make it the busiest week": no one company's
        if _TALLY.search(text):
            return "a count"  # "10 companies (41.66%) saw their shares surge over 100% on debut"
        looks_away = clauses.is_reference(trigger, verb) if noun_trigger else clauses.is_subordinate(verb, rule)
        if looks_away and rule == "debut_word" and _MOVE_AFTER_DEBUT.search(text) and not rules.HISTORICAL_WORDS.search(text):
            looks_away = False  # "shares fell 12% after its debut on the Hong Kong exchange": the day's move
        if looks_away and rule in ("priced", "pricing") and verb.lemma_ == "price" and _PRICED_WHERE.search(text) \
                and any(c.dep_ == "aux" and c.tag_ == "TO" for c in verb.children):
            looks_away = False  # "is set to price its listing at the top end of the range": the price is decided
        if not self.known and looks_away:
            return "a reference"
        if clauses.is_hedged(verb, rule) and not (rule == "launch" and clauses.is_hedged_by_intent(verb)
                                                   and rules.PRICE_RANGE.search(text)):
            return "hedged"
        if not self.known and clauses.is_past_perfect(verb):
            return "background"
        if rules.RUMOUR.search(text) and not (stage == "pricing" and _PRICED_WHERE.search(text)):
            # ("...at the top of its range, sources say": a price decided, told before the
            # announcement, is how the pricing is first reported.)
            return "a rumour"
        if stage == "hearing" and rules.MAINLAND_REGULATOR.search(text):
            return "the mainland regulator's step"
        clause = clauses.clause_tokens(verb, trigger)
        if not self.known:
            own_text = " ".join(t.text for t in clauses.own_words(verb, trigger))
            if rules.NOT_REPORTED.search(own_text) or rules.NOT_REPORTED.search(trigger.text):
                return "undone or not a new listing"
            if any(clauses.is_aside(v) for v in clauses.clause_chain(verb)):
                return "an aside"
            if self._is_historical(verb, clause, rule):
                return "history"
        if rule == "headline_raise" and not (sentence.title or sentence.number == 0):
            return "a plan"  # "X to raise $1 billion" in a body sentence
        if rule in ("schedule", "launch") and not self._offering_terms(sentence, rule):
            return "no offering terms"
        if stage == "debut" and verb.tag_ in ("VBZ", "VBP") and not sentence.title and not _TODAY.search(text) \
                and rule != "first_trade" and not (sentence.number == 0 and not text.rstrip().endswith(".")) \
                and not (verb.lower_.endswith("ed") or verb.lower_ in rules.PAST_FORMS) \
                and (rule != "debut_word" or verb.lemma_ == "debut" and not _TODAY.search(text)):
            return "present tense"  # "trading starts on Friday", "debuts on Wednesday": the future
        venue = parsers.venue_of(text, trigger.start_char - span.start_char, trigger.end_char - span.start_char)
        if venue is None and sentence.number > 0:
            # "Hua Hong made a stellar debut on the Star Market ... It opened at 58.88 yuan
            # when trading began": the market the sentence before named.
            earlier = parsers.venue_mentions(self.sentences[sentence.number - 1].span.text)
            venue = earlier[-1][0] if earlier and not self.sentences[sentence.number - 1].title else None
        if (venue or self.default_venue) != parsers.HKEX:
            return f"on {venue or self.default_venue}"
        kind, named = self._issuers(sentence, trigger, verb) if rule != "welcomed" else ("roundup", [])
        if venue is None and named and all(LISTED_ELSEWHERE.get(self.name(m)) for m in named):
            return f"on {LISTED_ELSEWHERE[self.name(named[0])]}"  # a STAR Market company's debut told in passing
        if kind == "roundup" or _dashed_list(span, trigger.start):
            return "roundup"
        unit = self._unit_offering(sentence, trigger)
        if unit is not None and all(self.name(m) in ESTABLISHED for m in named):
            named = [unit]  # "Baidu has submitted a listing application ... for Kunlunxin's H-share offering"
        companies: list[tuple[str, Mention | None]] = [(self.name(m), m) for m in named]
        if kind == "coref" and not (unit is not None and named == [unit]):
            company = self.refer_back(sentence, trigger.start, pronoun=_pronoun_owner(span, trigger, stage))
            if company:
                companies = [(company, None)]
        if stage != "debut" and companies and all(c in ESTABLISHED for c, _ in companies):
            # "Baidu announced the confidential submission of a listing application", in a
            # story of its chip unit's spin-off: the unit's filing, not Baidu's.
            spun = self._spun_off_unit()
            if spun is not None:
                companies = [(self.name(spun), spun)]
        if stage == "debut" and kind != "none":
            companies += [(self.name(m), m) for m in self._also_moved(sentence, verb)]
        event_date = self._event_date(sentence, verb, rule)
        added = False
        for company, mention in companies:
            if mention is None and company in ESTABLISHED and not self.known:
                continue
            self.sightings.append(_Sighting(company, stage, sentence.number, " ".join(text.split()),
                                            event_date, mention))
            added = True
        return "event" if added else f"no company ({kind})"

    def _issuers(self, sentence: _Sentence, trigger: Span, verb: Token) -> tuple[str, list[Mention]]:
        """Whose stage: ("names", mentions), ("coref", []), ("roundup", []) or ("none", [])."""
        mentions = sentence.mentions
        subjects = clauses.subjects(verb) or ([verb.head] if verb.dep_ == "acl" else [])
        for subject in subjects:
            core = clauses.core(subject)
            in_core = [m for m in mentions if any(i in core for i in range(m.start, m.end))]
            named = [m for m in in_core if not m.role]
            if named:
                return "names", named
            if in_core and subject.lemma_.lower() in rules.GENERIC_SUBJECTS:
                return "coref", []  # "The Tencent-backed firm is offering ...": the backer names no issuer
            if in_core:
                return "none", []  # "its rival Lingxi listed ...": someone else's stage
            if subject.lower_ == "they":
                # "Pony.ai and WeRide ... as they began trading", "SenseTime shares jumped as
                # they debuted": the companies the sentence's subject named before it.
                earlier = [m for m in sentence.subjects if m.end <= subject.i and not m.role]
                if earlier:
                    return "names", earlier
            if clauses.is_plural(subject):
                return "roundup", []
            if clauses.refers_back(subject, core, sentence.title):
                return "coref", []
            break
        inside = [m for m in mentions if trigger.start <= m.start and m.end <= trigger.end and not m.role]
        if inside:
            return "names", inside  # "the exchange approves MiniMax, Zhipu listings"
        for token in list(trigger) + [trigger.root.head]:
            for child in token.children:
                if child.dep_ == "poss" or child.dep_ == "prep" and child.lower_ == "of":
                    core = clauses.core(child)
                    named = [m for m in mentions if any(i in core for i in range(m.start, m.end)) and not m.role]
                    if named:
                        return "names", named
                    if child.dep_ == "poss" and child.lower_ in rules.PRONOUNS:
                        return "coref", []
        before = self._nearest_before(sentence, trigger)
        if before is not None:
            return "names", [before]
        if any(t.lower_ in rules.PRONOUNS for t in sentence.span if t.i < trigger.start) or any(
                t.lower_ in rules.PRONOUNS for t in trigger):
            return "coref", []
        subjects = clauses.subjects(verb)
        if subjects and subjects[0].lemma_.lower() in clauses.STAGE_NOUNS | rules.GENERIC_SUBJECTS:
            return "coref", []
        return "none", []

    def _unit_offering(self, sentence: _Sentence, trigger: Span) -> Mention | None:
        """The company whose offering a large group's stage is for: "for Kunlunxin's H-share
        offering", "to spin off Kunlunxin"."""
        doc = sentence.span.doc
        for mention in sentence.mentions:
            if mention.start < trigger.end or mention.role or self.name(mention) in ESTABLISHED:
                continue
            after = doc[mention.end: mention.end + 5]
            before = doc[max(sentence.span.start, mention.start - 3): mention.start]
            if after and after[0].tag_ == "POS" and any(t.lower_ in ("offering", "listing", "ipo", "spin-off", "float")
                                                        for t in after) \
                    or any(t.lemma_.lower() == "spin" for t in before):
                return mention
        return None

    def _spun_off_unit(self) -> Mention | None:
        """The company the article says a large group is spinning off (its unit,
        subsidiary or arm), if it names one."""
        for sentence in self.sentences:
            if not _SPIN_OFF.search(sentence.span.text):
                continue
            for mention in sentence.mentions:
                if not mention.role and self.name(mention) not in ESTABLISHED:
                    return mention
        return None

    def _also_moved(self, sentence: _Sentence, verb: Token) -> list[Mention]:
        """Other companies whose first-day move the debut's sentence gives in a clause of
        their own: "X fell 7% on its first day, while Y jumped 44%"."""
        found = []
        for clause_verb in verb.children:
            if clause_verb.dep_ not in ("conj", "advcl") or clause_verb.lemma_.lower() not in rules.PRICE_MOVE_LEMMAS:
                continue
            for subject in (c for c in clause_verb.children if c.dep_ == "nsubj"):
                core = clauses.core(subject)
                found += [m for m in sentence.mentions if not m.role and m.name not in ESTABLISHED
                          and m.name not in self.role_names and any(i in core for i in range(m.start, m.end))]
        return found

    def _nearest_before(self, sentence: _Sentence, trigger: Span) -> Mention | None:
        """The company named last before the stage phrase in the same part of the sentence
        (not across ";", "that", "while", "after" ...), outside role phrases."""
        doc = sentence.span.doc
        start = sentence.span.start
        for i in range(trigger.start - 1, sentence.span.start - 1, -1):
            if doc[i].lower_ in _SEGMENT_BREAKS and not doc[i].ent_type_:
                start = i + 1
                break
        candidates = [m for m in sentence.mentions if start <= m.start and m.end <= trigger.start and not m.role]
        return candidates[-1] if candidates else None

    def _roundup_members(self, sentence: _Sentence, stage: str, after: int | None = None) -> int:
        """The companies a roundup lists: "They are A, B and C", "...: A set its price ...,
        and B priced ...", or for debuts each company whose first-day move is given."""
        span = sentence.span
        if after is None and rules.ELSEWHERE.search(span.text):
            return 0  # "Elsewhere, Tencent rose 1.5%": the rest of the market
        listed = rules.ROUNDUP_LIST.search(span.text) or (after is not None and any(
            t.lower_ in rules.LIST_OPENERS for t in span if t.i >= after))
        listed_between = _dashed_list(span, after) if after is not None else None
        members: list[Mention] = []
        for mention in sentence.mentions:
            if mention.role or mention.name in ESTABLISHED:
                continue
            if after is not None and mention.start < after:
                if listed_between and listed_between[0] < mention.start and mention.end <= listed_between[1]:
                    members.append(mention)  # "Three firms - A, B and C - made their debuts"
                continue
            if listed:
                members.append(mention)
                continue
            if stage != "debut":
                continue
            if _moved_on_the_day(span.doc[mention.end - 1]) or _raised_on_the_day(span.doc[mention.end - 1]):
                members.append(mention)
        for mention in members:
            self.sightings.append(_Sighting(self.name(mention), stage, sentence.number,
                                            " ".join(span.text.split()), self.reference, mention))
        return len(members)

    def _known_nouns(self, sentence: _Sentence) -> None:
        """Seeds mention finished listings as nouns: "the IPOs of SenseTime and 4Paradigm",
        "its $5.3 billion Hong Kong listing"."""
        for token in sentence.span:
            if token.lower_ not in rules.KNOWN_NOUNS or token.dep_ in ("compound", "amod", "nmod"):
                continue
            kind, named = self._issuers_of_noun(sentence, token)
            companies = [self.name(m) for m in named]
            if kind == "coref":
                company = self.refer_back(sentence, token.i)
                companies = [company] if company else []
            for company in companies:
                self.sightings.append(_Sighting(company, "debut", sentence.number,
                                                " ".join(sentence.span.text.split()), None, None))

    def _issuers_of_noun(self, sentence: _Sentence, noun: Token) -> tuple[str, list[Mention]]:
        """Whose listing a noun is: "the IPOs of AI giants like SenseTime", "its Hong Kong
        listing" (the parser sometimes hangs "its" elsewhere: the words just before count)."""
        for child in noun.children:
            if child.dep_ == "poss" or child.dep_ == "prep" and child.lower_ == "of":
                core = clauses.core(child, examples=True)
                named = [m for m in sentence.mentions if any(i in core for i in range(m.start, m.end))]
                if named:
                    return "names", named
                if child.dep_ == "poss" and child.lower_ in rules.PRONOUNS:
                    return "coref", []
        before = sentence.span.doc[max(sentence.span.start, noun.i - 6): noun.i]
        if any(t.lower_ in ("its", "their") for t in before):
            return "coref", []
        return "none", []

    # checks -------------------------------------------------------------------------

    def _is_historical(self, verb: Token, clause: list[Token], rule: str) -> bool:
        """The stage's clause dates it weeks back, or says "last year", "for the first time"
        (which for trading that began is the debut itself). A scheduled or launched offering
        looks forward: its dates are not history."""
        text = " ".join(t.text for t in clause)
        found = rules.HISTORICAL_WORDS.search(text)
        if found and not (rules.RULE_STAGE[rule] == "debut" and "first time" in found.group(0).lower()):
            return True
        if rule in ("schedule", "launch", "headline_raise"):
            return False
        indices = {t.i for t in clause}
        for ent in verb.doc.ents:
            if ent.label_ != "DATE" or ent.root.i not in indices:
                continue
            years = [int(y) for y in parsers.YEAR.findall(ent.text)]
            if self.reference and years:
                latest = datetime(max(years), 12, 31, tzinfo=timezone.utc)
                if (self.reference - latest).days > rules.HISTORY_DAYS:
                    return True
            found = parsers.parse_date(ent.text, self.reference) if self.exact or years else None
            if self.reference and found and (self.reference - found).days > rules.HISTORY_DAYS:
                return True
        return False

    def _offering_terms(self, sentence: _Sentence, rule: str) -> bool:
        """A launched or scheduled offering: its sentence or a neighbour gives a price,
        a size or a trading date, and (for a schedule) a specific day."""
        span = sentence.span
        if rule == "schedule" and not any(e.label_ == "DATE" and parsers.is_specific_date(e.text) for e in span.ents):
            return False
        around = [s.span.text for s in self.sentences if abs(s.number - sentence.number) <= 2 and not s.title]
        return any(_OFFERING_TERMS.search(t) for t in around)

    def _event_date(self, sentence: _Sentence, verb: Token, rule: str) -> datetime | None:
        event_date = None
        if rule not in ("schedule", "launch"):
            for ent in sentence.span.ents:
                if ent.label_ == "DATE" and clauses.governor(ent.root).i == verb.i:
                    event_date = parsers.parse_date(ent.text, self.reference)
                    if event_date:
                        break
        if event_date is None or (self.reference and event_date > self.reference + timedelta(days=1)):
            event_date = self.reference
        return event_date

    def _owner(self, sentence: _Sentence) -> str | None:
        """The company a sentence is about: its main subject's, the one it refers back to,
        or, when it names none and has no plural subject, the one the article is about."""
        root = sentence.span.root
        for subject in [c for c in root.children if c.dep_ in ("nsubj", "nsubjpass")]:
            core = clauses.core(subject)
            named = [m for m in sentence.mentions if any(i in core for i in range(m.start, m.end)) and not m.role]
            if len(named) == 1:
                return self.name(named[0])
            if named or clauses.is_plural(subject):
                return None
            if clauses.refers_back(subject, core, sentence.title):
                return self.refer_back(sentence, subject.i)
        if not any(not m.role for m in sentence.mentions):
            return self.refer_back(sentence, sentence.span.end)
        return None

    # one event per company ----------------------------------------------------------------

    def _undone(self) -> set[str]:
        """The companies whose listing the headline or the lede reports undone (postponed,
        shelved, put on hold): the article's company when those sentences name no other."""
        undone: set[str] = set()
        for sentence in self.sentences:
            if rules.UNDONE_LEDE.search(sentence.span.text):
                named = {self.name(m) for m in sentence.mentions if self._eligible(m)}
                undone |= named or ({self.focus} if self.focus else set())
            if not sentence.title:
                break
        return undone

    def _merge(self) -> list[_Found]:
        best: dict[str, _Sighting] = {}
        undone = set() if self.known else self._undone()
        for sighting in self.sightings:
            if sighting.company in undone and STAGE_RANK[sighting.stage] < STAGE_RANK["debut"]:
                continue  # "passed its listing hearing on Aug. 7" in a story of the postponement
            current = best.get(sighting.company)
            if current is None or STAGE_RANK[sighting.stage] > STAGE_RANK[current.stage]:
                best[sighting.company] = sighting
        found = []
        for company, sighting in best.items():
            amount, currency = self._amount(company, sighting)
            aliases = sorted(self.aliases.get(company, set()) - {company})
            found.append(_Found(company, sighting.stage, self._stock_code(company), amount, currency,
                                sighting.event_date, sighting.evidence, aliases))
        return found

    def _company_window(self, sentence: _Sentence, company: str) -> str | None:
        """The part of a sentence about one company: all of it when it names no other, else
        from the company's name to the next company's."""
        names = [(m, self.name(m)) for m in sentence.mentions if not m.role]
        others = [m for m, n in names if n != company]
        own = [m for m, n in names if n == company]
        if not others:
            return sentence.span.text if (own or self.owners.get(sentence.number) == company) else None
        if not own:
            return None
        start = own[0].end_char
        later = [m.start_char for m in others if m.start_char > start]
        end = min(later) if later else sentence.span.end_char
        return sentence.span.doc.text[start:end]

    def _amount(self, company: str, sighting: _Sighting) -> tuple[float | None, str | None]:
        ordered = sorted(self.sentences,
                         key=lambda s: (s.number != sighting.sentence, abs(s.number - sighting.sentence)))
        for sentence in ordered:
            if sentence.number != sighting.sentence and self.owners.get(sentence.number) != company:
                continue
            window = self._company_window(sentence, company)
            if window:
                amount, currency = parsers.parse_amount(window)
                if amount is not None:
                    return amount, currency
        return None, None

    def _stock_code(self, company: str) -> str | None:
        """The code written after the company's name, else in a sentence about it."""
        for sentence in self.sentences:
            for mention in sentence.mentions:
                if self.name(mention) == company:
                    text = sentence.span.doc.text
                    code = parsers.code_after_name(text[mention.end_char: mention.end_char + 70])
                    if code:
                        return code
        for sentence in self.sentences:
            codes = parsers.stock_codes(sentence.span.text)
            if not codes:
                continue
            named = [m for m in sentence.mentions if not m.role]
            for code, offset in codes:
                position = sentence.span.start_char + offset
                before = [m for m in named if m.end_char <= position]
                owner = self.name(before[-1]) if before else (
                    self.owners.get(sentence.number) or self.refer_back(sentence, sentence.span.end))
                if owner == company:
                    return code
        return None


def _pronoun_owner(span: Span, trigger: Span, stage: str) -> bool:
    """The stage is told of "it" ("it began trading", "when trading began for its newly
    listed shares"), not of "the company", which may be a different one than the sentence's
    subject ("Alibaba's shares rose after the company filed")."""
    doc = span.doc
    if any(t.lower_ in rules.PRONOUNS for t in doc[max(span.start, trigger.start - 2): trigger.start]):
        return True
    after = doc[trigger.end: min(span.end, trigger.end + 6)]
    return stage == "debut" and any(t.lower_ in ("its", "their") and any(
        u.lemma_.lower() in rules.SHARE_NOUNS | {"share"} for u in doc[t.i + 1: t.i + 5]) for t in after)


def _dashed_list(span: Span, before: int) -> tuple[int, int] | None:
    """(first dash, second dash) token offsets of a list set off by dashes after a plural
    noun and before the stage phrase: "Three firms - A, B and C - made their debuts"."""
    if not any(dash in span.text for dash in ("-", "\u2013", "\u2014")):
        return None
    dashes = [t.i for t in span if t.i < before and t.text in ("-", "\u2013", "\u2014", "--")]
    if len(dashes) >= 2 and dashes[0] > span.start and span.doc[dashes[0] - 1].tag_ == "NNS":
        return dashes[0], dashes[1]
    return None


def _moved_on_the_day(head: Token) -> bool:
    """The name (its last token) is the subject of a price move: "X jumped 27%", "Shares of
    X (3120.HK) jumped 27%", or the gapped "X gained 12 per cent and Y 30 per cent"."""
    while head.dep_ in ("compound", "flat", "appos", "conj") and head.head.i != head.i:
        if head.dep_ == "conj" and head.head.pos_ == "VERB":
            return head.pos_ == "PROPN" and head.head.lemma_.lower() in rules.PRICE_MOVE_LEMMAS
        head = head.head
    if head.dep_ == "pobj" and head.head.lower_ == "of" and head.head.head.lower_ in rules.SHARE_NOUNS:
        head = head.head.head  # "Shares of X"
    return head.dep_ in ("nsubj", "nsubjpass") and head.head.lemma_.lower() in rules.PRICE_MOVE_LEMMAS


def _raised_on_the_day(head: Token) -> bool:
    """In a roundup of the day's debuts, a company that "raised HK$3.48 billion" is one of them."""
    while head.dep_ in ("compound", "flat", "appos") and head.head.i != head.i:
        head = head.head
    return head.dep_ == "nsubj" and head.head.lemma_.lower() == "raise" and head.head.tag_ == "VBD"


def _names_a_product(trigger: Span) -> bool:
    """"Yunmo AI debuts reasoning model": the verb's object follows it (headlines parse
    badly, so the words after it are read)."""
    doc = trigger.doc
    after = [t for t in doc[trigger.end: trigger.end + 4] if t.pos_ not in ("DET", "ADJ", "PRON") and t.lower_ != "new"]
    return bool(after) and after[0].pos_ in ("NOUN", "PROPN") and after[0].lower_ not in rules.MARKET_NOUNS \
        and not after[0].ent_type_ in ("GPE", "DATE", "ORG")


def _longest_first(matches: list[tuple[str, Span]]) -> list[tuple[str, Span]]:
    """Overlapping matches of one rule reduced to the longest, in text order."""
    kept: list[tuple[str, Span]] = []
    for rule, span in sorted(matches, key=lambda m: (m[1].start, -len(m[1]))):
        if any(r == rule and s.start <= span.start < s.end for r, s in kept):
            continue
        kept.append((rule, span))
    return kept


# --- articles ----------------------------------------------------------------------------

def _paragraphs(title: str | None, text: str) -> tuple[list[str], bool]:
    """(paragraphs to parse, whether the first is the headline). None when no paragraph
    has a stage word; else the headline, the lede (page furniture and credit lines such as
    a byline are not the lede), every paragraph with a stage word or
    an event's facts, and the list that follows a roundup: the others cannot add to an
    event."""
    lines = [_CITY_IN_NAME.sub("", _DATELINE.sub("", " ".join(line.split()))) for line in text.split("\n")]
    lines = [line for line in lines if line and not is_boilerplate(line) and not rules.CREDIT_LINE.match(line)]
    head = [_CITY_IN_NAME.sub("", title.strip())] if title and title.strip() else []
    if not any(rules.STAGE_KEYWORDS.search(line) for line in head + lines):
        return [], False
    wanted = [i == 0 or bool(rules.STAGE_KEYWORDS.search(line) or rules.FACT_KEYWORDS.search(line))
              for i, line in enumerate(lines)]
    # A roundup names its companies in the paragraph after the one with the stage.
    kept = [line for i, line in enumerate(lines)
            if wanted[i] or i > 0 and wanted[i - 1] and rules.ROUNDUP_LIST.search(line)]
    return head + kept, bool(head)


@functools.lru_cache(maxsize=4)
def _english_words(nlp: Language) -> frozenset[str]:
    """The English words the pipeline's lemmatizer knows (its index of base forms)."""
    index = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_index", {})
    return frozenset(word for words in index.values() for word in words)


def _read(nlp: Language, items: list[tuple[list[str], bool, tuple[datetime | None, bool]]],
          known: bool) -> list[list[_Found]]:
    """Events of several texts, parsed in one batch: (paragraphs, has headline, date) each."""
    matcher = rules.stage_matcher(nlp)
    english = _english_words(nlp)
    flat = [(n, i, p) for n, (paragraphs, _, _) in enumerate(items) for i, p in enumerate(paragraphs)]
    docs: dict[int, list[Doc]] = {}
    for (n, _, _), doc in zip(flat, nlp.pipe([p for _, _, p in flat], batch_size=64)):
        docs.setdefault(n, []).append(doc)
    results = []
    for n, (_, has_title, (reference, exact)) in enumerate(items):
        sentences: list[_Sentence] = []
        for index, doc in enumerate(docs.get(n, [])):
            for span in doc.sents:
                headline = index == 0 and has_title
                sentences.append(_Sentence(span, len(sentences), headline,
                                           sentence_mentions(span, english, known_mode=known, headline=headline)))
        results.append(_ArticleReader(sentences, reference, known, matcher, exact).read() if sentences else [])
    return results


def _to_events(found: Iterable[_Found], article_id: str | None, known: bool) -> list[ListingEvent]:
    return [ListingEvent(event_id=listing_event_id(f.company, f.stage), company=f.company, exchange=parsers.HKEX,
                         stage=f.stage, stock_code=f.stock_code, amount=f.amount, currency=f.currency,
                         event_date=f.event_date, article_id=article_id, evidence=f.evidence, known=known,
                         aliases=f.aliases)
            for f in found]


def detect_listing_events(nlp: Language, articles: list[Article]) -> list[ListingEvent]:
    """Hong Kong listing events in relevant, original articles; one per company and stage,
    earliest first."""
    return _first_sightings([event for events in _events_by_article(nlp, articles) for event in events])


def detect_listing_events_by_article(nlp: Language, articles: list[Article]) -> list[list[ListingEvent]]:
    """Each article's events as if it were detected alone, in the order given (none for an
    irrelevant or duplicate one); parsed in one batch, ~1.7x faster than one call each.
    For scoring labelled passages, each of which stands alone."""
    return [_first_sightings(events) for events in _events_by_article(nlp, articles)]


def sightings_by_article(nlp: Language, articles: list[Article]) -> list[list[ListingEvent]]:
    """Each article's sightings as read, none merged: what a worker hands the flow, which
    merges those of a batch's originals (lifecycle.first_sightings) once dedup is done."""
    return _events_by_article(nlp, articles)


def _events_by_article(nlp: Language, articles: list[Article]) -> list[list[ListingEvent]]:
    _require_parser(nlp)
    chosen = [a.is_relevant is True and a.duplicate_of is None for a in articles]
    chinese = [wanted and is_chinese_article(a) for a, wanted in zip(articles, chosen)]
    items = []
    for article, wanted, zh in zip(articles, chosen, chinese):
        if wanted and not zh:
            paragraphs, has_title = _paragraphs(article.title, article.text)
            items.append((paragraphs, has_title, reference_date(article)))
    found = iter(_read(nlp, items, known=False))
    events = []
    for article, wanted, zh in zip(articles, chosen, chinese):
        if not wanted:
            events.append([])
        elif zh:
            events.append(_to_events([_Found(f.company, f.stage, f.stock_code, f.amount, f.currency, f.event_date,
                                              f.evidence, f.aliases) for f in read_chinese_article(article)],
                                     article.article_id, known=False))
        else:
            events.append(_to_events(next(found), article.article_id, known=False))
    return events


def reference_date(article: Article) -> tuple[datetime | None, bool]:
    """(the day an article's "yesterday" and "in March" are counted from, whether it is a
    known day): its publication, else the day its own text tells of (parsers.story_day)."""
    if article.published_at:
        return article.published_at, True
    return parsers.story_day((article.title or "") + "\n" + article.text, article.fetched_at)


def is_chinese_article(article: Article) -> bool:
    """Read by the Chinese rules: identified as Chinese, or mostly Han characters (a
    Chinese story with English paragraphs may be identified as English)."""
    return article.language == "zh" or is_chinese(article.text[:3000])


def known_listings_from_seeds(nlp: Language, seeds: list[Seed]) -> list[ListingEvent]:
    """Listings the seed documents already report (finished or in progress): known=True."""
    _require_parser(nlp)
    items = [(_paragraphs(None, seed.text)[0], False, (None, False)) for seed in seeds]
    events: list[ListingEvent] = []
    for found in _read(nlp, items, known=True):
        events.extend(_to_events(found, None, known=True))
    return _first_sightings(events)
