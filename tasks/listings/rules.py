"""The listing rules as data: stage phrases (spaCy Matcher patterns) and the word lists
that decide whether a phrase reports a listing stage of a named issuer.

Detection (tasks/listings/detect.py) applies them to the dependency tree; nothing here
looks at a parse.
"""

from __future__ import annotations

import re
from functools import lru_cache

from spacy.language import Language
from spacy.matcher import Matcher

# --- stage phrases -------------------------------------------------------------------

_ANY = {"OP": "{0,4}"}  # up to four tokens of anything: "filed [a draft listing] application"
_WIDE = {"OP": "{0,6}"}  # "filed [for a Hong Kong initial public] offering"

# (rule name, stage, patterns). "schedule" is a future trading date: a pricing event
# only when a concrete date is given ("will begin trading on January 9").
RULES: list[tuple[str, str, list[list[dict]]]] = [
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
KNOWN_RULES: list[tuple[str, str, list[list[dict]]]] = [
    ("past_listing", "debut", [
        [{"LOWER": {"IN": ["ipo", "ipos", "listing", "listings", "float", "offerings", "offering"]}}],
    ]),
]


@lru_cache(maxsize=4)
def stage_matcher(nlp: Language, known: bool) -> Matcher:
    matcher = Matcher(nlp.vocab)
    for name, _, patterns in RULES + (KNOWN_RULES if known else []):
        matcher.add(name, patterns)
    return matcher


RULE_STAGE = {name: stage for name, stage, _ in RULES + KNOWN_RULES}

# The sentence must be about shares changing hands, not about products, jobs or prices.
LISTING_CONTEXT = re.compile(
    r"\b(ipos?|initial public offerings?|listings?|listed|to list|prospectus|hkex|stock exchange|exchange|"
    r"main board|gem|chapter 18c|shares?|stocks?|stock code|\w+\.hk|nasdaq|nyse|star market|"
    r"offer price|float|h-shares?|bourse|public offering|listing hearing|trading debut)\b",
    re.IGNORECASE,
)
# A "debut" is a market debut only next to market words; "SenseTime debuted its model" is not.
MARKET_DEBUT_CONTEXT = re.compile(
    r"\b(shares?|stock|stocks|trading|market debut|hkex|exchange|ipo|listing|listed|stock code|"
    r"\w+\.hk|opened at|closed at|offer price|per share|main board|float|bourse|gem|listings)\b",
    re.IGNORECASE,
)
NOT_IPO = re.compile(
    r"\b(product|job|property|home|rental|real estate|app store|marketplace|amazon|price|"
    r"search|shopping|apartment)\s+listings?\b|\bdelist|\bprivati[sz]",
    re.IGNORECASE,
)

# Verbs and modals that make the stage a plan, a wish, a denial or a failure, not a fact.
HEDGE_LEMMAS = {
    "plan", "consider", "mull", "weigh", "prepare", "seek", "aim", "intend", "hope", "explore",
    "eye", "look", "want", "try", "target", "fail", "delay", "postpone", "shelve", "scrap",
    "suspend", "cancel", "withdraw", "deny", "speculate", "rumor", "rumour", "expect",
    "may", "might", "could", "would", "should", "can", "need", "require",
}
# "X has filed, people familiar with the matter said": attribution to unnamed sources is a rumour;
# "its sponsor said in a statement" is not.
RUMOUR_VERBS = {"say", "report", "tell", "claim"}
RUMOUR_SOURCES = {"people", "person", "source", "insider", "analyst", "banker", "media", "report"}
HEDGE_WORDS = {"may", "might", "could", "would", "should", "can", "reportedly", "potentially",
                "possibly", "rumoured", "rumored", "yet", "not", "never", "n't", "without"}
SCHEDULE_OK = {"expect", "schedule", "set", "slate", "due"}

PRONOUNS = {"it", "its", "they", "their", "itself"}
GENERIC_SUBJECTS = {"company", "firm", "group", "startup", "start-up", "chipmaker", "developer",
                     "maker", "unicorn", "issuer", "designer", "operator", "provider", "lab"}

# Names in a listing sentence that are never the issuer: venues, regulators, banks, media.
NOT_ISSUERS = {
    "HKEX", "SFC", "HKMA", "Cyberport", "HKSTP", "HKUST", "Greater Bay Area", "Hong Kong",
    "Hong Kong AI Research and Development Institute",
}
NOT_ISSUER_WORDS = re.compile(
    r"\b(exchange|exchanges|nasdaq|nyse|star market|main board|gem|chapter|securities|bank|"
    r"index|commission|regulatory|csrc|sec|reuters|bloomberg|xinhua|caixin|daily|times|post|"
    r"lseg|dealogic|goldman|morgan|jpmorgan|citi|citigroup|ubs|hsbc|cicc|citic|huatai|haitong|"
    r"jefferies|government|council|university|ministry|bureau|hang seng)\b",
    re.IGNORECASE,
)
# Entities the model tags ORG that are words, not companies.
NOT_ISSUER_TEXT = {"ai", "gpu", "ipo", "ipos", "sar", "hksar", "gem", "ceo", "ai chip", "llm"}

ORG_LABELS = {"ORG"}
# Entity labels the small model puts on company names it does not know.
MISLABELLED = {"PERSON", "CARDINAL", "PRODUCT", "WORK_OF_ART"}
NAME_DEPS = {"nsubj", "nsubjpass", "appos", "conj", "pobj", "poss"}


HISTORICAL_WORDS = re.compile(r"\b(last year|years ago|previously|back in|earlier this decade|"
                               r"once again|already)\b", re.IGNORECASE)
# A date more than this many days before the article is history, not news (a January
# article may still report a December filing).
HISTORY_DAYS = 120

# Paragraphs worth parsing: cheap prefilter before spaCy.
PARAGRAPH_KEYWORDS = re.compile(r"list|ipo|debut|prospectus|hearing|trad|offer|float|pric|public|gong|stock|share|"
                       r"exchange|hkex|appl|fil|submit|phip", re.IGNORECASE)

# Nouns a company name may modify and still be the issuer: "MiniMax shares", "Zhipu's IPO".
OWN_NOUNS = {"share", "stock", "ipo", "listing", "debut", "offering", "prospectus", "application",
              "h-share", "float", "hearing"}
