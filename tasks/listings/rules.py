"""The listing rules as data: stage phrases (spaCy Matcher patterns) and the word lists
that decide whether a phrase reports a Hong Kong listing stage of a named issuer.

Detection (tasks/listings/detect.py) applies them to the parsed text; nothing here looks
at a parse. Each list says what it is for; the comments say where a word came from when
it is not obvious.
"""

from __future__ import annotations

import re
from functools import lru_cache

from spacy.language import Language
from spacy.matcher import Matcher

# --- stage phrases -------------------------------------------------------------------

# Up to four (eight) words, not across punctuation: "filed [a draft listing] application",
# "filed [confidentially for a Hong Kong initial public] offering".
_ANY = {"IS_PUNCT": False, "OP": "{0,4}"}
_WIDE = {"IS_PUNCT": False, "OP": "{0,8}"}
_APPROVE = {"LEMMA": {"IN": ["win", "receive", "obtain", "get", "secure", "gain", "give", "grant", "won"]}}
_NOD = {"LOWER": {"IN": ["approval", "nod", "go-ahead", "greenlight"]}}
_EXCHANGE = {"LOWER": {"IN": ["exchange", "committee", "hkex", "hkex's", "bourse", "hearing", "listing", "board",
                              "regulator"]}}
_OFFERING = {"LOWER": {"IN": ["ipo", "ipos", "offering", "offerings", "shares", "share", "offer", "float", "stock",
                              "listing", "listings", "units", "deal", "h-shares", "h"]}}

# (rule name, stage, patterns). A rule's name says which checks detection applies:
# "launch" and "schedule" are a priced or launched offering (pricing), "debut_word" needs
# market words around it, "hearing_pack" is the exchange's post-hearing document.
RULES: list[tuple[str, str, list[list[dict]]]] = [
    ("filing", "filing", [
        [{"LEMMA": {"IN": ["file", "submit", "lodge", "refile", "resubmit", "re-file", "re-submit"]}}, _WIDE,
         {"LOWER": {"IN": ["application", "applications", "prospectus", "prospectuses", "ipo", "ipos", "listing",
                           "listings", "papers", "paperwork", "proof", "offering", "offerings", "a1"]}}],
        [{"LEMMA": {"IN": ["file", "refile"]}}, {"LOWER": "to"}, {"LEMMA": {"IN": ["list", "float", "go"]}}],
        [{"LEMMA": {"IN": ["file", "refile"]}}, {"LOWER": {"IN": ["confidentially", "with"]}},
         {"OP": "{0,3}"}, {"LOWER": {"IN": ["hkex", "exchange", "bourse", "ipo", "listing"]}}],
        [{"LEMMA": "apply"}, {"LOWER": {"IN": ["for", "to"]}}, {"OP": "{0,3}"},
         {"LOWER": {"IN": ["listing", "ipo", "list", "float"]}}],
        [{"LOWER": "confidential"}, {"LOWER": {"IN": ["filing", "submission", "basis"]}}],
        # Mainland press: "its H-share listing application was accepted by the exchange"
        [{"LOWER": {"IN": ["application", "applications"]}}, {"OP": "{0,3}"},
         {"LEMMA": "accept", "TAG": {"IN": ["VBN", "VBD"]}}],
        # "handed in its prospectus to the exchange", "delivered its listing application"
        [{"LEMMA": {"IN": ["hand", "deliver", "send"]}}, {"LOWER": {"IN": ["in", "over"]}, "OP": "?"}, _ANY,
         {"LOWER": {"IN": ["application", "prospectus", "a1"]}}],
    ]),
    ("hearing", "hearing", [
        [{"LEMMA": {"IN": ["pass", "clear"]}}, {"IS_PUNCT": False, "OP": "{0,6}"}, {"LOWER": {"IN": ["hearing", "hearings"]}}],
        [_APPROVE, _WIDE, _NOD, {"OP": "{0,6}"}, _EXCHANGE],
        # "won the exchange's nod", "won the listing committee's approval"
        [_APPROVE, {"OP": "{0,3}"}, {"LOWER": {"IN": ["hkex", "exchange", "bourse", "listing"]}},
         {"LOWER": {"IN": ["committee", "'s", "\u2019s"]}, "OP": "{0,2}"}, _NOD],
        [_APPROVE, _ANY, {"LOWER": "green"}, {"LOWER": "light"}],
        [_APPROVE, _ANY, {"LOWER": "go"}, {"ORTH": "-"}, {"LOWER": "ahead"}],
        # "given the all-clear by the listing committee", "got the thumbs-up from the bourse"
        [_APPROVE, _ANY, {"LOWER": {"IN": ["all", "thumbs"]}}, {"ORTH": "-"}, {"LOWER": {"IN": ["clear", "up"]}}],
        # "sailed through its listing hearing", "breezed through the hearing"
        [{"LEMMA": {"IN": ["sail", "breeze", "cruise", "romp", "get", "come", "make"]}}, {"LOWER": "it", "OP": "?"},
         {"LOWER": "through"}, _ANY, {"LOWER": {"IN": ["hearing", "hearings"]}}],
        [{"LEMMA": "approve"}, _ANY, {"LOWER": {"IN": ["application", "applications", "listing", "listings",
                                                       "ipo", "ipos", "list"]}}],
    ]),
    ("hearing_pack", "hearing", [
        [{"LOWER": "post"}, {"ORTH": "-"}, {"LOWER": "hearing"}, {"LOWER": {"IN": ["information", "info"]}}],
        [{"LOWER": "post-hearing"}, {"LOWER": {"IN": ["information", "info"]}}],
        [{"LOWER": "phip"}],
    ]),
    ("pricing", "pricing", [
        [{"LEMMA": "price", "POS": "VERB"}, _WIDE, _OFFERING],
        [{"LEMMA": "price", "POS": "VERB", "TAG": {"IN": ["VBD", "VBN", "VBZ"]}}, {"LOWER": "at"},
         {"LIKE_NUM": True, "OP": "?"}, {"TEXT": {"REGEX": r"^(?:HK|US)?\$|^\d"}}],
        [{"LEMMA": "price", "POS": "VERB", "TAG": {"IN": ["VBD", "VBN", "VBZ"]}}, {"LOWER": "at"}, {"LOWER": "the"},
         {"LOWER": {"IN": ["top", "bottom", "middle", "low", "high", "lower", "upper", "midpoint"]}}],
        [{"LOWER": {"IN": ["ipo", "offering", "shares", "offer", "float", "stock", "deal"]}}, {"OP": "{0,3}"},
         {"LEMMA": "price", "TAG": {"IN": ["VBN", "VBD"]}}],
        [{"LEMMA": {"IN": ["set", "fix", "determine"]}}, {"OP": "{0,3}"},
         {"LOWER": {"IN": ["offer", "offering", "final", "ipo", "issue", "its", "the"]}}, {"LOWER": "price"}],
        [{"LOWER": "final"}, {"LOWER": {"IN": ["offer", "offering", "issue", "ipo"]}, "OP": "?"}, {"LOWER": "price"},
         {"LOWER": {"IN": ["was", "is", "has", "of", "at"]}}],
        [{"LOWER": {"IN": ["offer", "offering", "issue", "ipo"]}}, {"LOWER": "price"},
         {"LOWER": {"IN": ["was", "is", "has", "had"]}, "OP": "?"}, {"LOWER": "been", "OP": "?"},
         {"LOWER": {"IN": ["set", "fixed", "determined"]}}],
    ]),
    ("raised", "pricing", [
        # Up to ten words between: "raised HK$5 billion ($640 million) in its initial public offering"
        [{"LEMMA": "raise", "TAG": {"IN": ["VBD", "VBN"]}}, {"OP": "{0,10}"}, {"LOWER": "in"}, {"OP": "{0,6}"},
         {"LOWER": {"IN": ["ipo", "offering", "listing", "float"]}}],
    ]),
    ("launch", "pricing", [
        [{"LEMMA": {"IN": ["launch", "relaunch", "re-launch", "kick", "start", "begin", "open", "commence", "restart"]}},
         {"OP": "{0,6}"},
         {"LOWER": {"IN": ["ipo", "offering", "books", "bookbuilding", "book-building", "subscription",
                           "subscriptions"]}}],
        [{"LEMMA": {"IN": ["take", "accept"]}}, {"LOWER": "orders"}],
        # "is offering 86 million shares at HK$38 to HK$45": books open now (the past, "sold
        # shares at HK$30", is an attribute of a pricing or a debut the sentence reports)
        [{"LEMMA": {"IN": ["offer", "sell", "market"]}, "TAG": {"IN": ["VBG", "VBZ", "VBP", "VB"]}}, {"LIKE_NUM": True},
         {"LOWER": {"IN": ["million", "billion", "mln", "bln", "m", "bn"]}, "OP": "?"},
         {"LOWER": {"IN": ["new", "h", "global"]}, "OP": "?"}, {"LOWER": {"IN": ["shares", "share"]}}],
        [{"LEMMA": "conduct"}, {"OP": "{0,2}"}, {"LOWER": "global"}, {"LOWER": "offering"}],
        # A marketed range: "shares at HK$3.73 to HK$3.99 each", "between HK$151 and HK$165".
        [{"LOWER": {"IN": ["hk$", "us$", "$", "hkd", "rmb"]}}, {"LIKE_NUM": True},
         {"LOWER": {"IN": ["to", "and", "-", "\u2013"]}}, {"LOWER": {"IN": ["hk$", "us$", "$", "hkd", "rmb"]}, "OP": "?"},
         {"LIKE_NUM": True}, {"LOWER": {"IN": ["each", "apiece", "per", "a"]}}],
    ]),
    # A headline's "Black Sesame to raise up to US$143 million in Hong Kong IPO": the deal's
    # terms are out (detection takes it from a headline only; in a body it is a plan).
    ("headline_raise", "pricing", [
        [{"LOWER": "to"}, {"LEMMA": "raise", "TAG": "VB"}, {"OP": "{0,8}"}, {"LOWER": {"IN": ["in", "via", "from", "through"]}},
         {"OP": "{0,4}"}, {"LOWER": {"IN": ["ipo", "offering", "listing", "float"]}}],
    ]),
    # The subscription itself, terms or not: "when the books closed", "the retail tranche
    # was oversubscribed 320 times".
    ("subscription", "pricing", [
        [{"LOWER": "books"}, {"LEMMA": "close", "TAG": {"IN": ["VBD", "VBZ", "VBP", "VBN"]}}],
        [{"LOWER": {"IN": ["tranche", "portion", "offering", "ipo", "offer", "float"]}}, {"OP": "{0,3}"},
         {"LOWER": {"IN": ["oversubscribed", "over-subscribed"]}}],
    ]),
    ("schedule", "pricing", [
        [{"LOWER": {"IN": ["expected", "scheduled", "set", "slated", "due"]}}, {"LOWER": "to"},
         {"LEMMA": {"IN": ["begin", "start", "commence", "debut", "list", "be"]}}],
        [{"LOWER": "will"}, {"LEMMA": {"IN": ["begin", "start", "commence"]}}, {"LOWER": "trading"}],
        [{"LOWER": "will"}, {"LEMMA": {"IN": ["debut", "list"]}}],
        [{"LOWER": "will"}, {"LOWER": "be"}, {"LOWER": "listed"}],
    ]),
    ("debut_word", "debut", [
        [{"LEMMA": "debut"}],
        [{"LOWER": {"IN": ["debuts", "debuted", "debuting"]}}],
    ]),
    ("debut", "debut", [
        [{"LEMMA": {"IN": ["begin", "start", "commence"]}, "TAG": {"IN": ["VBD", "VBN", "VBZ", "VBP"]}},
         {"LOWER": {"IN": ["trading", "dealings"]}}],
        [{"LOWER": {"IN": ["trading", "dealings"]}}, {"OP": "{0,3}"},
         {"LEMMA": {"IN": ["begin", "start", "commence"]}, "TAG": {"IN": ["VBD", "VBN"]}}],
        [{"LOWER": "first"}, {"LOWER": {"IN": ["day", "session"]}}, {"LOWER": "of"},
         {"LOWER": {"IN": ["trading", "dealings", "listing", "dealing"]}}],
        [{"LOWER": "first"}, {"LOWER": {"IN": ["day", "session", "trading"]}}, {"LOWER": {"IN": ["day", "session"]},
                                                                            "OP": "?"}],
        [{"LOWER": "first-day"}],
        [{"LEMMA": "list", "TAG": {"IN": ["VBD", "VBN"]}}, {"LOWER": {"IN": ["on", "in"]}}, _ANY,
         {"LOWER": {"IN": ["hkex", "exchange", "board", "market", "kong", "gem", "bourse", "city"]}}],
        [{"LEMMA": "list", "TAG": {"IN": ["VBD", "VBN"]}}, {"LOWER": "in"}, {"LOWER": "hong"}, {"LOWER": "kong"}],
        # "became the latest lidar maker to list in Hong Kong" (other infinitives are plans)
        [{"LOWER": "to"}, {"LEMMA": {"IN": ["list", "debut"]}, "TAG": "VB"}, {"LOWER": {"IN": ["in", "on"]}}],
        [{"LOWER": "to"}, {"LEMMA": "go", "TAG": "VB"}, {"LOWER": "public"}, {"LOWER": {"IN": ["in", "on"]}}],
        [{"LEMMA": {"IN": ["ring", "strike", "sound", "hit", "bang"]}}, {"OP": "{0,3}"}, {"LOWER": {"IN": ["gong", "bell"]}}],
        [{"LOWER": {"IN": ["gong-ringing", "bell-ringing"]}}],
        # "went public", "has gone public" ("attempts at going public" is no report)
        [{"LEMMA": "go", "TAG": {"IN": ["VBD", "VBN", "VBZ"]}}, {"LOWER": "public"}],
        [{"LEMMA": "land"}, {"LOWER": {"IN": ["on", "in"]}}, _ANY,
         {"LOWER": {"IN": ["hkex", "exchange", "market", "board", "kong"]}}],
        [{"LEMMA": "complete", "TAG": {"IN": ["VBD", "VBN", "VBZ"]}}, {"OP": "{0,4}"},
         {"LOWER": {"IN": ["listing", "ipo", "float"]}}],
    ]),
    # "Hong Kong welcomed four new listings on Thursday, including ...": a roundup.
    ("welcomed", "debut", [
        [{"LEMMA": "welcome", "TAG": {"IN": ["VBD", "VBZ"]}}, {"OP": "{0,3}"},
         {"LOWER": {"IN": ["listings", "debuts", "ipos", "debutants", "newcomers"]}}],
    ]),
    # "opened at HK$5.39" in a sentence that gives the offer price (detection checks).
    ("first_open", "debut", [
        [{"LEMMA": "open", "TAG": {"IN": ["VBD", "VBZ"]}}, {"LOWER": {"IN": ["at", "up", "down", "higher", "lower"]}}],
    ]),
    # The first day told by its moves: "surged in Hong Kong after an initial public
    # offering", "slumps 26% in IPO", "opened 3.3% higher than its offer price".
    ("first_trade", "debut", [
        [{"LEMMA": {"IN": ["surge", "soar", "jump", "rise", "climb", "gain", "rally", "fall", "slump", "sink", "drop",
                           "tumble", "plunge", "slide", "double", "triple"]}, "TAG": {"IN": ["VBD", "VBZ", "VBN"]}},
         {"OP": "{0,8}"}, {"LOWER": {"IN": ["after", "following"]}}, {"LOWER": {"IN": ["an", "a", "its", "their", "the"]}},
         {"OP": "{0,3}"}, {"LOWER": {"IN": ["ipo", "offering", "listing", "float"]}}],
        [{"LEMMA": {"IN": ["surge", "soar", "jump", "rise", "climb", "gain", "rally", "fall", "slump", "sink", "drop",
                           "tumble", "plunge", "slide", "double", "triple"]}, "TAG": {"IN": ["VBD", "VBZ", "VBN"]}},
         {"OP": "{0,4}"}, {"LOWER": {"IN": ["in", "on", "at"]}}, {"LOWER": {"IN": ["its", "their", "the", "hong", "secondary"]},
                                                                 "OP": "{0,2}"},
         {"LOWER": {"IN": ["kong", "hk"]}, "OP": "?"}, {"LOWER": {"IN": ["ipo", "float"]}}],
        [{"LEMMA": {"IN": ["open", "start", "begin", "debut", "trade"]}, "TAG": {"IN": ["VBD", "VBZ", "VBN"]}},
         {"OP": "{0,6}"}, {"LOWER": {"IN": ["higher", "lower", "above", "below", "up", "down", "from", "versus", "against"]}},
         {"OP": "{0,4}"}, {"LOWER": {"IN": ["offer", "ipo", "listing", "offering", "issue"]}}, {"LOWER": "price"}],
    ]),
]


# "Trading in shares of X, a ... developer of ..., began on GEM": the subject and its verb
# too far apart for a token pattern; detection finds them in the parse.
TRADING_SUBJECTS = {"trading", "dealings"}
TRADING_RULE = "debut_trading"
TRADING_VERBS = {"begin", "start", "commence"}


# Irregular forms of the rules' verbs; regular ones are generated (inflections()).
_IRREGULAR = {"ring": ("rang", "rung"), "begin": ("began", "begun"), "win": ("won",), "get": ("got", "gotten"),
              "give": ("gave", "given"), "take": ("took", "taken"), "sell": ("sold",), "make": ("made",),
              "come": ("came",), "go": ("went", "gone"), "set": (), "put": (), "lead": ("led",)}


# Past forms the tagger may still call present ("rang" as VBP).
PAST_FORMS = {form for forms in _IRREGULAR.values() for form in forms if not form.endswith("n")}


def inflections(lemma: str) -> set[str]:
    """The forms a verb's lemma may take in the news: "file" -> files, filed, filing;
    "submit" -> submitted; "apply" -> applied; "ring" -> rang, rung."""
    forms = {lemma, lemma + "s", lemma + "es", lemma + "ed", lemma + "ing", *_IRREGULAR.get(lemma, ())}
    if lemma.endswith("e"):
        forms |= {lemma + "d", lemma[:-1] + "ing"}
    if lemma.endswith("y"):
        forms |= {lemma[:-1] + "ies", lemma[:-1] + "ied"}
    if len(lemma) > 2 and lemma[-1] not in "aeiouwxy" and lemma[-2] in "aeiou" and lemma[-3] not in "aeiou":
        forms |= {lemma + lemma[-1] + "ed", lemma + lemma[-1] + "ing"}  # "submitted", "kicking" harmless
    return forms


def _by_form(token: dict) -> dict:
    """A token pattern on lemmas made a pattern on their forms: the tagger mislabels verbs
    in unusual sentences ("rang" a present-tense verb with lemma "rang", in "X (02680.HK)
    rang the bell"), and then a lemma never matches."""
    lemma = token.get("LEMMA")
    if lemma is None:
        return token
    lemmas = lemma["IN"] if isinstance(lemma, dict) else [lemma]
    forms = sorted({form for word in lemmas for form in inflections(word)})
    return {**{k: v for k, v in token.items() if k != "LEMMA"}, "LOWER": {"IN": forms}}


@lru_cache(maxsize=4)
def stage_matcher(nlp: Language) -> Matcher:
    matcher = Matcher(nlp.vocab)
    for name, _, patterns in RULES:
        matcher.add(name, [[_by_form(token) for token in pattern] for pattern in patterns])
    return matcher


RULE_STAGE = {name: stage for name, stage, _ in RULES} | {TRADING_RULE: "debut"}

# Words after a stage noun that put it in the future: "debut set for Dec 29" ("the final
# offer price was set at" is past: "set" counts before "for" or "to" only).
SCHEDULED_WORDS = {"set", "scheduled", "slated", "due", "expected", "planned", "pencilled", "penciled"}
# A marketed price range in a sentence: an offering launched, however the verb hedges
# ("is still seeking to raise ..., offering 1.5 billion shares at $0.49 to $0.51 apiece").
PRICE_RANGE = re.compile(r"(?:HK|US)?\$\s?\d[\d.,]*\s*(?:to|-|\u2013|and)\s*(?:HK|US)?\$?\s?\d[\d.,]*", re.IGNORECASE)
# Words in a sentence that make it the first day's: "opened at HK$5.39" next to the price
# it was sold at.
OFFER_PRICE = re.compile(r"\b(?:offer|ipo|offering|listing|issue)\s+price\b|\bpriced\s+at\b", re.IGNORECASE)
# Nouns after "debut" that keep it a market debut: "debuts on HKEX", "debut trading".
MARKET_NOUNS = {"trading", "shares", "share", "stock", "session", "day", "market", "hkex", "exchange", "board",
                "gem", "ipo", "listing", "debut", "yesterday", "today", "week", "morning", "afternoon"}

# Seeds report finished listings in passing ("the IPOs of SenseTime and 4Paradigm", "its
# $5.3 billion Hong Kong listing"): reading them, these nouns count as a debut.
KNOWN_NOUNS = {"ipo", "ipos", "listing", "listings", "float", "offerings", "offering", "debut", "debuts"}

# --- sentences worth reading -----------------------------------------------------------

# Paragraphs worth parsing: a cheap test before spaCy.
# Words without which a paragraph holds no stage phrase; an article with none anywhere is
# not parsed at all.
STAGE_KEYWORDS = re.compile(
    r"\bipos?\b|initial public|\blist(?:ed|ing|s)?\b|debut|prospectus|hearing|\bfloat|trading|dealings|\bpric|"
    r"offer|gong|bell|applica|\bfil(?:ed|es|ing)\b|submit|phip|public|\blanded\b|approv|green light|go-ahead|"
    r"first[- ](?:day|session)",
    re.IGNORECASE)
# Credit lines extraction keeps beside the story ("Reporter: Jason Ng", "Source: Caijing
# Editor: Li Na", "By Zhang Wei | site | Updated: ...", a byline that is only a name): never
# read for events, and never taken for the lede.
CREDIT_LINE = re.compile(r"^(?:(?i:(?:reporter|correspondent|editor|writer|author|source)s?\s*:.{0,100})|"
                         r"(?i:by\s[^|]{1,60}\|.{0,120})|(?:[A-Z][\w'-]+\s){1,3}[A-Z][\w'-]+)$")
# Paragraphs read for an event's facts: its amount, its code, a roundup's first-day moves.
FACT_KEYWORDS = re.compile(r"%|per ?cent|\bpc\b|\(0\d{4}|\.hk\b|stock code|ticker|\brais|proceeds", re.IGNORECASE)
# The sentence must be about shares changing hands, not about products, jobs or prices.
LISTING_CONTEXT = re.compile(
    r"\b(ipos?|initial public offerings?|listings?|listed|to list|prospectus|hkex|stock exchange|exchange|"
    r"main board|gem|chapter 18c|shares?|stocks?|stock code|\w+\.hk|nasdaq|nyse|star market|"
    r"offer price|float|h-shares?|bourse|public offering|listing hearing|trading debut|hearing|"
    r"listing committee|dealings|first day of trading|global offering|hong kong|debuts?)\b",
    re.IGNORECASE,
)
# A "debut" is a market debut only next to market words; "SenseTime debuted its model" is not.
MARKET_DEBUT_CONTEXT = re.compile(
    r"\b(shares?|stock|stocks|trading|market debut|hkex|exchange|ipo|listing|listed|stock code|"
    r"\w+\.hk|opened at|closed at|offer price|per share|main board|float|bourse|gem|listings|"
    r"debutants?|per cent|percent|pc|debuts? in hong kong|debuted in hong kong|"
    r"(?:hong kong|hk|market|trading|listing|stock market|share|exchange|first-day)\s+debuts?)\b|%",
    re.IGNORECASE,
)
NOT_IPO = re.compile(
    r"\b(product|job|property|home|rental|real estate|app store|marketplace|amazon|price|"
    r"search|shopping|apartment|entity)\s+listings?\b|\bentity list\b",
    re.IGNORECASE,
)

# --- stages that are not reported, or not a new listing ----------------------------------

# Verbs and modals that make the stage a plan, a wish, a denial or a failure, not a fact.
HEDGE_LEMMAS = {
    "plan", "consider", "mull", "weigh", "prepare", "seek", "aim", "intend", "hope", "explore",
    "eye", "look", "want", "try", "target", "fail", "delay", "postpone", "shelve", "scrap",
    "suspend", "cancel", "withdraw", "deny", "speculate", "rumor", "rumour", "expect",
    "may", "might", "could", "would", "should", "can", "need", "require", "choose", "decide",
}
# Of those, the words of intent a launched deal is announced with ("seeking to raise up to
# HK$1.1 billion, offering shares at HK$5.01 to HK$5.28").
INTENT_LEMMAS = {"plan", "seek", "aim", "intend", "hope", "target", "look", "eye", "expect"}
HEDGE_WORDS = {"may", "might", "could", "would", "should", "can", "reportedly", "potentially",
               "possibly", "rumoured", "rumored", "yet", "not", "never", "n't", "if"}
# A rule that speaks of the future by nature: its own verb may be "expect" or "will".
SCHEDULE_OK = {"expect", "schedule", "set", "slate", "due"}
# Attribution to unnamed people makes a report a rumour ("people familiar with the matter
# said"); a document, a filing or the company itself does not.
RUMOUR = re.compile(
    r"\b(?:people|persons?|sources?|insiders?|bankers?)\s+(?:familiar|with\s+(?:direct\s+)?knowledge|close\s+to|"
    r"briefed|said|say|told|who)|\baccording\s+to\s+(?:(?:two|three|four|several|multiple)\s+)?(?:people|persons?|"
    r"sources|insiders|bankers)|\b(?:is|are|was|were)\s+said\s+to\b|\bsources\s+(?:said|say)\b|"
    r",\s*sources\s+said|\bindustry\s+insiders\s+(?:said|say|believe)|\breportedly\b|\bis\s+reported\s+to\b|"
    r"\brumou?rs?\b|[:\u2013\u2014-]\s*sources?\s*$|\b(?:after|amid|following)\s+(?:media\s+)?reports?\s+that\b|"
    r"\baccording\s+to\s+(?:media\s+)?reports\b|\bmedia\s+reports?\s+(?:said|say|suggest)",
    re.IGNORECASE)
# The mainland regulator's approval or filing notice for an overseas listing: never the
# exchange's hearing, however it is worded ("received approval from China's securities
# regulator for secondary listings in Hong Kong").
MAINLAND_REGULATOR = re.compile(
    r"\bCSRC\b|China\s+Securities\s+Regulatory|\bsecurities\s+regulator\b|"
    r"\b(?:China's|China\u2019s|Chinese|mainland|Beijing's|Beijing\u2019s)\s+(?:\w+\s+)?regulators?\b|"
    r"\bregulators?\s+in\s+(?:Beijing|China|the\s+mainland)\b|\bfiling\s+notice\b|\bfiling\s+procedures\b",
    re.IGNORECASE)
# Words in the stage's own clause that undo it or make it something other than a new
# listing: a lapsed, returned, withdrawn or rejected application, a delayed hearing, the
# mainland regulator's filing (not the exchange's), a follow-on share sale, trading that
# resumes, grey-market dealings before the debut, a move between boards.
NOT_REPORTED = re.compile(
    r"\blaps(?:e|ed|es|ing)\b|\bexpir(?:e|ed|es|y)\b|\binvalid\b|\bwithdr[ae]wn?\b|"
    r"\b(?:applications?|filings?|prospectus)\s+(?:\w+\s+){0,3}returned\b|\breturned\s+(?:\w+\s+){0,3}(?:applications?|filings?)\b|"
    r"\breject(?:ed|ion|s)?\b|\bturned\s+down\b|\bfail(?:ed|s|ure)?\b|\bpostpon|\bdelay|\bsuspen|\bhalt|"
    r"\bresum(?:e|ed|es|ption)\b|\bgr[ae]y[- ]market\b|\bdark\s+pool\b|\btransfer\b|\bplacing\b|\bplacement\b|"
    r"\btop-up\b|\bfollow-on\b|\bsell-?down\b|\brights\s+issue\b|\bblock\s+trade\b|\bconvertible\b|\bCSRC\b|"
    r"China\s+Securities\s+Regulatory|"
    r"\bfiling\s+(?:notice|procedures|materials)\b|\boverseas\s+listing\s+filing\b|"
    r"\b(?:pre-?(?:IPO|listing)|IPO|listing)\s+(?:tutoring|counsell?ing)\b|\b(?:tutoring|counsell?ing)\s+(?:with|by|"
    r"agreement|process)\b|"
    r"\b(?:updated|revised|amended|supplementary|refreshed)\s+(?:\w+\s+)?(?:documents?|prospectus|filings?|listing|"
    r"applications?)\b|"
    r"\bpre-IPO\b|\block-up\b|\bprivati[sz]|\bnot\s+yet\b|\byet\s+to\b|\bhas\s+not\b|\bhave\s+not\b|"
    r"\bsecond\s+(?:day|session)\b|\bsince\s+(?:its|their|the)\b",
    re.IGNORECASE)
# Words that make a stage history, not news, when they are in its clause.
HISTORICAL_WORDS = re.compile(r"\b(last year|years ago|back in|earlier this decade|(?:of|in) that (?:year|month)|"
                              r"the same year|"
                              r"(?:in|over) (?:recent|the past(?: few)?|the last(?: few)?) (?:weeks|months|years)|"
                              r"so far this year|earlier this year|"
                              r"for the first time|first time|the previous|earlier attempt|in the past|"
                              r"last (?:january|february|march|april|may|june|july|august|september|october|"
                              r"november|december|month|week))\b", re.IGNORECASE)
# A date more than this many days before the article is history, not news (a January
# article may still report a December filing).
HISTORY_DAYS = 60
# A headline or lede that reports a listing undone: "Hanmo postpones Hong Kong IPO",
# "has shelved its planned listing after its application lapsed". The filing, hearing or
# pricing the same story recalls is background to that news, whatever its date.
UNDONE_LEDE = re.compile(
    r"(?<!after )(?<!following )(?<!despite )(?<!to )"
    r"\b(?:postpon\w*|delay(?:s|ed|ing)?|shelv(?:e|es|ed|ing)|scrap(?:s|ped)?|"
    r"call(?:s|ed)? off|put(?:s|ting)? (?:\w+ ){0,4}on hold|halt(?:s|ed)?|suspend(?:s|ed)?|abandon(?:s|ed)?|"
    r"pull(?:s|ed)? (?:the plug|(?:its|their) (?:\w+ ){0,3}(?:IPO|listing|float|offering)))\b"
    r"(?=.{0,80}\b(?:IPO|listing|float|offering|share sale)\b)", re.IGNORECASE)
# A stage noun reached through these words is a reference, not a report: "after
# Horizon's debut", "the biggest since SenseTime's listing", "ahead of its debut".
REFERENCE_WORDS = {"after", "following", "since", "like", "than", "unlike", "before", "ahead", "until", "pending",
                   "prior", "toward", "towards", "despite", "for", "from", "follows", "follow", "followed"}
# Subordinate clauses that report what they say happened: "shares rose after the company
# filed its application" (but not "three weeks after it began trading").
REPORTING_MARKS = {"after", "following"}
LONG_AGO = {"weeks", "months", "years", "week", "month", "year"}
# Verbs whose object stage is a reference: "the filing follows Horizon's debut".
REFERENCE_VERBS = {"follow", "trail", "eclipse", "top", "beat", "surpass", "mirror", "echo", "recall", "resemble",
                   "compare", "join", "emulate", "replicate", "repeat", "cap", "mark", "watch", "await"}
# The noun a reported stage hangs on, when the stage is a noun: "rose in its debut",
# "made its debut", "ended its first day of trading".
REPORTING_PREPOSITIONS = {"in", "on", "during", "at", "upon"}

# --- who the stage belongs to ------------------------------------------------------------

# Nouns a company name may modify and still be the issuer: "MiniMax shares", "Zhipu's IPO".
OWN_NOUNS = {"share", "stock", "ipo", "listing", "debut", "offering", "prospectus", "application", "hearing",
             "h-share", "float", "shareholder", "unit", "spin-off", "subsidiary", "arm", "parent", "group", "founder",
             "chairman", "executive", "ceo", "price", "code", "result", "revenue", "valuation", "filing"}

PRONOUNS = {"it", "its", "they", "their", "itself", "it's"}
# Nouns that stand for the article's company: "the company", "the chipmaker", "The
# Hangzhou firm".
GENERIC_SUBJECTS = {"company", "firm", "group", "startup", "start-up", "chipmaker", "developer", "maker",
                    "unicorn", "issuer", "designer", "operator", "provider", "lab", "business", "supplier",
                    "manufacturer", "producer", "specialist", "newcomer", "debutant", "applicant", "unit",
                    "subsidiary", "spin-off", "player", "enterprise", "outfit", "venture", "entity"}
# Plural subjects that announce several companies: "Three companies began trading".
PLURAL_SUBJECTS = {"companies", "firms", "groups", "startups", "start-ups", "chipmakers", "developers", "makers",
                   "issuers", "designers", "operators", "providers", "newcomers", "debutants", "applicants",
                   "businesses", "enterprises", "ipos", "listings", "pair", "duo", "trio", "both", "they",
                   "three", "two", "four", "five", "six", "several"}
# Words after which a sentence lists the companies a roundup announced.
ROUNDUP_LIST = re.compile(r"^\s*(?:they|these|those|the\s+(?:companies|firms|three|four|two|five))\s+"
                          r"(?:are|were|include|included|including)\b|^\s*(?:among\s+them|they\s+include)",
                          re.IGNORECASE)
# Nouns for someone related to a company: "X's rival, Y" is about Y.
ROLE_NOUNS = {"rival", "peer", "competitor", "unit", "subsidiary", "arm", "affiliate", "parent", "investor",
              "backer", "shareholder", "customer", "client", "supplier", "partner", "sponsor", "spin-off"}
# A sentence that turns from a roundup's companies to the rest of the market.
ELSEWHERE = re.compile(r"^\s*(?:elsewhere|meanwhile|separately|in\s+other|among\s+other|the\s+broader)\b|"
                       r"\bindex\b|\bindices\b|\bbenchmark\b", re.IGNORECASE)
# Words after a roundup's stage that open the list of its companies in the same sentence.
LIST_OPENERS = {":", "namely", "including", "include"}
# Verbs under which a past perfect is what someone reports, not background.
REPORTING_VERBS = {"say", "tell", "announce", "add", "state", "confirm", "disclose", "report", "show", "reveal",
                   "note", "write", "explain"}
# "Shares of X jumped": the company whose shares moved.
SHARE_NOUNS = {"shares", "stock", "stocks"}
# Price moves of a roundup's companies on their first day: "X jumped 31 percent".
PRICE_MOVE_LEMMAS = {"rise", "fall", "jump", "gain", "slide", "sink", "surge", "slump", "drop", "climb", "edge",
                     "close", "end", "open", "soar", "tumble", "plunge", "dip", "advance", "finish", "trade",
                     "lose", "add", "be", "double", "triple", "rally", "sag", "slip", "tank", "leap", "spike"}

# Names in a listing sentence that are never the issuer: venues, regulators, banks, media.
NOT_ISSUERS = {
    "HKEX", "SFC", "HKMA", "Cyberport", "HKSTP", "HKUST", "Greater Bay Area", "Hong Kong",
    "Hong Kong AI Research and Development Institute",
}
NOT_ISSUER_WORDS = re.compile(
    r"\b(exchanges?|nasdaq|nyse|star market|main board|gem|chapter|securities|bank|banks|capital markets?|"
    r"index|indexes|indices|commission|regulatory|regulator|csrc|sec|reuters|bloomberg|xinhua|caixin|daily|times|"
    r"post|news|lseg|dealogic|refinitiv|wind|goldman|morgan|jpmorgan|citi|citigroup|ubs|hsbc|cicc|citic|huatai|"
    r"haitong|guotai|junan|jefferies|macquarie|nomura|barclays|deutsche|bnp|boci|abci|ccb|icbc|cmb|cmbi|futu|"
    r"deloitte|kpmg|pwc|ey|government|council|university|ministry|bureau|hang seng|stock connect|"
    r"international capital|china securities international|investment authority|investments? fund|"
    r"ventures?|venture partners|fund|funds|hillhouse|sequoia|hongshan|temasek|gic|warburg|vertex|softbank|"
    r"spac|acquisition corp|acquisition company|blank-cheque|blank-check|sar|legco|"
    r"global times|world|week|month|quarter|year|bonds?|notes|warrants|convertibles?|"
    # Section headings of summarised news: "Core Viewpoint - ...", "IPO Details - The ...".
    r"overview|details|viewpoint|summary|highlights|insights|analysis|takeaways|outlook)\b|\s[-\u2013\u2014]\s",
    re.IGNORECASE,
)
# Entities the model tags ORG that are words, not companies.
NOT_ISSUER_TEXT = {"ai", "gpu", "gpus", "ipo", "ipos", "sar", "hksar", "gem", "ceo", "ai chip", "llm", "inc", "ltd",
                   "co", "corp", "group", "holdings", "company", "limited", "china", "chinese", "mainland",
                   "the company", "board", "main board", "h shares", "h-share", "a+h", "shares", "stock", "robotics",
                   "technology", "semiconductor", "lidar", "adas", "ai +", "according", "hereinafter", "phip",
                   "prospectus", "the chipmaker", "tech", "the", "us", "u.s.", "hk", "embodied", "robotaxi",
                   "humanoid", "chatgpt", "llms", "genai", "aigc", "nio capital", "hkg", "hkex", "sehk", "nasdaq",
                   "nyse", "h", "a", "b", "corporation", "inc.", "ltd.", "co.", "plc", "hkd", "cny", "usd", "rmb", "yuan", "eur", "sgd", "jpy",
                   "hk$", "us$", "ads", "adr", "adrs", "adss", "h+a", "a+h"}
# Words that describe a company without naming it: a "name" made only of these ("Speech
# AI" in "Speech AI firm Echoline") is a description.
GENERIC_NAME_WORDS = {"speech", "voice", "ai", "chip", "chips", "robot", "robots", "robotics", "lidar", "software",
                      "data", "cloud", "medical", "drug", "auto", "autonomous", "driving", "smart", "intelligent",
                      "intelligence", "technology", "technologies", "tech", "vision", "computing", "semiconductor",
                      "semiconductors", "humanoid", "robotaxi", "china", "chinese", "hong", "kong", "global",
                      "international", "digital", "new", "energy", "group", "holdings", "gpu", "gpus", "startup",
                      "start-up", "unicorn", "biotech", "fintech", "ev", "electric", "industrial", "embodied",
                      "generative", "model", "models", "llm", "quantum", "mainland", "asia", "asian", "the",
                      "enterprise", "consumer", "healthcare", "health", "education", "payments", "security",
                      "analytics", "retail", "online", "mobile", "gaming", "insurtech", "edtech", "platform",
                      "hardware", "internet", "e-commerce", "firm", "company", "maker", "developer", "operator"}

# Places the small model sometimes tags as organisations, and words of Hong Kong place
# names that must never become a company ("Kowloon Bay", "Tseung Kwan O", "Science Park").
PLACE_WORDS = re.compile(
    r"^(?:Hong Kong|Kowloon(?: Bay| East| Tong)?|Kwun Tong|Tseung Kwan O|Sha Tin|Tai Po|Tsim Sha Tsui|Wan Chai|"
    r"Causeway Bay|Central|Admiralty|Mong Kok|Lok Ma Chau|San Tin|Science Park|Industrial Estate|New Territories|"
    r"Lantau|Qianhai|Nanshan|Pudong|Zhangjiang|Greater Bay Area|Guangdong|Shenzhen|Shanghai|Beijing|Hangzhou|"
    r"Guangzhou|Suzhou|Wuhan|Hefei|Ningbo|China|Mainland|Asia|Europe|Taiwan|Macau|Macao|Singapore|Japan|"
    # Mainland cities and provinces the issuers' home towns are named by ("Dongguan's Wheelix").
    r"Dongguan|Foshan|Zhuhai|Xiamen|Chengdu|Chongqing|Tianjin|Nanjing|Wuxi|Changsha|Xi'an|Xian|Qingdao|Jinan|"
    r"Zhengzhou|Dalian|Shenyang|Fuzhou|Kunming|Changzhou|Hangzhou|Jiaxing|Shaoxing|Wenzhou|Huizhou|Zhongshan|"
    r"Guangdong|Jiangsu|Zhejiang|Anhui|Hubei|Hunan|Sichuan|Fujian|Henan|Hebei|Shaanxi|Shanxi|Shandong|Liaoning|"
    r"Jilin|Heilongjiang|Jiangxi|Guangxi|Yunnan|Guizhou|Hainan|Gansu|Qinghai|Ningxia|Xinjiang|Inner Mongolia|"
    r"Thailand|Hungary|Germany|Netherlands|United States|US|U\.S\.|America|Tai Po Industrial Estate|"
    r"Hong Kong Science Park|Kowloon Bay|Zhongguancun)$",
    re.IGNORECASE)
# Words that make a proper name a company even when the model calls it a place or a person.
COMPANY_WORDS = re.compile(
    r"\b(?:AI|Robotics?|Robot|Technology|Technologies|Tech|Semiconductors?|Micro|Microelectronics|Data|"
    r"Intelligence|Intelligent|Medicine|Medical|Therapeutics|Bio|Pharma|Photonics|Lidar|Vision|Motion|Drive|"
    r"Autodrive|Autonomous|Auto|Automation|Computing|Labs?|Systems|Dynamics|Holdings|Group|Inc|Ltd|Co|"
    r"Limited|Corp|Software|Networks?|Cloud|Chips?|Devices?|Foods|Services|Sports|Beauty|Drones|Aviation|"
    r"Aerospace|Mobility|Sensing|Optics|Optical|Electronics|Materials|Logistics|Innovation|Machines?)\b")
# Spaces the small model gives names it does not know (it calls "Lumiray" a person).
MISLABELLED = {"PERSON", "PRODUCT", "WORK_OF_ART", "NORP", "FAC", "LOC", "GPE", "CARDINAL", "EVENT", "LAW"}
NEVER_NAMES = {"DATE", "TIME", "MONEY", "PERCENT", "QUANTITY", "ORDINAL", "LANGUAGE"}

# A name in one of these roles is someone else than the issuer: an investor, a parent, a
# sponsor, a customer or a rival. Read in the words just before a name: a role phrase
# with no punctuation between it and the name ("backed by Alibaba and Tencent") ...
ROLE_PHRASE_BEFORE = re.compile(
    r"(?:\b(?:backed|funded|financed|invested|owned|controlled|led|sponsored|underwritten|supported|acquired|"
    r"advised|bought|incubated|coordinated)\s+by\b|\bspun\s+(?:off|out)\s+(?:from|of)\b|\bspin-?off\s+(?:of|from)\b|"
    r"\b(?:unit|subsidiary|arm|affiliate|division)\s+of\b|\bin\s+which\b|\bamong\s+(?:its|their)\b|"
    r"\b(?:investors?|backers?|shareholders?|customers?|clients?|sponsors?|bookrunners?|underwriters?|coordinators?|"
    r"partners?|cornerstones?|owners?|advisers?|advisors?)\s+(?:\w+\s+)?(?:include|included|including|includes|"
    r"such\s+as)\b)[^,;:.()]*$",
    re.IGNORECASE)
# ... a preposition or comparison a few words before it ("after Zhipu", "rival MiniMax") ...
ROLE_WORD_BEFORE = re.compile(
    r"\b(?:including|such\s+as|like|after|following|than|unlike|joins?|joining|rivals?|peers?|competitors?|parent|"
    r"versus|vs\.?|counts|against|beat|beating|overtook|overtaking|behind)\s+"
    r"(?:[\w'\u2019&.+-]+\s+){0,3}$",
    re.IGNORECASE)
# ... or the words just after it.
ROLE_AFTER = re.compile(
    r"^(?:-|\s)?(?:backed|funded|owned|controlled|led|affiliated|sponsored|invested)\b|"
    r"^\s+(?:is|are|was|were|remains?|acts?|acted|acting|serves?)\s+(?:as\s+)?(?:the\s+|its\s+|a\s+|an\s+)?"
    r"(?:joint\s+|sole\s+|lead\s+|overall\s+)?(?:sponsors?|bookrunners?|underwriters?|coordinators?|shareholders?|"
    r"investors?|backers?|parent|customers?)\b|"
    r"^\s+(?:and\s+[\w .&]{1,40}\s+)?(?:as|are|were)\s+(?:the\s+)?(?:joint\s+|sole\s+)?(?:sponsors?|bookrunners?)\b|"
    r"^(?:'s|\u2019s|')\s*(?:[\w-]+\s+){0,3}(?:unit|subsidiary|arm|spin-?off|affiliate|parent|portfolio\s+(?:company|firm)|"
    r"investee|associate)\b|"
    r"^\s+(?:unit|subsidiary|spin-?off|affiliate|parent|rival|peer|competitor)\b|"
    r"^\s+(?:has|have|had)\s+invested|^\s+(?:holds|held|owns|owned)\s+(?:a\s+)?(?:\w+\s+)?stake|"
    r"^\s+(?:is|are)\s+(?:among\s+)?(?:its|the\s+company's|the\s+firm's)\s+(?:biggest\s+|largest\s+|major\s+)?"
    r"(?:shareholders?|investors?|backers?|customers?)|"
    r"^,?\s+(?:its|the\s+company's|the\s+firm's)\s+(?:[\w-]+\s+){0,2}(?:parent|backer|investor|shareholder|"
    r"customer|rival|sponsor)s?\b",
    re.IGNORECASE)

# A name followed by these is a place or a market, not a company: "the Dongguan-based
# company", "a Shanghai-listed chipmaker", "Nasdaq-listed".
PLACE_AFTER = re.compile(r"^-(?:based|listed|headquartered|registered|born|made)\b", re.IGNORECASE)

# A legal form between a name and what the text says of it: "Alphabet Inc.'s Google",
# "Alibaba Group Holding Ltd.'s portfolio company".
LEGAL_TAIL = re.compile(r"^(?:,?\s*(?:co|corp|corporation|inc|incorporated|ltd|limited|plc|llc|holdings?|group)\b\.?)+",
                        re.IGNORECASE)

# Words that introduce an aside about a name, not the main clause: "Mobvoi, backed by
# Google, ended ...". Detection skips names inside such asides when looking for subjects.
ASIDE_OPENERS = {"backed", "which", "who", "whose", "where", "founded", "based", "known", "once", "formerly",
                 "listed", "controlled", "owned", "led", "funded", "a", "an", "the", "one", "also", "already",
                 "itself", "now", "spun", "in", "whom", "hereinafter"}
# Words joining two names of one company.
ALIAS_WORDS = re.compile(r"^\s*(?:,\s*|\(\s*)?(?:also\s+|better\s+|more\s+commonly\s+|commonly\s+|formerly\s+)?"
                         r"(?:known|referred\s+to|called|named|trading|branded)\s+as\s+[\"\u201c']?|"
                         r"^\s*\(\s*(?:hereinafter\s+)?(?:referred\s+to\s+as\s+)?[\"\u201c']|"
                         r"^\s*,?\s*formally\s+(?:named|called|known\s+as)\s+", re.IGNORECASE)
