"""Known organisations: one canonical name and the ways articles write it, what they do,
and the tidying that turns a name as written into the name an alert shows.

The spaCy model misses or mislabels many of these ("Zhipu AI" and "MiniMax" come out as
PERSON, "Geek+" as nothing), so the NLP stage feeds this table to an EntityRuler, and every
stage that names a company (entities.normalized, listing_events.company) uses the
canonical name. Pure data and string functions: relevance (in worker processes without
spaCy) reads the sectors too.
"""

from __future__ import annotations

import re

# canonical name -> (spaCy label, aliases as written in articles)
KNOWN_ORGS: dict[str, tuple[str, tuple[str, ...]]] = {
    # AI models and software
    "Zhipu AI": ("ORG", ("Zhipu", "Zhipu AI", "Knowledge Atlas", "Knowledge Atlas Technology",
                         "Knowledge Atlas Technology Joint Stock Company", "Knowledge Atlas Technology Joint Stock Co",
                         "Beijing Zhipu Huazhang")),
    "MiniMax": ("ORG", ("MiniMax", "MiniMax Group", "Shanghai MiniMax")),
    "Moonshot AI": ("ORG", ("Moonshot AI", "Moonshot", "Kimi maker Moonshot AI")),
    "SenseTime": ("ORG", ("SenseTime", "SenseTime Group")),
    "4Paradigm": ("ORG", ("4Paradigm", "Fourth Paradigm", "Beijing Fourth Paradigm",
                          "Beijing Fourth Paradigm Technology")),
    "DeepSeek": ("ORG", ("DeepSeek",)),
    "StepFun": ("ORG", ("StepFun",)),
    "Baichuan": ("ORG", ("Baichuan", "Baichuan AI")),
    "Unisound": ("ORG", ("Unisound", "Unisound AI Technology")),
    "Mobvoi": ("ORG", ("Mobvoi",)),
    "iFlytek": ("ORG", ("iFlytek", "iFLYTEK")),
    "Megvii": ("ORG", ("Megvii",)),
    "CloudWalk": ("ORG", ("CloudWalk",)),
    "Deepexi": ("ORG", ("Deepexi", "Beijing Deepexi Technology", "Deepexi Technology")),
    # AI chips and semiconductors
    "Biren Technology": ("ORG", ("Biren", "Biren Technology", "Shanghai Biren Technology",
                                 "Shanghai Biren Technology Co", "Shanghai Biren Intelligent Technology")),
    "Iluvatar CoreX": ("ORG", ("Iluvatar CoreX", "Iluvatar", "Shanghai Iluvatar CoreX",
                               "Shanghai Iluvatar CoreX Semiconductor", "Shanghai Iluvatar CoreX Semiconductor Co")),
    "Moore Threads": ("ORG", ("Moore Threads", "Moore Threads Technology")),
    "MetaX": ("ORG", ("MetaX", "MetaX Integrated Circuits")),
    "Enflame": ("ORG", ("Enflame", "Enflame Technology")),
    "Kunlunxin": ("ORG", ("Kunlunxin", "Kunlun Chip", "Kunlunxin Technology")),
    "Cambricon": ("ORG", ("Cambricon", "Cambricon Technologies")),
    "Axera": ("ORG", ("Axera", "Axera Semiconductor", "Aixin Yuanzhi")),
    "Montage Technology": ("ORG", ("Montage Technology",)),
    "GigaDevice": ("ORG", ("GigaDevice", "GigaDevice Semiconductor")),
    "SMIC": ("ORG", ("SMIC", "Semiconductor Manufacturing International",
                     "Semiconductor Manufacturing International Corp")),
    "Hua Hong Semiconductor": ("ORG", ("Hua Hong Semiconductor", "Hua Hong")),
    "Nvidia": ("ORG", ("Nvidia", "NVIDIA")),
    # Autonomous driving, lidar
    "Horizon Robotics": ("ORG", ("Horizon Robotics",)),
    "Black Sesame Technologies": ("ORG", ("Black Sesame", "Black Sesame Technologies",
                                          "Black Sesame Intelligent Technology")),
    "Pony AI": ("ORG", ("Pony AI", "Pony.ai")),
    "WeRide": ("ORG", ("WeRide",)),
    "Minieye": ("ORG", ("Minieye", "MINIEYE", "Minieye Technology")),
    "Hesai Group": ("ORG", ("Hesai", "Hesai Group", "Hesai Technology")),
    "RoboSense": ("ORG", ("RoboSense", "Robosense", "RoboSense Technology")),
    "Seyond": ("ORG", ("Seyond",)),
    # Robotics
    "UBTech Robotics": ("ORG", ("UBTech", "UBTech Robotics", "UBTECH", "UBTECH Robotics")),
    "Unitree Robotics": ("ORG", ("Unitree", "Unitree Robotics")),
    "AgiBot": ("ORG", ("AgiBot",)),
    "Dobot": ("ORG", ("Dobot", "Dobot Robotics")),
    "Geek+": ("ORG", ("Geek+", "Geekplus", "Geekplus Technology", "Beijing Geekplus Technology")),
    # AI drug discovery
    "XtalPi": ("ORG", ("XtalPi", "XtalPi Holdings", "QuantumPharm")),
    "Insilico Medicine": ("ORG", ("Insilico Medicine", "Insilico")),
    # Groups that appear next to issuers as parents, investors, customers or peers
    "CATL": ("ORG", ("CATL", "Contemporary Amperex Technology", "Contemporary Amperex Technology Co",
                     "Contemporary Amperex Technology Co. Limited")),
    "Alibaba": ("ORG", ("Alibaba", "Alibaba Group", "Alibaba Group Holding")),
    "Tencent": ("ORG", ("Tencent", "Tencent Holdings")),
    "Baidu": ("ORG", ("Baidu", "Baidu Group")),
    "Xiaomi": ("ORG", ("Xiaomi", "Xiaomi Group")),
    "Meituan": ("ORG", ("Meituan",)),
    "Alphabet": ("ORG", ("Alphabet",)),
    "Google": ("ORG", ("Google",)),
    "Toyota": ("ORG", ("Toyota",)),
    # Venues, regulators and Hong Kong institutions
    "HKEX": ("ORG", ("HKEX", "HKEx", "Hong Kong Stock Exchange", "Hong Kong stock exchange",
                     "Hong Kong Exchanges and Clearing", "Hong Kong Exchanges & Clearing",
                     "Stock Exchange of Hong Kong", "Hong Kong Exchanges")),
    "SFC": ("ORG", ("Securities and Futures Commission", "SFC")),
    "HKMA": ("ORG", ("Hong Kong Monetary Authority", "HKMA")),
    "Cyberport": ("ORG", ("Cyberport", "Hong Kong Cyberport")),
    "HKSTP": ("ORG", ("HKSTP", "Hong Kong Science and Technology Parks", "Hong Kong Science Park",
                      "Hong Kong Science and Technology Parks Corporation", "Science Park")),
    "HKUST": ("ORG", ("HKUST", "Hong Kong University of Science and Technology")),
    "Hong Kong AI Research and Development Institute": ("ORG", (
        "Hong Kong AI Research and Development Institute", "HKAIRDI")),
    "Greater Bay Area": ("LOC", ("Greater Bay Area", "Guangdong-Hong Kong-Macao Greater Bay Area", "GBA")),
    "Hong Kong": ("GPE", ("Hong Kong", "Hong Kong SAR", "HKSAR", "Hong Kong Special Administrative Region")),
}

# What the AI and AI-adjacent companies above do (relevance counts a mention of one as AI
# evidence). Companies absent here are not AI companies for that purpose.
SECTORS: dict[str, str] = {
    **dict.fromkeys(("Zhipu AI", "MiniMax", "Moonshot AI", "SenseTime", "4Paradigm", "DeepSeek", "StepFun",
                     "Baichuan", "Unisound", "Mobvoi", "iFlytek", "Megvii", "CloudWalk", "Deepexi"), "ai software"),
    **dict.fromkeys(("Biren Technology", "Iluvatar CoreX", "Moore Threads", "MetaX", "Enflame", "Kunlunxin",
                     "Cambricon", "Axera", "Montage Technology", "Nvidia"), "ai chips"),
    **dict.fromkeys(("Horizon Robotics", "Black Sesame Technologies", "Pony AI", "WeRide", "Minieye"),
                    "autonomous driving"),
    **dict.fromkeys(("Hesai Group", "RoboSense", "Seyond"), "lidar"),
    **dict.fromkeys(("UBTech Robotics", "Unitree Robotics", "AgiBot", "Dobot", "Geek+"), "robotics"),
    **dict.fromkeys(("XtalPi", "Insilico Medicine"), "ai drug discovery"),
}

# Large groups already listed for years: in listing news they are a new issuer's parent,
# investor, customer or rival, so "the company" never refers back to them.
ESTABLISHED = frozenset({"Alibaba", "Tencent", "Baidu", "Xiaomi", "Meituan", "Alphabet", "Google", "Nvidia",
                         "Toyota", "SMIC", "Hua Hong Semiconductor", "CATL"})


def alias_index() -> dict[str, str]:
    """Lower-cased alias -> canonical name."""
    index: dict[str, str] = {}
    for canonical, (_, aliases) in KNOWN_ORGS.items():
        index[canonical.lower()] = canonical
        for alias in aliases:
            index[alias.lower()] = canonical
    return index


_ALIASES = alias_index()

# Legal forms after a name, longest first: "Co., Ltd.", "Inc.", "Joint Stock Co".
_LEGAL_SUFFIX = re.compile(
    r"(?:[\s,]+(?:Co\.?,?\s*Ltd\.?|Company\s+Limited|Co\.?\s+Limited|Joint\s+Stock\s+(?:Co\.?|Company)(?:\s+Limited)?|"
    r"Inc\.?|Incorporated|Ltd\.?|Limited|Corp\.?|Corporation|Co\.?|PLC|plc|LLC))+$")
# A city or province written before a Chinese company's name ("Shanghai Biren Technology").
_PLACE_PREFIX = re.compile(r"^(?:Beijing|Shanghai|Shenzhen|Hangzhou|Guangzhou|Suzhou|Wuhan|Ningbo|Hefei|Nanjing|"
                           r"Chengdu|Xiamen|Tianjin|Chongqing|Jiangsu|Zhejiang|Guangdong|Anhui|Wuxi|Changsha|"
                           r"Xi'an|Qingdao|Dongguan|Zhuhai)\s+(?=\S)")
_POSSESSIVE = re.compile(r"(?:'s|\u2019s|'|\u2019)$")
# Words after a name that are about its shares, not part of it: "Lingxi Semiconductor IPO".
_SHARE_WORDS = re.compile(r"(?:\s+(?:IPO|IPOs|shares?|stock|listing|H-shares?|H shares?|debut|prospectus))+$",
                          re.IGNORECASE)
_PARENTHESES = re.compile(r"\s*\([^)]*\)")


def canonical_name(name: str) -> str:
    """The canonical name for a known alias; otherwise the name, tidied."""
    cleaned = " ".join(name.split()).strip(" .,'\u2019\"")
    key = _LEGAL_SUFFIX.sub("", cleaned).strip(" .,")
    if key.lower() in _ALIASES:
        return _ALIASES[key.lower()]
    return _ALIASES.get(cleaned.lower(), cleaned)


def issuer_name(text: str) -> str:
    """The name an alert shows for a company as written: the canonical name of a known
    organisation, else the text without a leading "the", a possessive, a parenthesis,
    a legal form ("Co., Ltd.", "Inc.") or a leading city ("Beijing Yunji Technology
    Co., Ltd." -> "Yunji Technology")."""
    cleaned = " ".join(text.split()).strip(" ,;:\"'\u201c\u201d")
    cleaned = re.sub(r"^(?:the|The|THE)\s+", "", cleaned)
    cleaned = _POSSESSIVE.sub("", cleaned)
    cleaned = _PARENTHESES.sub("", cleaned)
    cleaned = _SHARE_WORDS.sub("", cleaned)
    cleaned = _POSSESSIVE.sub("", cleaned)
    cleaned = _LEGAL_SUFFIX.sub("", cleaned).strip(" ,.")
    known = canonical_name(cleaned)
    if known != cleaned:
        return known
    without_place = _PLACE_PREFIX.sub("", cleaned)
    return canonical_name(without_place) if without_place else cleaned
