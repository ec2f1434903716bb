"""Companies named in a parsed sentence: which spans are company names, under which name
an alert shows them, and whether the text names them as someone other than the issuer
(an investor, a parent, a sponsor, a customer, a rival).

The small spaCy model labels many Chinese company names as people, places or nothing, and
some money amounts and place names as organisations, so a span is a company name only when
its words say so (tasks/listings/rules.py): never a number, an amount, a place, a date or
a generic word, and a "person" or "place" only when it looks like a company.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spacy.tokens import Span, Token

from tasks.listings import rules
from tasks.names import ESTABLISHED, KNOWN_ORGS, issuer_name

# Legal forms a comma may separate from the name: "Youjia Technology Co., Ltd.".
_LEGAL_WORDS = {"ltd", "limited", "inc", "co", "corp", "llc", "plc", "company"}
# Surnames that are also English words: "Grace Lee" is a person.
_SURNAME_WORDS = {"lee", "long", "young", "king", "sun", "wood", "gray", "grey", "brown", "black", "white", "green",
                  "rose", "may", "hill", "lam", "ma", "so", "ho", "man", "ng", "hung", "chan", "wong", "law", "yang",
                  # Chinese surnames that the lemmatizer's word list holds too ("Robin Li")
                  "li", "wang", "zhang", "liu", "chen", "zhao", "huang", "zhou", "wu", "xu", "hu", "zhu", "gao",
                  "lin", "he", "guo", "luo", "liang", "song", "zheng", "xie", "han", "tang", "feng", "yu", "dong",
                  "xiao", "cheng", "cao", "yuan", "deng", "fu", "shen", "zeng", "peng", "lu", "su", "jiang", "cai",
                  "jia", "ding", "wei", "xue", "ye", "yan", "pan", "du", "dai", "xia", "zhong", "tian", "ren", "fan",
                  "fang", "shi", "yao", "tan", "liao", "zou", "xiong", "jin", "hao", "kong", "bai", "cui", "kang",
                  "mao", "qiu", "qin", "gu", "hou", "shao", "meng", "wan", "duan", "lei", "qian", "yin", "lau",
                  "leung", "cheung", "tsang", "chow", "yeung", "kwok", "fung", "tse", "ip", "mak", "chu", "wen", "yip",
                  "siu", "poon", "tam", "choi", "lai", "kwan", "lo"}
_MONTHS_AND_DAYS = {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
                    "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
                    "nov", "dec", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}


@dataclass
class Mention:
    """A company name in a sentence: its tokens, the name an alert shows, and its role."""

    start: int  # token offsets in the Doc
    end: int
    start_char: int
    end_char: int
    name: str
    known: bool  # a name from the known-organisation table
    role: bool  # the text names it as an investor, parent, sponsor, customer or rival
    # One unknown capitalised word at the start of a sentence ("Skyrun raised ..."): a
    # company only if the article also names it in full ("Skyrun Robotics").
    weak: bool = False
    # An English word with a capital ("Horizon", "Announcement"): a company only as the
    # short form of a name the article gives in full ("Horizon Robotics").
    word: bool = False

    @property
    def eligible(self) -> bool:
        """May stand for the issuer when the text refers back ("the company")."""
        return not self.role and self.name not in ESTABLISHED


def sentence_mentions(sentence: Span, english: frozenset[str] = frozenset(), known_mode: bool = False,
                      headline: bool = False) -> list[Mention]:
    """The company names of a sentence, in order. `english` is a set of English words: a
    capitalised word outside it is a name whatever the tagger says ("Ridelink" a noun).
    `known_mode` (reading the seeds, which list past listings "like SenseTime and
    4Paradigm") ignores comparisons as roles. A headline in title case ("Lidar Maker Hesai
    Slips ...") yields only the names the model or the known-organisation table recognises."""
    words = [t for t in sentence if t.is_alpha and not t.is_stop]
    # A headline, or a line that is one though the page did not mark it so (no full stop,
    # nearly every word capitalised).
    capitals = sum(t.text[:1].isupper() for t in words)
    title_case = len(words) >= 4 and (headline and capitals >= 0.7 * len(words) or capitals >= 0.85 * len(words)
                                      and not sentence.text.rstrip().endswith((".", "?", "!", '"', "\u201d")))
    spans = [ent for ent in sentence.ents if ent.label_ not in rules.NEVER_NAMES]
    if title_case:
        # Every word is capitalised, so the model calls words names ("Hong Kong Debut",
        # "Semiconductor Firms Surge"): only a known name or one with a coined word counts.
        spans = [ent for ent in spans if ent.label_ == "ORG" and (ent.ent_id_ or not _all_english(ent, english))]
    covered = {t.i for ent in spans for t in ent}
    run: list[Token] = []
    for token in list(sentence) + [None]:
        if token is not None and token.i not in covered and _is_name_token(token, english):
            run.append(token)
            continue
        if run:
            spans.append(sentence.doc[_name_start(run[0], sentence, covered): _name_end(run[-1], sentence, covered)])
            run = []
    if title_case:
        spans = [ent for ent in spans if ent.label_ == "ORG"]
    found = []
    for span in _merge_adjacent(sorted(_split_lists(spans), key=lambda s: s.start)):
        mention = _mention(span, sentence, known_mode, headline, english)
        if mention is not None:
            found.append(mention)
    return found


def _all_english(span: Span, english: frozenset[str]) -> bool:
    return bool(english) and all(t.lower_ in english or t.lemma_.lower() in english or not t.is_alpha for t in span)


def _is_name_token(token: Token, english: frozenset[str]) -> bool:
    if not token.text[:1].isupper() or any(c.isdigit() or c in "$%" for c in token.text):
        return False
    if token.pos_ == "PROPN":
        return True
    return token.is_alpha and not token.is_stop and bool(english) and token.lower_ not in english \
        and token.lemma_.lower() not in english and token.lower_ not in _MONTHS_AND_DAYS


def _name_start(first: Token, sentence: Span, covered: set[int]) -> int:
    """Where a run of proper nouns starts, taking in the capitalised words before it that
    the tagger called something else ("Qiming" a verb in "Qiming Vision")."""
    start = first.i
    while start > sentence.start:
        before = sentence.doc[start - 1]
        if before.i in covered or not before.text[:1].isupper() or not before.is_alpha or before.is_stop \
                or before.lower_ in _MONTHS_AND_DAYS or before.lower_ in rules.NOT_ISSUER_TEXT:
            break
        start -= 1
    return start


def _name_end(last: Token, sentence: Span, covered: set[int]) -> int:
    """Where a run of proper nouns ends, taking in capitalised words after it that the
    tagger called something else ("Sensing" a verb in "Lumo Sensing")."""
    end = last.i + 1
    while end < sentence.end:
        after = sentence.doc[end]
        if after.i in covered or not after.text[:1].isupper() or not after.is_alpha or after.is_stop \
                or after.lower_ in _MONTHS_AND_DAYS or after.lower_ in rules.NOT_ISSUER_TEXT:
            break
        end += 1
    return end


def _split_lists(spans: list[Span]) -> list[Span]:
    """Entities the model ran over a list ("Fleetwing and Visiomax") cut into their names;
    a known organisation ("Hong Kong Exchanges and Clearing") stays whole."""
    found = []
    for span in spans:
        cuts = [t.i for t in span if t.i not in (span.start, span.end - 1) and (
            t.lower_ in ("and", "&") or t.text == "," and t.nbor().lower_.rstrip(".") not in _LEGAL_WORDS)]
        if not cuts or span.ent_id_:
            found.append(span)
            continue
        start = span.start
        for cut in cuts + [span.end]:
            if cut > start:
                found.append(Span(span.doc, start, cut, label=span.label_))
            start = cut + 1
    return found


def _merge_adjacent(spans: list[Span]) -> list[Span]:
    """Names the model cut in two ("Feiyu" a person, "Photonics" an organisation) made
    one again, unless one half is a known organisation."""
    merged: list[Span] = []
    for span in spans:
        last = merged[-1] if merged else None
        if last is not None and last.end == span.start and not span[0].is_punct and not last[-1].is_punct \
                and last[-1].tag_ != "POS" and not (last.ent_id_ or span.ent_id_) \
                and (last.label_ or "") not in rules.NEVER_NAMES and (span.label_ or "") not in rules.NEVER_NAMES:
            label = "ORG" if "ORG" in (last.label_, span.label_) else (last.label_ or span.label_)
            merged[-1] = Span(span.doc, last.start, span.end, label=label)
            continue
        merged.append(span)
    return merged


def _mention(span: Span, sentence: Span, known_mode: bool, headline: bool, english: frozenset[str]) -> Mention | None:
    bounds = _trim(span)
    if bounds is None:
        return None
    doc = sentence.doc
    start, end = bounds
    tokens = doc[start:end]
    label = span.label_ if hasattr(span, "label_") else ""
    known = bool(span.ent_id_) and span.ent_id_ in KNOWN_ORGS if hasattr(span, "ent_id_") else False
    name = issuer_name(span.ent_id_ if known else tokens.text)
    verdict = _is_company_name(tokens, name, label, span.ent_id_ if known else None, english)
    if verdict == "weak" and english and tokens[0].lower_ not in english and tokens[0].lemma_.lower() not in english:
        verdict = True  # not an English word: a name even at the start of a sentence
    if not verdict or not headline and _is_modifier(tokens) or _is_description(tokens, known) \
            or rules.PLACE_AFTER.match(doc.text[tokens.end_char: tokens.end_char + 20]):
        return None
    before = doc.text[max(sentence.start_char, tokens.start_char - 160): tokens.start_char]
    after = doc.text[tokens.end_char: min(sentence.end_char, tokens.end_char + 80)]
    after = after[len(rules.LEGAL_TAIL.match(after).group(0)) if rules.LEGAL_TAIL.match(after) else 0:]
    role = bool(rules.ROLE_PHRASE_BEFORE.search(before) or rules.ROLE_AFTER.search(after))
    if not known_mode and not role:
        role = bool(rules.ROLE_WORD_BEFORE.search(before[-60:])) and not _subject_of_a_clause(tokens)
    return Mention(start, end, tokens.start_char, tokens.end_char, name, known, role,
                   weak=verdict in ("weak", "word"), word=verdict == "word")


def _subject_of_a_clause(tokens: Span) -> bool:
    """"after Chinese chip designer Montage Technology surged on its debut": the name is
    the subject of the clause "after" opens (a conjunction, not "after Zhipu" the rival)."""
    head = tokens.root
    return head.dep_ in ("nsubj", "nsubjpass") and any(
        child.dep_ == "mark" and child.lower_ in ("after", "following", "as", "like") for child in head.head.children)


def _is_description(tokens: Span, known: bool) -> bool:
    """One unknown word that says what the named company makes: "Exoskeleton" in
    "Exoskeleton maker Strideon", "Driverless" in "Driverless truck firm Longhaul AI" (a
    generic noun, then a name)."""
    doc = tokens.doc
    if known or len(tokens) != 1:
        return False
    # Up to two lower-case words may qualify the noun: "Driverless truck firm Longhaul AI".
    for noun_at in range(tokens.end, min(tokens.end + 3, len(doc) - 1)):
        noun, following = doc[noun_at], doc[noun_at + 1]
        if not noun.text.islower():
            return False
        if noun.lower_ in rules.GENERIC_SUBJECTS and following.text[:1].isupper():
            return True
    return False


def _is_modifier(tokens: Span) -> bool:
    """A name that qualifies another noun, like a product's: "the Talkie chatbot app",
    "Walker S robots" (but "MiniMax shares" and "Zhipu's IPO" are the company's)."""
    last = tokens[-1]
    head = last.head
    return last.dep_ == "compound" and head.i >= tokens.end and head.pos_ == "NOUN" \
        and head.lemma_.lower() not in rules.OWN_NOUNS


def _trim(span: Span) -> tuple[int, int] | None:
    """The span's token bounds without a leading "the" or description ("Chipmaker"), a
    trailing possessive or punctuation."""
    start, end = span.start, span.end
    doc = span.doc
    quotes = [t.i for t in doc[start:end] if t.text in ("\u201c", "\u201d", '"')]
    if len(quotes) >= 2 and quotes[1] - quotes[0] > 1:
        start, end = quotes[0] + 1, quotes[1]  # 'Chinese Company "Chumo Wenwen" Lists': the quoted name
    while start < end and (doc[start].lower_ in ("the", "a", "an") or doc[start].is_punct
                           or end - start > 1 and doc[start].lower_ in rules.GENERIC_SUBJECTS):
        start += 1  # "Chipmaker Quantix Micro files ...": the headline's description is not the name
    # A possessive inside the span ends the name: "Gearwise Robotics' H-share application".
    end = next((t.i for t in doc[start + 1:end] if t.tag_ == "POS"), end)
    while end > start and (doc[end - 1].tag_ == "POS" or doc[end - 1].is_punct and doc[end - 1].text != "+"
                           or doc[end - 1].text[:1].islower() and doc[end - 1].pos_ in ("VERB", "AUX", "ADV", "ADP")):
        end -= 1  # "Harbourline Robotics jumps": the model ran the name into the verb
    return (start, end) if start < end else None


def _is_company_name(tokens: Span, name: str, label: str, known_id: str | None,
                     english: frozenset[str] = frozenset()) -> bool | str:
    """True for a company name, "weak" for one only the rest of the article can confirm."""
    text = tokens.text
    lowered = text.lower()
    if not name or name.lower() in rules.NOT_ISSUER_TEXT or name in rules.NOT_ISSUERS:
        return False
    if known_id:
        return KNOWN_ORGS[known_id][0] == "ORG"
    if any(c.isdigit() or c in "$%¥€£" for c in text) or not any(c.isupper() for c in text) or len(name) < 3:
        return False
    if text.count("(") != text.count(")"):
        return False  # half of a bracket: a piece of a name the model cut
    if lowered in rules.NOT_ISSUER_TEXT or all(t.lower_ in _MONTHS_AND_DAYS or t.is_punct for t in tokens):
        return False
    if rules.PLACE_WORDS.match(text) or rules.PLACE_WORDS.match(name) or rules.NOT_ISSUER_WORDS.search(text):
        return False
    if all(t.is_stop or t.lower_ in rules.NOT_ISSUER_TEXT or t.is_punct for t in tokens):
        return False
    if all(word.lower() in rules.GENERIC_NAME_WORDS for word in re.findall(r"[\w+-]+", name)):
        return False  # "Speech AI" in "Speech AI firm Echoline": a description
    words = re.findall(r"[\w+-]+", name)
    if len(words) > 1 and tokens[0].ent_type_ in ("NORP", "LANGUAGE") \
            and all(word.lower() in rules.GENERIC_NAME_WORDS for word in words[1:]):
        return False  # "Cantonese AI firm", "Chinese robotics start-up": a description
    has_company_word = bool(rules.COMPANY_WORDS.search(name))
    if len(tokens) == 1 and not has_company_word and english and (
            tokens[0].lower_ in english or tokens[0].lemma_.lower() in english):
        # An English word with a capital is a company when the model says so and nothing
        # makes it a common noun ("Horizon raised ..."); after "the" or "these" it is one
        # ("The Announcement also permits ...") unless the article names a company so.
        determined = tokens.start > 0 and tokens.doc[tokens.start - 1].lower_ in (
            "the", "these", "this", "that", "those", "such", "an", "a", "each", "every")
        return "word" if determined or label != "ORG" else True
    if label in ("GPE", "LOC", "FAC", "NORP", "EVENT", "LAW"):
        if len(tokens) == 1 and not has_company_word and label == "GPE":
            return "weak"  # "Hongyun raised ...": a company if the article names "Hongyun Data"
        return has_company_word and len(name.split()) > 1
    single = len(tokens) == 1 and not has_company_word
    if label == "PERSON":
        # A person's name has two or three parts ("Zhang Peng"); a one-word "person" the
        # model does not know is usually a company ("Lumiray"), and so is one that ends in
        # an English word ("Lumo Sensing").
        if has_company_word:
            return True
        if len(tokens) == 1:
            return "weak" if tokens[0].is_sent_start else True
        last = tokens[-1].lower_
        return bool(english) and (last in english or last.endswith("s") and last[:-1] in english) \
            and last not in _SURNAME_WORDS
    if label == "CARDINAL":
        return not any(t.like_num for t in tokens)
    if re.fullmatch(r"[A-Z0-9]{1,6}\.[A-Z]{1,2}", text):
        return False  # a ticker: "WRD.US", "0800.HK"
    if not label:
        # A run of proper nouns the model did not recognise: a company only with a
        # company word or as a single unusual word ("Seyond").
        if len(tokens) == 1:
            return has_company_word or ("weak" if tokens[0].is_sent_start else True)
        # Several proper nouns: a company when one is a company word or a coined word
        # ("Skyhawk Aviation"), not when all are English ("Lunar New Year").
        return has_company_word or bool(english) and any(
            t.lower_ not in english and t.lemma_.lower() not in english for t in tokens)
    return "weak" if single and tokens[0].is_sent_start and label != "ORG" else True


def aliases_between(doc_text: str, first: Mention, second: Mention) -> bool:
    """True when the text between two names joins them as one company: "Knowledge Atlas,
    also known as Zhipu", "Beijing Yunji Technology Co., Ltd. (hereinafter 'Yunji')"."""
    between = doc_text[first.end_char: second.start_char]
    return len(between) <= 60 and bool(rules.ALIAS_WORDS.match(between))
