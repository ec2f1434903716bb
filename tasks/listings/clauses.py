"""What the parse says about a stage phrase's clause: whether it reports the stage (not a
plan, a wish, an aside, a reference, background) and which noun phrase is its subject.

Plain functions of spaCy tokens; the word lists they use are in tasks/listings/rules.py.
The small model misparses news often (a main verb hung on its subject as a participle, a
verb with two subjects), so several of these look at the words around a token as well as
its links.
"""

from __future__ import annotations

from collections.abc import Iterator

from spacy.tokens import Span, Token

from tasks.listings import rules

# Subjects that are the listing itself, standing for the company it belongs to: "The final
# offer price was set at ...", "Trading starts on Friday".
STAGE_NOUNS = {"price", "share", "shares", "stock", "trading", "ipo", "listing", "offering", "application",
               "prospectus", "hearing", "deal", "float", "debut", "h-share", "h-shares"}
# Dependency links inside the noun phrase that names a subject ("Zhipu and Iluvatar CoreX",
# "MiniMax shares", "Shanghai Biren Technology Co's shares"), but not into its asides.
CORE_DEPS = {"compound", "conj", "appos", "poss", "flat", "nmod", "amod", "nummod", "det", "cc", "case",
             "npadvmod", "quantmod", "punct"}
SHARE_LEMMAS = {"share", "stock", "h-share", "h", "unit", "trading", "trade", "ipo", "listing", "offering", "debut",
                "application", "prospectus", "float"}
ASIDE_DEPS = {"relcl", "acl", "appos", "advcl", "parataxis", "ccomp"}
# Dates that make a relative clause news: "Meixin, which filed yesterday,".
RECENT_WORDS = {"today", "yesterday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
                "tonight", "morning", "evening", "afternoon"}
# Nouns whose "that" clause says what they report: "the news that X has filed".
CONTENT_NOUNS = {"news", "report", "announcement", "statement", "disclosure", "fact", "confirmation", "notice",
                 "filing", "document", "information"}


def governor(token: Token) -> Token:
    """The verb a stage phrase hangs on ("debut" in "made its debut" -> "made")."""
    current = token
    while current.pos_ not in ("VERB", "AUX") and current.head.i != current.i:
        current = current.head
    return current if current.pos_ in ("VERB", "AUX") else token


def clause_chain(verb: Token) -> Iterator[Token]:
    """The verb and the verbs it is an open complement or conjunct of, up to its clause."""
    current = verb
    yield current
    while current.dep_ in ("xcomp", "conj", "ccomp", "advcl", "aux", "pcomp", "prep", "acomp") \
            and current.head.i != current.i:
        current = current.head
        if current.pos_ in ("VERB", "AUX", "ADJ"):
            yield current


def is_hedged(verb: Token, rule: str) -> bool:
    """Planned, wished, denied, failed or future: "plans to file", "has not filed", "will
    list", "neither company has filed"."""
    future_ok = rule in ("schedule", "launch")
    previous = None
    for clause_verb in clause_chain(verb):
        for child in clause_verb.children:
            if child.dep_ == "neg" or child.lower_ in rules.HEDGE_WORDS:
                return True
            if child.dep_ in ("nsubj", "nsubjpass") and (child.lower_ in ("neither", "none", "nobody") or any(
                    c.lower_ in ("neither", "no") for c in child.children)):
                return True
            if child.dep_ in ("aux", "auxpass") and child.lower_ in ("will", "'ll", "shall") and not future_ok:
                return True
        lemma = clause_verb.lemma_.lower()
        # "has withdrawn its US filing and submitted an application in Hong Kong": a verb
        # coordinated with a hedge word is an action of its own.
        coordinated = previous is not None and previous.dep_ == "conj" and previous.head.i == clause_verb.i
        if (clause_verb.i != verb.i or rule != "schedule") and lemma in rules.HEDGE_LEMMAS and not coordinated \
                and not (future_ok and lemma in rules.SCHEDULE_OK):
            return True
        previous = clause_verb
    return False


def is_aside(verb: Token) -> bool:
    """A clause that describes a name in passing: "SenseTime, which listed in 2021," or
    "SenseTime, listed since 2021, rose". The parser also hangs some main verbs on their
    subject ("Lanxin Co Ltd, a GPU designer, filed for ..."), so a bare participle is an
    aside only when the sentence's own verb follows it; a relative clause is one only with
    a relative pronoun and no recent date ("Meixin, which filed yesterday," is news)."""
    if verb.dep_ == "amod":
        return True
    if verb.dep_ not in ("relcl", "acl", "appos"):
        return False
    if verb.head.lemma_.lower() in CONTENT_NOUNS:
        return False  # "the news that X has filed": what the news says, not an aside
    if any(c.tag_ in ("WDT", "WP", "WP$") or c.lower_ == "that" for c in verb.subtree if c.i < verb.i):
        return not any(t.ent_type_ == "DATE" and t.lower_ in RECENT_WORDS for t in verb.subtree)
    if verb.tag_ != "VBN" or any(c.dep_ in ("aux", "auxpass", "nsubj") for c in verb.children):
        return False
    end = max(t.i for t in verb.subtree) + 1
    for token in verb.sent[end - verb.sent.start:]:
        if token.tag_ in ("VBD", "VBZ", "VBP", "MD"):
            return True  # "SenseTime, listed since 2021, rose": the main verb follows
        if token.pos_ in ("NOUN", "PROPN", "PRON"):
            return False  # another subject first: the participle was the main verb
    return False


def clause_tokens(verb: Token, trigger: Span) -> list[Token]:
    """The stage's own clause: the verb's subtree without the asides and other clauses
    hanging off it (unless the stage phrase is in them)."""
    inside = {t.i for t in trigger}
    dropped: set[int] = set()
    for token in verb.subtree:
        if token.i != verb.i and token.dep_ in ASIDE_DEPS | {"conj"} and token.pos_ in ("VERB", "AUX") \
                and not any(t.i in inside for t in token.subtree):
            dropped.update(t.i for t in token.subtree)
    return [t for t in verb.subtree if t.i not in dropped] or list(trigger)


def own_words(verb: Token, trigger: Span) -> list[Token]:
    """The stage's clause without phrases that tell of something else: "has filed for a
    third time after two failed attempts" is a filing, whatever failed before it."""
    clause = clause_tokens(verb, trigger)
    inside = {t.i for t in trigger}
    dropped: set[int] = set()
    for token in clause:
        if token.dep_ == "prep" and token.lower_ in rules.REFERENCE_WORDS and token.head.i == verb.i \
                and not any(t.i in inside for t in token.subtree):
            dropped.update(t.i for t in token.subtree)
    return [t for t in clause if t.i not in dropped]


def is_reference(trigger: Span, verb: Token) -> bool:
    """A stage noun the sentence refers to rather than reports: "after Horizon's debut",
    "ahead of its debut", "the application follows Horizon's debut"."""
    current = trigger.root
    while current.i != verb.i and current.head.i != current.i:
        current = current.head
        if current.lower_ in rules.REFERENCE_WORDS:
            return True
    return verb.lemma_.lower() in rules.REFERENCE_VERBS


def is_subordinate(verb: Token, rule: str) -> bool:
    """A stage verb in a clause that looks ahead, or back by weeks: "before it lists", "on
    track to debut", "three weeks after the company began trading", "after pricing its
    offering" (an attribute of the story's main event). "Shares rose after the company
    filed its application" reports the filing."""
    for clause_verb in clause_chain(verb):
        for child in clause_verb.children:
            if child.dep_ == "mark" and child.lower_ in rules.REFERENCE_WORDS:
                if child.lower_ not in rules.REPORTING_MARKS:
                    return True
                if any(t.lower_ in rules.LONG_AGO for t in child.subtree) or any(
                        t.lower_ in rules.LONG_AGO for t in child.children):
                    return True
            if child.dep_ == "aux" and child.tag_ == "TO" and rule not in ("schedule", "launch", "headline_raise") \
                    and clause_verb.i == verb.i and not is_latest_to(verb):
                return True
        if clause_verb.dep_ == "pcomp" and clause_verb.head.lower_ in rules.REFERENCE_WORDS:
            # "is set to make history after passing its listing hearing": with the main
            # clause still ahead, the step after which it comes is the latest news.
            return not (clause_verb.head.lower_ == "after" and looks_ahead(clause_verb.head.head))
        if clause_verb.i != verb.i:
            break
    return False


def is_hedged_by_intent(verb: Token) -> bool:
    """Hedged only by a word of intent ("seeking to raise", "plans to offer"), not by a
    modal, a negation or a failure: with the offering's price range given, that is how a
    launched deal is often announced."""
    for clause_verb in clause_chain(verb):
        for child in clause_verb.children:
            if child.dep_ == "neg" or child.lower_ in rules.HEDGE_WORDS - {"yet"}:
                return False
        if clause_verb.lemma_.lower() in rules.HEDGE_LEMMAS - rules.INTENT_LEMMAS:
            return False
    return True


def is_past_perfect(verb: Token) -> bool:
    """"The company had launched the offering": background to the story, unless someone
    says so ("X said it had filed")."""
    if not any(c.dep_ == "aux" and c.lower_ in ("had", "'d") for c in verb.children):
        return False
    return not any(v.lemma_.lower() in rules.REPORTING_VERBS for v in clause_chain(verb) if v.i != verb.i)


_AHEAD_LEMMAS = frozenset({"set", "poise", "expect", "due", "prepare", "ready", "plan", "aim", "gear", "slate"})


def looks_ahead(verb: Token) -> bool:
    """The clause is still to happen: "will list", "is set to debut", "poised to become"."""
    current = verb
    for _ in range(3):
        if any(c.dep_ == "aux" and c.lower_ in ("will", "'ll", "shall") for c in current.children) \
                or current.lemma_.lower() in _AHEAD_LEMMAS:
            return True
        if current.dep_ not in ("xcomp", "acomp", "ccomp") or current.head.i == current.i:
            return False
        current = current.head
    return False


def is_latest_to(verb: Token) -> bool:
    """"X became the latest AI firm to list in Hong Kong": a report, though an infinitive."""
    ordinal = ("latest", "newest", "first", "second", "third", "fourth", "fifth")
    if verb.dep_ == "xcomp" and verb.head.lemma_ in ("become", "be"):
        # The parser may hang the infinitive on the verb, not on the noun: "became [the
        # latest robot maker] [to go public in Hong Kong]".
        governor = verb.head
        noun = next((c for c in governor.children if c.dep_ == "attr"), None)
    elif verb.dep_ in ("acl", "relcl", "xcomp"):
        noun = verb.head
        governor = noun.head
    else:
        return False
    return noun is not None and any(c.lower_ in ordinal for c in noun.children) \
        and governor.lemma_ in ("become", "be") and governor.tag_ in ("VBD", "VBZ")


def subjects(verb: Token) -> list[Token]:
    """The verb's subjects (of the nearest verb up its clause that has one), the closest to
    it first: a verb with two subjects is a misparse, and the nearer is usually right. A
    relative pronoun stands for the name it follows ("Yinhe, which filed ...")."""
    for clause_verb in clause_chain(verb):
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


def core(head: Token, examples: bool = False) -> set[int]:
    """The tokens of the noun phrase that names a subject or owner, without its asides;
    for "shares of X" and "X's shares", X too; with `examples`, also the names after
    "like" or "such as" ("AI giants like SenseTime")."""
    found, frontier = {head.i}, [head]
    while frontier:
        token = frontier.pop()
        for child in token.children:
            follow = child.dep_ in CORE_DEPS
            if child.dep_ == "poss" and token.lemma_.lower() in rules.ROLE_NOUNS:
                follow = False  # "Pathwise's rival, Tuoling": the rival is the subject
            if child.dep_ == "prep" and child.lower_ in ("of", "in") and token.lemma_.lower() in SHARE_LEMMAS:
                follow = True
            if examples and child.dep_ == "prep" and child.lower_ in ("like", "as", "including"):
                follow = True
            if child.dep_ == "pobj" and token.dep_ == "prep" and token.i in found:
                follow = True
            if follow and child.i not in found:
                found.add(child.i)
                frontier.append(child)
    return found


def refers_back(head: Token, core: set[int], headline: bool = False) -> bool:
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
    return head.lemma_.lower() in STAGE_NOUNS and not any(doc[i].pos_ == "PROPN" for i in core)


def is_plural(head: Token) -> bool:
    """"Three companies", "They", "Both", "The two firms": several companies at once."""
    lowered = head.lower_
    if lowered in ("they", "both", "pair", "duo", "trio"):
        return True
    return lowered in rules.PLURAL_SUBJECTS and (head.tag_ in ("NNS", "CD") or any(
        c.dep_ == "nummod" or c.lower_ in ("both", "two", "three", "four", "five", "several")
        for c in head.children))
