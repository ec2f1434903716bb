"""Is an article about AI in or around Hong Kong? A keyword score that names its evidence.

Two axes are scored from weighted term counts: AI (models, chips, computing, AI companies)
and Hong Kong (the city, its exchange, its institutions, the Greater Bay Area). Relevance
is their product, so an article needs both: a Hong Kong property story has no AI evidence
and an AI story with no Hong Kong angle has none for the city. "Listings" alone is
evidence of neither, so an online-shop story about product listings scores nothing.
Pure and fast (regular expressions only) so it runs in worker processes.
"""

from __future__ import annotations

import math
import re

from schemas.records import Article

# (signal name, weight per mention, pattern, triggers). Patterns are case-insensitive
# unless the name is in _CASE_SENSITIVE (acronyms that are ordinary words in lower case).
# A pattern only runs when one of its triggers occurs in the lower-cased text: a substring
# test is ~100 times cheaper than a regex scan, and most articles mention few terms.
AI_TERMS: list[tuple[str, float, str, tuple[str, ...]]] = [
    ("ai:term:AI", 0.45, r"\bA\.?I\b(?!-?\d)", ("ai", "a.i")),
    ("ai:term:artificial intelligence", 0.9, r"artificial[ -]intelligence", ("artificial",)),
    ("ai:term:generative AI", 1.0, r"\bgen(?:erative)?[ -]?A\.?I\b|\bAIGC\b", ("genai", "gen ai", "generative", "aigc")),
    ("ai:term:large model", 1.0, r"\blarge(?:[ -]scale)?[ -](?:language[ -])?models?\b|\bLLMs?\b|\bfoundation models?\b",
     ("large", "llm", "foundation model")),
    ("ai:term:machine learning", 0.8, r"\bmachine[ -]learning\b|\bdeep[ -]learning\b|\bneural net(?:work)?s?\b",
     ("learning", "neural")),
    ("ai:term:chatbot", 0.7, r"\bchat ?bots?\b|\bChatGPT\b|\bAI assistants?\b", ("chat", "assistant")),
    ("ai:term:AI chip", 0.8, r"\bGPUs?\b|\bAI (?:chips?|accelerators?|processors?)\b|\bchipmakers?\b",
     ("gpu", "ai chip", "ai accelerator", "ai processor", "chipmaker")),
    ("ai:term:semiconductor", 0.35, r"\bsemiconductors?\b", ("semiconductor",)),
    ("ai:term:computing power", 0.6, r"\bcomputing power\b|\bsuper ?comput(?:er|ing)\b|\bpetaflops?\b|\bcompute capacity\b",
     ("computing power", "supercomput", "super comput", "petaflop", "compute capacity")),
    ("ai:term:data centre", 0.3, r"\bdata cent(?:re|er)s?\b", ("data cent",)),
    ("ai:term:robotics", 0.3, r"\brobot(?:s|ics)?\b|\bautonomous driving\b|\bself-driving\b",
     ("robot", "autonomous driving", "self-driving")),
    ("ai:term:algorithm", 0.2, r"\balgorithm(?:s|ic)?\b", ("algorithm",)),
    ("ai:term:人工智能", 1.0, r"人工智能|人工智慧|生成式AI|大模型|大語言模型|大语言模型|算力|芯片|晶片",
     ("人工智", "生成式", "大模型", "語言模型", "语言模型", "算力", "芯片", "晶片")),
]

HK_TERMS: list[tuple[str, float, str, tuple[str, ...]]] = [
    ("hk:place:Hong Kong", 0.6, r"\bHong Kong\b|\bHKSAR\b|\bHK SAR\b", ("hong kong", "hksar", "hk sar")),
    ("hk:place:HK", 0.4, r"\bHK\b(?!\$)", ("hk",)),
    ("hk:money:HK$", 0.6, r"\bHK\$|\bHKD\b|Hong Kong dollars?", ("hk$", "hkd", "hong kong dollar")),
    ("hk:exchange:HKEX", 1.5, r"\bHKEX\b|\bHKEx\b|(?i:Hong Kong (?:stock exchange|exchanges?)\b|Stock Exchange of Hong Kong)|"
                              r"\.HK\b|\bHang Seng\b|\bChapter 18C\b|\bMain Board\b",
     ("hkex", "exchange", ".hk", "hang seng", "chapter 18c", "main board")),
    ("hk:place:Greater Bay Area", 0.9, r"Greater Bay Area|\bGBA\b|Northern Metropolis|San Tin Technopole|Lok Ma Chau Loop|"
                                       r"Hetao", ("greater bay", "gba", "northern metropolis", "san tin", "lok ma chau",
                                                  "hetao")),
    ("hk:place:district", 0.3, r"\bKowloon\b|\bTsim Sha Tsui\b|\bWan Chai\b|\bCentral district\b|\bSha Tin\b|"
                               r"\bTseung Kwan O\b|\bCauseway Bay\b|\bNew Territories\b",
     ("kowloon", "tsim sha tsui", "wan chai", "central district", "sha tin", "tseung kwan o", "causeway bay",
      "new territories")),
    ("hk:place:香港", 1.0, r"香港|港交所|港股|數碼港|数码港|科學園|科学园", ("香港", "港交所", "港股", "碼港", "码港", "科學園", "科学园")),
]

# Companies whose business is AI (models, AI chips, AI applications), and Hong Kong
# institutions, as written (case-sensitive): one signal per name, e.g. "ai:org:Zhipu AI".
AI_ORGS: dict[str, tuple[str, ...]] = {
    "Zhipu AI": ("Zhipu", "Knowledge Atlas"), "MiniMax": ("MiniMax",), "Moonshot AI": ("Moonshot AI", "Kimi"),
    "Biren Technology": ("Biren",), "Iluvatar CoreX": ("Iluvatar",), "SenseTime": ("SenseTime",),
    "4Paradigm": ("4Paradigm", "Fourth Paradigm"), "DeepSeek": ("DeepSeek",), "OpenAI": ("OpenAI",),
    "Anthropic": ("Anthropic",), "Nvidia": ("Nvidia", "NVIDIA"), "Cambricon": ("Cambricon",),
    "Horizon Robotics": ("Horizon Robotics",), "UBTech Robotics": ("UBTech", "UBTECH"),
    "Black Sesame Technologies": ("Black Sesame",), "Unisound": ("Unisound",), "Mobvoi": ("Mobvoi",),
    "iFlytek": ("iFlytek", "iFLYTEK"), "Megvii": ("Megvii",), "CloudWalk": ("CloudWalk",), "StepFun": ("StepFun",),
    "Baichuan": ("Baichuan",), "Qwen": ("Qwen",), "ERNIE Bot": ("ERNIE Bot",),
    "智谱": ("智谱", "智譜", "稀宇", "月之暗面", "壁仞", "天数智芯", "商汤", "商湯", "第四范式"),
}
HK_ORGS: dict[str, tuple[str, ...]] = {
    "Cyberport": ("Cyberport",),
    "HKSTP": ("HKSTP", "Hong Kong Science Park", "Hong Kong Science and Technology Park",
              "Hong Kong Science and Technology Parks"),
    "HKUST": ("HKUST", "Hong Kong University of Science and Technology"), "HKU": ("HKU", "University of Hong Kong"),
    "CUHK": ("CUHK", "Chinese University of Hong Kong"), "PolyU": ("PolyU",), "CityU": ("CityU",),
    "HKMA": ("HKMA", "Hong Kong Monetary Authority"), "SFC": ("Securities and Futures Commission",),
    "InvestHK": ("InvestHK", "Invest HK"), "LegCo": ("LegCo", "Legislative Council"),
    "Digital Policy Office": ("Digital Policy Office",), "ITIB": ("Innovation, Technology and Industry Bureau",),
    "HKAIRDI": ("HKAIRDI", "Hong Kong AI Research"),
}


def _alias_pattern(aliases: tuple[str, ...]) -> str:
    return "|".join(rf"\b{re.escape(a)}\b" if a.isascii() else re.escape(a) for a in aliases)


AI_TERMS += [(f"ai:org:{name}", 1.0, _alias_pattern(aliases), tuple(a.lower() for a in aliases))
             for name, aliases in AI_ORGS.items()]
HK_TERMS += [(f"hk:org:{name}", 1.0, _alias_pattern(aliases), tuple(a.lower() for a in aliases))
             for name, aliases in HK_ORGS.items()]

# Evidence that the story is a stock-market listing, which the alerting stage cares about.
# It only counts when the same article names an exchange: otherwise "listings" is as
# likely to be a shop's product listings or a property listing.
MARKET_TERMS: list[tuple[str, float, str, tuple[str, ...]]] = [
    ("market:ipo", 0.5, r"\bIPOs?\b|initial public offerings?|\btrading debut\b|\bdebut(?:ed|s)?\b|"
                        r"\bprospectus\b|\bdual[ -]listing\b|\bsecondary listing\b|上市|招股",
     ("ipo", "public offering", "debut", "prospectus", "listing", "上市", "招股")),
]

_CASE_SENSITIVE = {"ai:term:AI", "ai:term:generative AI", "ai:term:AI chip", "hk:place:HK", "hk:money:HK$",
                   "hk:exchange:HKEX", "hk:place:Greater Bay Area"}
_CASE_SENSITIVE |= {f"ai:org:{name}" for name in AI_ORGS} | {f"hk:org:{name}" for name in HK_ORGS}

# A term counts up to this many times: a long piece repeating one word is not more on-topic.
MAX_MENTIONS = 4
# Mentions in the title count as this many mentions in the body.
TITLE_WEIGHT = 2
# Evidence is divided by sqrt(words / LENGTH_UNIT) beyond LENGTH_UNIT words, so that two
# passing mentions in a 2,000-word piece weigh less than two in a 200-word brief.
LENGTH_UNIT = 400


class _Terms:
    """Counts mentions of weighted terms, scanning only for terms whose trigger occurs."""

    def __init__(self, terms: list[tuple[str, float, str, tuple[str, ...]]]):
        self.terms = [(name, weight, re.compile(pattern, 0 if name in _CASE_SENSITIVE else re.IGNORECASE), triggers)
                      for name, weight, pattern, triggers in terms]

    def evidence(self, title: str, body: str) -> tuple[float, dict[str, float]]:
        lowered = (title + "\n" + body).lower()
        fired: dict[str, float] = {}
        for name, weight, pattern, triggers in self.terms:
            if not any(trigger in lowered for trigger in triggers):
                continue
            mentions = len(pattern.findall(body)) + TITLE_WEIGHT * len(pattern.findall(title))
            if mentions:
                fired[name] = weight * min(mentions, MAX_MENTIONS)
        return sum(fired.values()), fired


_AI = _Terms(AI_TERMS)
_HK = _Terms(HK_TERMS)
_MARKET = _Terms(MARKET_TERMS)


def _axis(evidence: float, length_factor: float) -> float:
    return 1.0 - math.exp(-evidence / length_factor)


def _word_count(text: str) -> int:
    words = len(text.split())
    # CJK text has no spaces: count characters as words there, roughly.
    cjk = len(re.findall(r"[\u3400-\u9fff]", text))
    return max(words, cjk // 2)


def score_text(title: str, body: str) -> tuple[float, list[str]]:
    """(relevance in [0, 1], the signals that fired, strongest first)."""
    words = _word_count(body)
    length_factor = math.sqrt(max(1.0, words / LENGTH_UNIT))
    ai_evidence, ai_fired = _AI.evidence(title, body)
    hk_evidence, hk_fired = _HK.evidence(title, body)
    market_evidence, market_fired = _MARKET.evidence(title, body)
    if "hk:exchange:HKEX" in hk_fired and market_evidence:
        # A listing on the Hong Kong exchange: strengthens the Hong Kong axis only.
        hk_evidence += market_evidence
    else:
        market_fired = {}
    relevance = _axis(ai_evidence, length_factor) * _axis(hk_evidence, length_factor)
    fired = {**ai_fired, **hk_fired, **market_fired}
    signals = sorted(fired, key=lambda name: (-fired[name], name))
    return round(relevance, 4), signals


def score_relevance(article: Article, threshold: float) -> Article:
    """A copy with relevance, is_relevant (relevance >= threshold) and relevance_signals."""
    body = article.normalized_text if article.normalized_text is not None else article.text
    relevance, signals = score_text(article.title or "", body)
    return article.model_copy(update={"relevance": relevance, "is_relevant": relevance >= threshold,
                                      "relevance_signals": signals})
