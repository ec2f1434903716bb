"""Organisations, people and places in Chinese text, without a Chinese spaCy model (none
installs from the package registries here): jieba's segmenter and part-of-speech tags
(tasks/understand/chinese.py), a dictionary of known organisations' and places' Chinese
names, and the exchange's applicants' Chinese names as the registry holds them.

- ORG: a known organisation (tasks/names.py) or applicant (its full, short and core names: "北京智譜華章
  科技股份有限公司", "智譜華章", "智谱"), a legal name the text writes out ("深思維機器人科技
  股份有限公司") and the short name it then gives it ("下稱「深思維」"), and what jieba tags
  an organisation (nt) unless it is a generic word ("上市公司", "交易所").
- PERSON: what jieba tags a person (nr), kept only when it starts with a common surname
  and is not an ordinary word of its dictionary (it tags "高阶" and "华为" nr too).
- GPE / LOC: known places, and what jieba tags a place when it is named as one ("杭州市").

Everything is matched on the simplified form, so both scripts give the same entities;
offsets point into the text as written, and `normalized` is the canonical name: the
English one hkai's English entities use for a known organisation or place ("Zhipu AI",
"HKEX", "Hong Kong"), the name the alerts show for an applicant, else the simplified
name without its legal form.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from schemas.records import Entity
from tasks.names import KNOWN_ORGS
from tasks.understand import chinese

if TYPE_CHECKING:  # a search process imports this module for its dictionary words only
    from schemas.exchange import Issuer

# Chinese names of organisations, simplified, that the shared table of known organisations
# (tasks/names.py: KNOWN_ORGS, which holds most companies' Chinese names) does not hold:
# regulators and Hong Kong institutions, the names Taiwan uses, groups named beside
# issuers. Keyed by the table's canonical name, or by a Chinese name for organisations it
# does not list. Never a name the table already gives (tests/test_chinese_entities.py).
MORE_ORGANISATIONS: dict[str, tuple[str, ...]] = {
    "SFC": ("香港证监会", "证券及期货事务监察委员会"),
    "HKMA": ("金管局", "香港金融管理局"),
    "Cyberport": ("数码港",),
    "HKSTP": ("香港科技园", "香港科技园公司", "香港科学园"),
    "HKUST": ("香港科技大学", "港科大"),
    "Hong Kong AI Research and Development Institute": ("香港人工智能研发院",),
    "Nvidia": ("辉达",),  # Taiwan's name; Hong Kong writes 英偉達
    "Alibaba": ("阿里巴巴集团",),
    "Tencent": ("腾讯控股",),
    "Google": ("谷歌",),
    "Toyota": ("丰田",),
    "TSMC": ("台积电",),
    "Microsoft": ("微软",),
    "Amazon": ("亚马逊",),
    "Intel": ("英特尔",),
    "Tesla": ("特斯拉",),
    "JD.com": ("京东",),
    "China Mobile": ("中国移动",),
    "中国证监会": ("中国证监会", "中国证券监督管理委员会"),
    # Hong Kong press says 證監會 for the SFC, the mainland's for the CSRC: kept as written.
    "证监会": ("证监会",),
    "财经事务及库务局": ("财经事务及库务局", "财库局"),
    "上海证券交易所": ("上海证券交易所", "上交所"),
    "深圳证券交易所": ("深圳证券交易所", "深交所"),
}
# The table's Chinese names that are ordinary words more often than a company's name
# (理想 "ideal" for Li Auto, 地平线 "horizon" for Horizon Robotics): not names on their own.
ORDINARY_WORDS = frozenset({"理想", "地平线"})


def _organisations() -> dict[str, tuple[str, tuple[str, ...]]]:
    """canonical name -> (label, Chinese names): the shared table's, then MORE_ORGANISATIONS."""
    table = {canonical: (label, tuple(a for a in aliases if chinese.HAN.search(a) and a not in ORDINARY_WORDS))
             for canonical, (label, aliases) in KNOWN_ORGS.items()}
    for canonical, names in MORE_ORGANISATIONS.items():
        label, known = table.get(canonical, ("ORG", ()))
        table[canonical] = (label, known + names)
    return {canonical: entry for canonical, entry in table.items() if entry[1]}


ORGANISATIONS = _organisations()

# Places, simplified, with their label and the English name hkai's English entities use.
PLACES: dict[str, tuple[str, str]] = {
    **{zh: ("GPE", en) for zh, en in {
        "香港": "Hong Kong", "香港特区": "Hong Kong", "香港特别行政区": "Hong Kong", "澳门": "Macau",
        "中国": "China", "内地": "Mainland China", "中国内地": "Mainland China", "台湾": "Taiwan",
        "新加坡": "Singapore", "日本": "Japan", "韩国": "South Korea", "美国": "United States",
        "英国": "United Kingdom", "德国": "Germany", "法国": "France", "印度": "India",
        "马来西亚": "Malaysia", "印尼": "Indonesia", "越南": "Vietnam", "泰国": "Thailand",
        "沙特": "Saudi Arabia", "阿联酋": "United Arab Emirates", "中东": "Middle East",
        "北京": "Beijing", "上海": "Shanghai", "深圳": "Shenzhen", "广州": "Guangzhou", "杭州": "Hangzhou",
        "苏州": "Suzhou", "南京": "Nanjing", "武汉": "Wuhan", "成都": "Chengdu", "重庆": "Chongqing",
        "天津": "Tianjin", "合肥": "Hefei", "厦门": "Xiamen", "西安": "Xi'an", "青岛": "Qingdao",
        "长沙": "Changsha", "郑州": "Zhengzhou", "东莞": "Dongguan", "佛山": "Foshan", "宁波": "Ningbo",
        "无锡": "Wuxi", "珠海": "Zhuhai", "台北": "Taipei", "新竹": "Hsinchu", "台中": "Taichung",
        "高雄": "Kaohsiung", "广东": "Guangdong", "江苏": "Jiangsu", "浙江": "Zhejiang", "安徽": "Anhui",
        "湖北": "Hubei", "四川": "Sichuan", "福建": "Fujian", "山东": "Shandong", "纽约": "New York",
        "伦敦": "London", "东京": "Tokyo", "硅谷": "Silicon Valley",
        "九龙": "Kowloon", "新界": "New Territories", "中环": "Central", "沙田": "Sha Tin",
        "将军澳": "Tseung Kwan O", "数码港": "Cyberport", "前海": "Qianhai", "河套": "Lok Ma Chau Loop",
    }.items()},
    **{zh: ("LOC", en) for zh, en in {
        "大湾区": "Greater Bay Area", "粤港澳大湾区": "Greater Bay Area", "亚洲": "Asia", "东南亚": "Southeast Asia",
        "欧洲": "Europe", "北美": "North America", "亚太": "Asia-Pacific", "长三角": "Yangtze River Delta",
    }.items()},
}
# Cyberport is both a place and the company that runs it: the organisation wins.
PLACES.pop("数码港")

# Common Chinese surnames, simplified (about the hundred commonest, less a few that start
# ordinary words more often than names: 和, 文, 时, 明, 全, 成, 应, 商).
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃"
    "武戴莫孔汤温康施牛樊葛邢乔伍庞颜倪庄聂章鲁岳翟殷詹欧耿焦俞柳甘祝包宁符舒阮柯纪梅童凌"
    "毕季裴霍涂苗谷盛翁冉骆蓝游辛靳管柴蒙鲍喻祁蒲房滕屈饶艾尤穆卓古麦岑邝黎")
COMPOUND_SURNAMES = frozenset({"欧阳", "司马", "诸葛", "上官", "司徒", "令狐", "皇甫", "尉迟", "公孙", "慕容",
                               "长孙", "宇文", "夏侯", "东方"})
# Words jieba tags an organisation that name no organisation in particular.
GENERIC_ORGS = frozenset({
    "上市公司", "交易所", "公司", "集团", "政府", "特区政府", "董事会", "委员会", "监管机构", "证券公司", "投资银行",
    "银行", "基金公司", "研究所", "研究院", "大学", "法院", "中央政府", "地方政府", "国务院", "新股", "券商",
})
# What the press calls a company before its name ("方案商馳遠科技", "代工廠鼎曜科技"), and
# terms of the trade that end like a company's name ("特專科技公司", Chapter 18C's
# specialist technology companies): kept whole, so no name is read into them.
DESCRIPTORS = ("方案商", "供应商", "开发商", "制造商", "运营商", "服务商", "设计商", "代工商", "代工厂", "经销商",
               "零售商", "承包商", "提供商", "生产商", "芯片商", "设备商", "特专科技", "特专科技公司", "硬科技",
               "黑科技", "金融科技", "生物科技", "医疗科技")
# Words a coined company name ends with ("馳遠科技", "鼎曜集團").
COMPANY_WORDS = frozenset({"科技", "集团", "控股", "智能", "机器人", "半导体", "医药", "生物", "资本"})
# jieba's tags of function words (by first letter): prepositions, conjunctions, particles,
# adverbs, pronouns, numerals, measure words, locatives, times, punctuation, modals.
FUNCTION_TAGS = frozenset("pcudrmqftxyeow")
# A legal form a company's full name ends with, and what may stand before the name.
_LEGAL_NAME = re.compile(r"(?:股份有限公司|有限责任公司|有限公司)")
_BEFORE_NAME = re.compile(r"(?:[，。、；：:,;“”\"'「」『』（）()《》\s]|企业|公司|厂商|开发商|制造商|供应商|运营商|"
                          r"设计商|方案商|服务商|初创|平台|品牌|旗下|子公司|附属公司|由|与|和|及|向|称|指|据)$")
# "（下稱「深思維」）", "(以下简称"深思维")", "（簡稱：深思維）", after a name.
_SHORT_NAME = re.compile(r"^\s*[(（]\s*(?:以下)?(?:简称|下称|称)\s*[:：]?\s*[“\"「『']?([^”\"」』'）)]{2,12})[”\"」』']?\s*[)）]")
MAX_LEGAL_NAME_CHARS = 24
# Text longer than this is cut for tagging (as for spaCy in nlp.py).
MAX_CHARS = 200_000


class ChineseRecogniser:
    """The Chinese entity recogniser of a process: its dictionary of organisations and
    places (simplified name -> label and normalized name) grows with the applicants'
    names it is taught; the segmenter learns each name once, so it keeps it whole."""

    def __init__(self):
        self._names: dict[str, tuple[str, str]] = {}
        self._issuers_seen: set[tuple] = set()
        self._lock = threading.Lock()
        # The segmenter knows these from the start (dictionary_words).
        self._learn([(name, label, canonical) for canonical, (label, names) in ORGANISATIONS.items() for name in names],
                    teach=False)
        self._learn([(name, label, canonical) for name, (label, canonical) in PLACES.items()], teach=False)

    def _learn(self, entries: Iterable[tuple[str, str, str]], teach: bool = True) -> None:
        new = []
        with self._lock:
            for name, label, normalized in entries:
                key = chinese.to_simplified(name.strip()).casefold()
                if len(key) >= 2 and key not in self._names:
                    self._names[key] = (label, normalized)
                    new.append((key, label))
        if teach:
            chinese.add_words([key for key, label in new if label == "ORG"], tag="nt")

    def learn_organisations(self, names: Iterable[tuple[str, str | None]]) -> None:
        """Teach it organisations: (Chinese name in either script, the name to normalise to;
        None for the name's own short form). Each is known by its full name, by it
        without legal form and city ("智谱华章科技"), and by its core without generic
        words ("智谱华章") when that is distinctive."""
        from tasks.names import name_core, name_key, strip_markers

        entries = []
        for name, normalized in names:
            full = strip_markers(name)[0]
            if not chinese.HAN.search(full):
                continue
            key, core = name_key(full), name_core(full)
            normalized = normalized or key
            entries += [(full, "ORG", normalized), (key, "ORG", normalized)]
            # A two-character core that is an ordinary word ("平安", "新华") would name every text.
            if len(core) >= 3 or (len(core) == 2 and not chinese.is_dictionary_word(core)):
                entries.append((core, "ORG", normalized))
        self._learn(entries)

    def learn_issuers(self, issuers: Iterable[Issuer]) -> None:
        """Teach it the exchange's applicants: each Chinese name and alias, normalised to the
        name the alerts show (the English one, tidied, when the record gives it)."""
        from tasks.names import issuer_name
        from tasks.names import strip_markers

        names = []
        for issuer in issuers:
            seen = (issuer.name_en, issuer.name_zh, *issuer.aliases)
            if seen in self._issuers_seen:
                continue
            self._issuers_seen.add(seen)
            shown = issuer_name(issuer.name_en) if issuer.name_en else None
            if shown is None and issuer.name_zh:
                shown = _key(strip_markers(issuer.name_zh)[0])  # its aliases normalise to its name
            names += [(name, shown) for name in (issuer.name_zh, *issuer.aliases) if name and chinese.HAN.search(name)]
        self.learn_organisations(names)

    def known(self, name: str) -> tuple[str, str] | None:
        return self._names.get(chinese.to_simplified(name).casefold())

    def entities(self, text: str) -> list[Entity]:
        """The organisations, people and places of a Chinese text, in order; offsets into it."""
        text = text[:MAX_CHARS]
        simplified = chinese.to_simplified(text)
        found: dict[tuple[int, int], tuple[str, str]] = {}
        taken = bytearray(len(text))

        def add(start: int, end: int, label: str, normalized: str) -> None:
            if end > start and not any(taken[start:end]) and "\n" not in text[start:end]:
                found[(start, end)] = (label, normalized)
                taken[start:end] = b"\x01" * (end - start)

        # Legal names the text writes out, and the short names it gives them.
        own: dict[str, tuple[str, str]] = {}
        for start, end in _legal_names(simplified):
            label, normalized = self.known(simplified[start:end]) or ("ORG", _key(simplified[start:end]))
            add(start, end, label, normalized)
            own[simplified[start:end]] = (label, normalized)
            short = _SHORT_NAME.match(simplified[end:end + 30])
            if short and chinese.HAN.search(short.group(1)):
                own[short.group(1).strip()] = (label, normalized)
        spans = chinese.tagged_spans(text)
        for i, (word, flag, start, end) in enumerate(spans):
            entity = self.known(word) or own.get(word) or _tagged(word, flag)
            if entity:
                add(start, end, *entity)
            elif word in COMPANY_WORDS and (first := _coined(spans, i)) is not None:
                # "馳遠科技": characters the segmenter knows only one by one or not as a
                # word, then 科技. Its later mentions are the same company.
                name = "".join(w for w, *_ in spans[first:i]) + word
                add(spans[first][2], end, "ORG", name)
                own.setdefault(name, ("ORG", name))
        # The text's own short names wherever the segmenter cut them apart.
        for name, entity in own.items():
            for match in re.finditer(re.escape(name), simplified):
                add(match.start(), match.end(), *entity)
        return [Entity(label=label, text=text[start:end], normalized=normalized, start_char=start, end_char=end)
                for (start, end), (label, normalized) in sorted(found.items())]


def dictionary_words() -> list[tuple[str, str]]:
    """(word, jieba tag) the segmenter keeps whole in every process: the known
    organisations (nt) and places (ns), and the trade's descriptors (n)."""
    return ([(name, "nt" if label == "ORG" else "ns") for label, names in ORGANISATIONS.values() for name in names]
            + [(name, "ns") for name in PLACES] + [(word, "n") for word in DESCRIPTORS])


def _key(name: str) -> str:
    from tasks.names import name_key

    return name_key(name) or name


def _legal_names(simplified: str) -> list[tuple[int, int]]:
    """Spans of company names written out with their legal form: from what may stand
    before a name (punctuation, "企业", "向", ...) to "有限公司"."""
    spans = []
    for match in _LEGAL_NAME.finditer(simplified):
        start = match.start()
        while start > 0 and chinese.HAN.match(simplified[start - 1]) and not _BEFORE_NAME.search(simplified[:start]):
            start -= 1
            if match.end() - start > MAX_LEGAL_NAME_CHARS:
                break  # no beginning in sight: not a name we can delimit
        else:
            if match.start() - start >= 2:
                spans.append((start, match.end()))
    return spans


def _coined(spans: list[tuple[str, str, int, int]], i: int) -> int | None:
    """Where a coined company name the segmenter does not know starts, when the tokens
    before spans[i] are one: two single Han characters that are not function words ("驰"
    "远" before "科技"), or two Han characters that are no word of its dictionary."""
    def single(span: tuple[str, str, int, int]) -> bool:
        word, flag, _, _ = span
        return len(word) == 1 and bool(chinese.HAN.match(word)) and flag[:1] not in FUNCTION_TAGS

    if i >= 2 and single(spans[i - 2]) and single(spans[i - 1]):
        return i - 2
    word = spans[i - 1][0] if i >= 1 else ""
    if len(word) == 2 and chinese.HAN.fullmatch(word[0]) and chinese.HAN.fullmatch(word[1]) \
            and not chinese.is_dictionary_word(word):
        return i - 1
    return None


def _tagged(word: str, flag: str) -> tuple[str, str] | None:
    """What jieba's tag says the word is, where that is believable."""
    if flag in ("nr", "nrfg") and _is_personal_name(word):
        return "PERSON", word
    if flag == "ns" and len(word) >= 3 and word[-1] in "省市县区州":
        return "GPE", word
    if flag == "nt" and len(word) >= 3 and word not in GENERIC_ORGS:
        return "ORG", word
    return None


def _is_personal_name(word: str) -> bool:
    if not 2 <= len(word) <= 4 or not all(chinese.HAN.match(c) for c in word):
        return False
    if word[:2] in COMPOUND_SURNAMES:
        return len(word) >= 3
    if word[0] not in SURNAMES or len(word) == 4:
        return False
    # A two-character word of the dictionary is an ordinary word jieba also tags nr.
    return len(word) == 3 or not chinese.is_dictionary_word(word)


@functools.cache
def recogniser() -> ChineseRecogniser:
    """The process's recogniser (its dictionary loads once, ~0.5 s with jieba's)."""
    return ChineseRecogniser()
