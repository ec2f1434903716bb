"""Listing events in news text: which company filed, cleared its hearing, priced or debuted
in Hong Kong.

Pure: takes the spaCy pipeline (tasks.understand.nlp.load_nlp) and articles or seeds,
returns ListingEvent records. An article is read sentence by sentence, the headline first.
A stage phrase (tasks/listings/rules.py) yields an event when

- it is reported, not planned, rumoured, negated, undone (a lapsed application, a
  postponed hearing), historical (a date weeks back, "last year", an aside such as
  "which listed in 2021") or a reference ("after Horizon's debut");
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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span, Token

from schemas.records import STAGE_RANK, Article, ListingEvent, Seed, listing_event_id
from tasks.listings import parsers, rules
from tasks.listings.mentions import Mention, aliases_between, sentence_mentions
from tasks.listings.names import ESTABLISHED

# Subjects that are the listing itself, standing for the company it belongs to: "The final
# offer price was set at ...", "Trading starts on Friday".
_STAGE_NOUNS = {"price", "share", "shares", "stock", "trading", "ipo", "listing", "offering", "application",
                "prospectus", "hearing", "deal", "float", "debut", "h-share", "h-shares"}
# Dependency links inside the noun phrase that names a subject ("Zhipu and Iluvatar CoreX",
# "MiniMax shares", "Shanghai Biren Technology Co's shares"), but not into its asides.
_CORE_DEPS = {"compound", "conj", "appos", "poss", "flat", "nmod", "amod", "nummod", "det", "cc", "case",
              "npadvmod", "quantmod", "punct"}
_SHARE_LEMMAS = {"share", "stock", "h-share", "h", "unit", "trading", "trade", "ipo", "listing", "offering", "debut",
                 "application", "prospectus", "float"}
_ASIDE_DEPS = {"relcl", "acl", "appos", "advcl", "parataxis", "ccomp"}
# Dates that make a relative clause news: "Meixin, which filed yesterday,".
_RECENT_WORDS = {"today", "yesterday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
                 "tonight", "morning", "evening", "afternoon"}
# Nouns whose "that" clause says what they report: "the news that X has filed".
_CONTENT_NOUNS = {"news", "report", "announcement", "statement", "disclosure", "fact", "confirmation", "notice",
                  "filing", "document", "information"}
# A wire dateline, "HONG KONG, Oct 29 (Reuters) - ": the small model reads it into the
# first name of the sentence ("Oct 29 - Qiming Vision" as a date).
_DATELINE = re.compile(r"^[A-Z][A-Z .'/-]{2,40},\s+(?:[A-Z][a-z]{2,8}\.?\s+\d{1,2}|\d{1,2}\s+[A-Z][a-z]{2,8})"
                       r"(?:,?\s+\d{4})?\s*(?:\([^)]{1,30}\))?\s*[-\u2013\u2014]+\s*")
_SEGMENT_BREAKS = {";", ":", "that", "while", "whereas", "but", "after", "as", "when", "because", "although",
                   "though", "since", "before"}


def _require_parser(nlp: Language) -> None:
    if not nlp.has_pipe("parser") or not nlp.has_pipe("lemmatizer"):
        raise ValueError("listing detection needs spaCy's parser and lemmatizer (tasks.understand.nlp.load_nlp)")


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
    while current.dep_ in ("xcomp", "conj", "ccomp", "advcl", "aux", "pcomp", "prep", "acomp") \
            and current.head.i != current.i:
        current = current.head
        if current.pos_ in ("VERB", "AUX", "ADJ"):
            yield current


def _is_hedged(verb: Token, rule: str) -> bool:
    """Planned, wished, denied, failed or future: "plans to file", "has not filed", "will
    list", "neither company has filed"."""
    future_ok = rule in ("schedule", "launch")
    for clause_verb in _clause_chain(verb):
        for child in clause_verb.children:
            if child.dep_ == "neg" or child.lower_ in rules.HEDGE_WORDS:
                return True
            if child.dep_ in ("nsubj", "nsubjpass") and (child.lower_ in ("neither", "none", "nobody") or any(
                    c.lower_ in ("neither", "no") for c in child.children)):
                return True
            if child.dep_ in ("aux", "auxpass") and child.lower_ in ("will", "'ll", "shall") and not future_ok:
                return True
        lemma = clause_verb.lemma_.lower()
        if (clause_verb.i != verb.i or rule != "schedule") and lemma in rules.HEDGE_LEMMAS \
                and not (future_ok and lemma in rules.SCHEDULE_OK):
            return True
    return False


def _is_aside(verb: Token) -> bool:
    """A clause that describes a name in passing: "SenseTime, which listed in 2021," or
    "SenseTime, listed since 2021, rose". The parser also hangs some main verbs on their
    subject ("Lanxin Co Ltd, a GPU designer, filed for ..."), so a bare participle is an
    aside only when the sentence's own verb follows it; a relative clause is one only with
    a relative pronoun and no recent date ("Meixin, which filed yesterday," is news)."""
    if verb.dep_ == "amod":
        return True
    if verb.dep_ not in ("relcl", "acl", "appos"):
        return False
    if verb.head.lemma_.lower() in _CONTENT_NOUNS:
        return False  # "the news that X has filed": what the news says, not an aside
    if any(c.tag_ in ("WDT", "WP", "WP$") or c.lower_ == "that" for c in verb.subtree if c.i < verb.i):
        return not any(t.ent_type_ == "DATE" and t.lower_ in _RECENT_WORDS for t in verb.subtree)
    if verb.tag_ != "VBN" or any(c.dep_ in ("aux", "auxpass", "nsubj") for c in verb.children):
        return False
    end = max(t.i for t in verb.subtree) + 1
    for token in verb.sent[end - verb.sent.start:]:
        if token.tag_ in ("VBD", "VBZ", "VBP", "MD"):
            return True  # "SenseTime, listed since 2021, rose": the main verb follows
        if token.pos_ in ("NOUN", "PROPN", "PRON"):
            return False  # another subject first: the participle was the main verb
    return False


def _clause_tokens(verb: Token, trigger: Span) -> list[Token]:
    """The stage's own clause: the verb's subtree without the asides and other clauses
    hanging off it (unless the stage phrase is in them)."""
    inside = {t.i for t in trigger}
    dropped: set[int] = set()
    for token in verb.subtree:
        if token.i != verb.i and token.dep_ in _ASIDE_DEPS | {"conj"} and token.pos_ in ("VERB", "AUX") \
                and not any(t.i in inside for t in token.subtree):
            dropped.update(t.i for t in token.subtree)
    return [t for t in verb.subtree if t.i not in dropped] or list(trigger)


def _is_reference(trigger: Span, verb: Token) -> bool:
    """A stage noun the sentence refers to rather than reports: "after Horizon's debut",
    "ahead of its debut", "the application follows Horizon's debut"."""
    current = trigger.root
    while current.i != verb.i and current.head.i != current.i:
        current = current.head
        if current.lower_ in rules.REFERENCE_WORDS:
            return True
    return verb.lemma_.lower() in rules.REFERENCE_VERBS


def _is_subordinate(verb: Token, rule: str) -> bool:
    """A stage verb in a clause that looks ahead, or back by weeks: "before it lists", "on
    track to debut", "three weeks after the company began trading", "after pricing its
    offering" (an attribute of the story's main event). "Shares rose after the company
    filed its application" reports the filing."""
    for clause_verb in _clause_chain(verb):
        for child in clause_verb.children:
            if child.dep_ == "mark" and child.lower_ in rules.REFERENCE_WORDS:
                if child.lower_ not in rules.REPORTING_MARKS:
                    return True
                if any(t.lower_ in rules.LONG_AGO for t in child.subtree) or any(
                        t.lower_ in rules.LONG_AGO for t in child.children):
                    return True
            if child.dep_ == "aux" and child.tag_ == "TO" and rule not in ("schedule", "launch") \
                    and clause_verb.i == verb.i and not _is_latest_to(verb):
                return True
        if clause_verb.dep_ == "pcomp" and clause_verb.head.lower_ in rules.REFERENCE_WORDS:
            return True
        if clause_verb.i != verb.i:
            break
    return False


def _is_past_perfect(verb: Token) -> bool:
    """"The company had launched the offering": background to the story, unless someone
    says so ("X said it had filed")."""
    if not any(c.dep_ == "aux" and c.lower_ in ("had", "'d") for c in verb.children):
        return False
    return not any(v.lemma_.lower() in rules.REPORTING_VERBS for v in _clause_chain(verb) if v.i != verb.i)


def _is_latest_to(verb: Token) -> bool:
    """"X became the latest AI firm to list in Hong Kong": a report, though an infinitive."""
    noun = verb.head
    if verb.dep_ not in ("acl", "relcl", "xcomp") or not any(
            c.lower_ in ("latest", "newest", "first", "second", "third", "fourth", "fifth") for c in noun.children):
        return False
    governor = noun.head
    return governor.lemma_ in ("become", "be") and governor.tag_ in ("VBD", "VBZ")


def _subjects(verb: Token) -> list[Token]:
    """The verb's subjects (of the nearest verb up its clause that has one), the closest to
    it first: a verb with two subjects is a misparse, and the nearer is usually right. A
    relative pronoun stands for the name it follows ("Yinhe, which filed ...")."""
    for clause_verb in _clause_chain(verb):
        found = [c for c in clause_verb.children if c.dep_ in ("nsubj", "nsubjpass")]
        if found:
            found.sort(key=lambda t: abs(clause_verb.i - t.i))
            if found[0].tag_ in ("WDT", "WP") and clause_verb.dep_ == "relcl":
                antecedent = clause_verb.head
                while antecedent.dep_ == "appos" and antecedent.head.i != antecedent.i:
                    antecedent = antecedent.head
                return [antecedent]
            return found
    return []


def _core(head: Token, examples: bool = False) -> set[int]:
    """The tokens of the noun phrase that names a subject or owner, without its asides;
    for "shares of X" and "X's shares", X too; with `examples`, also the names after
    "like" or "such as" ("AI giants like SenseTime")."""
    found, frontier = {head.i}, [head]
    while frontier:
        token = frontier.pop()
        for child in token.children:
            follow = child.dep_ in _CORE_DEPS
            if child.dep_ == "poss" and token.lemma_.lower() in rules.ROLE_NOUNS:
                follow = False  # "Pathwise's rival, Tuoling": the rival is the subject
            if child.dep_ == "prep" and child.lower_ in ("of", "in") and token.lemma_.lower() in _SHARE_LEMMAS:
                follow = True
            if examples and child.dep_ == "prep" and child.lower_ in ("like", "as", "including"):
                follow = True
            if child.dep_ == "pobj" and token.dep_ == "prep" and token.i in found:
                follow = True
            if follow and child.i not in found:
                found.add(child.i)
                frontier.append(child)
    return found


def _refers_back(head: Token, core: set[int], headline: bool = False) -> bool:
    """"It", "its shares", "the company", "The Hangzhou chipmaker's stock"; in a headline
    also a bare "robotics firm"."""
    doc = head.doc
    for i in core:
        token = doc[i]
        if token.lower_ in rules.PRONOUNS:
            return True
        if token.lemma_.lower() in rules.GENERIC_SUBJECTS and (headline or any(
                c.lower_ in ("the", "this", "that") for c in token.children)):
            return True
    return head.lemma_.lower() in _STAGE_NOUNS and not any(doc[i].pos_ == "PROPN" for i in core)


def _is_plural(head: Token) -> bool:
    """"Three companies", "They", "Both", "The two firms": several companies at once."""
    lowered = head.lower_
    if lowered in ("they", "both", "pair", "duo", "trio"):
        return True
    return lowered in rules.PLURAL_SUBJECTS and (head.tag_ in ("NNS", "CD") or any(
        c.dep_ == "nummod" or c.lower_ in ("both", "two", "three", "four", "five", "several")
        for c in head.children))


# --- one article ---------------------------------------------------------------------------

@dataclass
class _Sentence:
    span: Span
    number: int
    title: bool
    mentions: list[Mention]
    subjects: list[Mention] = field(default_factory=list)  # the mentions that are a verb's subject

    def __post_init__(self) -> None:
        core: set[int] = set()
        for token in self.span:
            if token.dep_ in ("nsubj", "nsubjpass") or token.dep_ == "ROOT" and token.pos_ in ("PROPN", "NOUN"):
                core |= _core(token)
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

    def __init__(self, sentences: list[_Sentence], reference: datetime | None, known: bool, matcher: Matcher):
        self.sentences = sentences
        self.reference = reference
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

    # names ------------------------------------------------------------------------

    def _confirm_weak(self) -> None:
        """Keep a one-word name at a sentence's start only when the article also names the
        company in full ("Skyrun raised ..." after "Skyrun Robotics") or starts two
        sentences with it ("Ridelink jumps ...", "Ridelink shares jumped ...")."""
        full = {m.name.split()[0] for s in self.sentences for m in s.mentions if not m.weak}
        weak = [m.name for s in self.sentences for m in s.mentions if m.weak]
        full |= {name for name in weak if weak.count(name) > 1}
        for sentence in self.sentences:
            sentence.mentions = [m for m in sentence.mentions if not m.weak or m.name in full]
            sentence.subjects = [m for m in sentence.subjects if not m.weak or m.name in full]

    def _canonical_names(self) -> dict[str, str]:
        """Short names to the full name the article also uses: "Lanyue" -> "Lanyue Robotics"."""
        names = {m.name for s in self.sentences for m in s.mentions if not m.known}
        mapping = {}
        for short in names:
            words = short.split()
            longer = [n for n in names if n != short and n.split()[: len(words)] == words]
            if longer:
                mapping[short] = min(longer, key=len)
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
        return mention.eligible and mention.name not in self.role_names or self.known and not mention.role

    def _focus(self) -> str | None:
        """The article's company: the headline's, else the first body sentence's."""
        for sentence in self.sentences[:2]:
            for mention in sentence.mentions:
                if self._eligible(mention):
                    return self.name(mention)
            if not sentence.title:
                break
        return None

    def _default_venue(self) -> str | None:
        """The exchange of a stage phrase whose sentence names none: Hong Kong when the
        article names it at all, else the one other exchange it names."""
        venues = [v for v, _, _ in parsers.venue_mentions(self.text)]
        if not venues or parsers.HKEX in venues:
            return parsers.HKEX
        return venues[0]

    def refer_back(self, sentence: _Sentence, before: int) -> str | None:
        """The company "it" or "the company" stands for: the last one that was the subject
        of this or the previous few sentences (not an investor, parent or rival), else the
        article's."""
        for earlier in reversed(self.sentences[: sentence.number + 1]):
            if sentence.number - earlier.number > 3:
                break
            for mention in reversed(earlier.subjects):
                if earlier.number == sentence.number and mention.start >= before:
                    continue
                if self._eligible(mention):
                    return self.name(mention)
        return self.focus

    # stages -------------------------------------------------------------------------

    def read(self) -> list[_Found]:
        doc_matches: dict[int, list[tuple[str, Span]]] = {}
        for sentence in self.sentences:
            span = sentence.span
            for match_id, start, end in self.matcher(span):
                rule = self.matcher.vocab.strings[match_id]
                doc_matches.setdefault(sentence.number, []).append((rule, span[start:end]))
            for token in span:
                if token.lower_ in rules.TRADING_SUBJECTS and token.dep_ == "nsubj" \
                        and token.head.lemma_ in rules.TRADING_VERBS and token.head.tag_ in ("VBD", "VBN") \
                        and token.head.i - token.i > 4:
                    doc_matches.setdefault(sentence.number, []).append(
                        (rules.TRADING_RULE, span.doc[token.i: token.i + 1]))
        roundup: tuple[str, int] | None = None
        for sentence in self.sentences:
            self.owners[sentence.number] = self._owner(sentence)
            if roundup and sentence.number - roundup[1] <= 2:
                self._roundup_members(sentence, roundup[0])
            for rule, trigger in _longest_first(doc_matches.get(sentence.number, [])):
                outcome = self._stage(sentence, rule, trigger)
                if outcome == "roundup":
                    roundup = (rules.RULE_STAGE[rule], sentence.number)
                    self._roundup_members(sentence, roundup[0], after=trigger.end)
            if self.known:
                self._known_nouns(sentence)
        return self._merge()

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
        verb = verb_tokens[0] if verb_tokens else _governor(trigger.root.head if rule == rules.TRADING_RULE
                                                              else trigger.root)
        noun_trigger = not verb_tokens
        if rule == "debut_word":
            if not rules.MARKET_DEBUT_CONTEXT.search(text):
                return "not a market debut"
            if verb.lemma_ == "debut" and any(c.dep_ == "dobj" for c in verb.children):
                return "a product debut"  # "debuted its new model"
        if not self.known and (_is_reference(trigger, verb) if noun_trigger else _is_subordinate(verb, rule)):
            return "a reference"
        if _is_hedged(verb, rule):
            return "hedged"
        if not self.known and _is_past_perfect(verb):
            return "background"
        if rules.RUMOUR.search(text):
            return "a rumour"
        clause = _clause_tokens(verb, trigger)
        clause_text = " ".join(t.text for t in clause)
        if not self.known:
            if rules.NOT_REPORTED.search(clause_text) or rules.NOT_REPORTED.search(trigger.text):
                return "undone or not a new listing"
            if any(_is_aside(v) for v in _clause_chain(verb)):
                return "an aside"
            if self._is_historical(verb, clause):
                return "history"
        if rule in ("schedule", "launch") and not self._offering_terms(sentence, rule):
            return "no offering terms"
        if stage == "debut" and verb.tag_ in ("VBZ", "VBP") and not sentence.title and rule != "debut_word":
            return "present tense"  # "trading starts on Friday": the future
        venue = parsers.venue_of(text, trigger.start_char - span.start_char, trigger.end_char - span.start_char)
        if (venue or self.default_venue) != parsers.HKEX:
            return f"on {venue or self.default_venue}"
        kind, named = self._issuers(sentence, trigger, verb)
        if kind == "roundup":
            return "roundup"
        companies: list[tuple[str, Mention | None]] = [(self.name(m), m) for m in named]
        if kind == "coref":
            company = self.refer_back(sentence, trigger.start)
            if company:
                companies = [(company, None)]
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
        subjects = _subjects(verb) or ([verb.head] if verb.dep_ == "acl" else [])
        for subject in subjects:
            core = _core(subject)
            in_core = [m for m in mentions if any(i in core for i in range(m.start, m.end))]
            named = [m for m in in_core if not m.role]
            if named:
                return "names", named
            if in_core:
                return "none", []  # "its rival Lingxi listed ...": someone else's stage
            if _is_plural(subject):
                return "roundup", []
            if _refers_back(subject, core, sentence.title):
                return "coref", []
            break
        inside = [m for m in mentions if trigger.start <= m.start and m.end <= trigger.end and not m.role]
        if inside:
            return "names", inside  # "the exchange approves MiniMax, Zhipu listings"
        for token in list(trigger) + [trigger.root.head]:
            for child in token.children:
                if child.dep_ == "poss" or child.dep_ == "prep" and child.lower_ == "of":
                    core = _core(child)
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
        subjects = _subjects(verb)
        if subjects and subjects[0].lemma_.lower() in _STAGE_NOUNS | rules.GENERIC_SUBJECTS:
            return "coref", []
        return "none", []

    def _also_moved(self, sentence: _Sentence, verb: Token) -> list[Mention]:
        """Other companies whose first-day move the debut's sentence gives in a clause of
        their own: "X fell 7% on its first day, while Y jumped 44%"."""
        found = []
        for clause_verb in verb.children:
            if clause_verb.dep_ not in ("conj", "advcl") or clause_verb.lemma_.lower() not in rules.PRICE_MOVE_LEMMAS:
                continue
            for subject in (c for c in clause_verb.children if c.dep_ == "nsubj"):
                core = _core(subject)
                found += [m for m in sentence.mentions if not m.role and any(i in core for i in range(m.start, m.end))]
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

    def _roundup_members(self, sentence: _Sentence, stage: str, after: int | None = None) -> None:
        """The companies a roundup lists: "They are A, B and C", "...: A set its price ...,
        and B priced ...", or for debuts each company whose first-day move is given."""
        span = sentence.span
        listed = rules.ROUNDUP_LIST.search(span.text) or (after is not None and any(
            t.lower_ in rules.LIST_OPENERS for t in span if t.i >= after))
        members: list[Mention] = []
        for mention in sentence.mentions:
            if mention.role or (after is not None and mention.start < after):
                continue
            if listed:
                members.append(mention)
                continue
            if stage != "debut":
                continue
            head = span.doc[mention.end - 1]
            while head.dep_ in ("compound", "flat", "appos", "conj") and head.head.i != head.i:
                head = head.head
            if head.dep_ in ("nsubj", "nsubjpass") and head.head.lemma_.lower() in rules.PRICE_MOVE_LEMMAS:
                members.append(mention)
        for mention in members:
            self.sightings.append(_Sighting(self.name(mention), stage, sentence.number,
                                            " ".join(span.text.split()), self.reference, mention))

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
                core = _core(child, examples=True)
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

    def _is_historical(self, verb: Token, clause: list[Token]) -> bool:
        """The stage's clause dates it weeks back, or says "last year", "for the first time"."""
        text = " ".join(t.text for t in clause)
        if rules.HISTORICAL_WORDS.search(text):
            return True
        indices = {t.i for t in clause}
        for ent in verb.doc.ents:
            if ent.label_ != "DATE" or ent.root.i not in indices:
                continue
            years = [int(y) for y in parsers.YEAR.findall(ent.text)]
            if self.reference and years:
                latest = datetime(max(years), 12, 31, tzinfo=timezone.utc)
                if (self.reference - latest).days > rules.HISTORY_DAYS:
                    return True
            found = parsers.parse_date(ent.text, self.reference)
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
        return any(re.search(r"(?:HK|US)?\$\s?\d|\d\s?(?:yuan|shares)\b|offer price|price range", t, re.I)
                   for t in around)

    def _event_date(self, sentence: _Sentence, verb: Token, rule: str) -> datetime | None:
        event_date = None
        if rule not in ("schedule", "launch"):
            for ent in sentence.span.ents:
                if ent.label_ == "DATE" and _governor(ent.root).i == verb.i:
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
            core = _core(subject)
            named = [m for m in sentence.mentions if any(i in core for i in range(m.start, m.end)) and not m.role]
            if len(named) == 1:
                return self.name(named[0])
            if named or _is_plural(subject):
                return None
            if _refers_back(subject, core, sentence.title):
                return self.refer_back(sentence, subject.i)
        if not any(not m.role for m in sentence.mentions):
            return self.refer_back(sentence, sentence.span.end)
        return None

    # one event per company ----------------------------------------------------------------

    def _merge(self) -> list[_Found]:
        best: dict[str, _Sighting] = {}
        for sighting in self.sightings:
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
        ordered = sorted(self.sentences, key=lambda s: (s.number != sighting.sentence, abs(s.number - sighting.sentence)))
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
    """(paragraphs to parse, whether the first is the headline). The headline, the lede,
    every paragraph with listing words and the list that follows a roundup: the others
    cannot hold an event."""
    lines = [_DATELINE.sub("", " ".join(line.split())) for line in text.split("\n")]
    lines = [line for line in lines if line]
    wanted = [i == 0 or bool(rules.PARAGRAPH_KEYWORDS.search(line)) for i, line in enumerate(lines)]
    # A roundup names its companies in the paragraph after the one with the stage.
    kept = [line for i, line in enumerate(lines)
            if wanted[i] or i > 0 and wanted[i - 1] and rules.ROUNDUP_LIST.search(line)]
    head = [title.strip()] if title and title.strip() else []
    return head + kept, bool(head)


@functools.lru_cache(maxsize=4)
def _english_words(nlp: Language) -> frozenset[str]:
    """The English words the pipeline's lemmatizer knows (its index of base forms)."""
    index = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_index", {})
    return frozenset(word for words in index.values() for word in words)


def _read(nlp: Language, items: list[tuple[list[str], bool, datetime | None]], known: bool) -> list[list[_Found]]:
    """Events of several texts, parsed in one batch: (paragraphs, has headline, date) each."""
    matcher = rules.stage_matcher(nlp)
    english = _english_words(nlp)
    flat = [(n, i, p) for n, (paragraphs, _, _) in enumerate(items) for i, p in enumerate(paragraphs)]
    docs: dict[int, list[Doc]] = {}
    for (n, _, _), doc in zip(flat, nlp.pipe([p for _, _, p in flat], batch_size=64)):
        docs.setdefault(n, []).append(doc)
    results = []
    for n, (_, has_title, reference) in enumerate(items):
        sentences: list[_Sentence] = []
        for index, doc in enumerate(docs.get(n, [])):
            for span in doc.sents:
                headline = index == 0 and has_title
                sentences.append(_Sentence(span, len(sentences), headline,
                                           sentence_mentions(span, english, known_mode=known, headline=headline)))
        results.append(_ArticleReader(sentences, reference, known, matcher).read() if sentences else [])
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
    _require_parser(nlp)
    chosen = [a for a in articles if a.is_relevant is True and a.duplicate_of is None]
    items = []
    for article in chosen:
        paragraphs, has_title = _paragraphs(article.title, article.text)
        items.append((paragraphs, has_title, article.published_at or article.fetched_at))
    events: list[ListingEvent] = []
    for article, found in zip(chosen, _read(nlp, items, known=False)):
        events.extend(_to_events(found, article.article_id, known=False))
    return _first_sightings(events)


def _first_sightings(events: list[ListingEvent]) -> list[ListingEvent]:
    far_future = datetime.max.replace(tzinfo=timezone.utc)
    ordered = sorted(events, key=lambda e: (e.event_date or far_future, STAGE_RANK[e.stage]))
    kept: dict[str, ListingEvent] = {}
    for event in ordered:
        first = kept.setdefault(event.event_id, event)
        if first is not event:
            update = {}
            if first.stock_code is None and event.stock_code:
                update["stock_code"] = event.stock_code
            if first.amount is None and event.amount is not None:
                update.update(amount=event.amount, currency=event.currency)
            if update:
                kept[event.event_id] = first.model_copy(update=update)
    return list(kept.values())


def known_listings_from_seeds(nlp: Language, seeds: list[Seed]) -> list[ListingEvent]:
    """Listings the seed documents already report (finished or in progress): known=True."""
    _require_parser(nlp)
    items = [(_paragraphs(None, seed.text)[0], False, None) for seed in seeds]
    events: list[ListingEvent] = []
    for found in _read(nlp, items, known=True):
        events.extend(_to_events(found, None, known=True))
    return _first_sightings(events)
