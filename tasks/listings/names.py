"""Known organisations: one canonical name and the ways articles write it.

The spaCy model misses or mislabels several of these ("Zhipu AI" and "MiniMax" come out as
PERSON), so the NLP stage feeds this table to an EntityRuler, and every stage that names
a company (entities.normalized, listing_events.company) uses the canonical name.
"""

from __future__ import annotations

# canonical name -> (spaCy label, aliases as written in articles)
KNOWN_ORGS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Zhipu AI": ("ORG", ("Zhipu", "Zhipu AI", "Knowledge Atlas", "Knowledge Atlas Technology",
                         "Knowledge Atlas Technology Joint Stock Company", "Beijing Zhipu Huazhang")),
    "MiniMax": ("ORG", ("MiniMax", "MiniMax Group", "Shanghai MiniMax")),
    "Moonshot AI": ("ORG", ("Moonshot AI", "Moonshot", "Kimi maker Moonshot AI")),
    "Biren Technology": ("ORG", ("Biren", "Biren Technology", "Shanghai Biren Technology",
                                 "Shanghai Biren Technology Co", "Shanghai Biren Intelligent Technology")),
    "Iluvatar CoreX": ("ORG", ("Iluvatar CoreX", "Iluvatar", "Shanghai Iluvatar CoreX",
                               "Shanghai Iluvatar CoreX Semiconductor", "Shanghai Iluvatar CoreX Semiconductor Co")),
    "GigaDevice": ("ORG", ("GigaDevice", "GigaDevice Semiconductor")),
    "SenseTime": ("ORG", ("SenseTime", "SenseTime Group")),
    "4Paradigm": ("ORG", ("4Paradigm", "Fourth Paradigm", "Beijing Fourth Paradigm")),
    "CATL": ("ORG", ("CATL", "Contemporary Amperex Technology", "Contemporary Amperex Technology Co",
                     "Contemporary Amperex Technology Co. Limited")),
    "Horizon Robotics": ("ORG", ("Horizon Robotics",)),
    "UBTech Robotics": ("ORG", ("UBTech", "UBTech Robotics", "UBTECH")),
    "Black Sesame Technologies": ("ORG", ("Black Sesame", "Black Sesame Technologies")),
    "Unisound": ("ORG", ("Unisound", "Unisound AI Technology")),
    "Mobvoi": ("ORG", ("Mobvoi",)),
    "Cambricon": ("ORG", ("Cambricon", "Cambricon Technologies")),
    "Alibaba": ("ORG", ("Alibaba", "Alibaba Group")),
    "Tencent": ("ORG", ("Tencent", "Tencent Holdings")),
    "Baidu": ("ORG", ("Baidu",)),
    "DeepSeek": ("ORG", ("DeepSeek",)),
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


def alias_index() -> dict[str, str]:
    """Lower-cased alias -> canonical name."""
    index: dict[str, str] = {}
    for canonical, (_, aliases) in KNOWN_ORGS.items():
        index[canonical.lower()] = canonical
        for alias in aliases:
            index[alias.lower()] = canonical
    return index


_ALIASES = alias_index()


def canonical_name(name: str) -> str:
    """The canonical name for a known alias; otherwise the name, tidied."""
    cleaned = " ".join(name.split()).strip(" .,'\u2019\"")
    for suffix in (" Co., Ltd", " Co. Ltd", " Co Ltd", " Co.", " Co", " Inc.", " Inc", " Ltd.", " Ltd", " Limited"):
        key = cleaned[: -len(suffix)] if cleaned.endswith(suffix) else None
        if key and key.lower() in _ALIASES:
            return _ALIASES[key.lower()]
    return _ALIASES.get(cleaned.lower(), cleaned)
