"""Listing events in Chinese news text (traditional or simplified): which company filed
(遞表), passed its hearing (通過聆訊), launched or priced its offering (招股, 定價) or
debuted (掛牌, 上市首日) in Hong Kong.

Pure: articles in, events out; no spaCy (no Chinese model installs here). The text is read
in one form, simplified characters with full-width ASCII folded (tasks/understand/chinese.py
keeps offsets, so names are stored as written). Each sentence is cut into clauses at
commas and colons; a stage phrase yields an event when

- its clause does not plan, expect, rumour, negate or undo it (擬, 計劃, 預計, 傳, 未, 暫緩,
  失效 ...), nor date it well before the story (history: "於2023年在港上市");
- the market it names, or the nearest one, is Hong Kong's (not 科創板, A股, 納斯達克 ...);
- it has a company: the name the clause's subject ends with ("智能駕駛獨角獸地平線機器人"
  is 地平線機器人), a name with its stock code, or, for a clause with no subject of its own
  ("，並於1月9日掛牌"), the company the sentence or the article is about.

One event per company and article: its latest stage, as in English.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from schemas.records import STAGE_RANK, Article
from tasks.listings.parsers import story_day
from tasks.names import ESTABLISHED, KNOWN_ORGS, LISTED_ELSEWHERE, known_name
from tasks.understand.chinese import fold

# --- the words of the rules (simplified forms) -------------------------------------------------

_HK_VENUE = r"(?:香港联合交易所(?:有限公司)?|香港联交所|联交所|港交所|香港交易所|香港(?:资本)?市场|港股(?:市场)?|香港)"
_BOARD = r"(?:主板|GEM)?"
_AT_HK = rf"(?:(?:在|于|登陆|向|赴|到)?{_HK_VENUE}{_BOARD})"

# The market welcomes its new companies, named after it: "港交所今日迎来X上市", "港股市场一次迎来两家...——A与B".
_WELCOME = r"(?:港交所|香港交易所|联交所|港股市场|港股)(?:今日|今天|昨日|昨天|当天|同日|一次|再度|又|再)?(?:迎来|喜迎)(?:了)?"
# (stage, pattern). Ordered for reading; every pattern is tried.
STAGE_PHRASES: list[tuple[str, str]] = [
    ("filing", r"(?:再次|重新|二次|二度|三度|第[二三四]次)?递表"),
    ("filing", rf"(?:向|于|在)?{_HK_VENUE}?{_BOARD}(?:递交|提交|呈交|送交)(?:了)?(?:港股|H股)?(?:的)?"
               r"(?:主板)?(?:IPO(?:[(（][^()（）]{1,10}[)）])?)?(?:上市|发行上市|首次公开发行)?(?:申请(?:书|材料|文件|表格)?|招股(?:书|说明书)(?:申请版本)?)"),
    # Re-filings told as attempts: "二闯港交所", "再次冲刺港交所", "叩响港交所大门".
    ("filing", rf"(?:二|三|四|五|再次|再度|第[二三四五]次)(?:闯|冲刺|闯关|叩关|叩响){_HK_VENUE}|叩(?:响|开)(?:了)?{_HK_VENUE}(?:的)?大门"),
    ("filing", r"(?:以)?保密(?:形式|方式)(?:递交|提交)"),
    # HK press: "再入表申请上市" (not "数据资产入表", an accounting entry).
    ("filing", r"(?:再次|重新|再度|再)入表(?:申请)?(?:上市)?|入表(?:申请)?上市"),
    ("filing", r"上载(?:了)?(?:其)?上市申请(?:档|文件|资料|材料)?|上市(?:申请)?材料(?:已)?被(?:正式)?受理|(?:递交|提交)(?:了)?A1(?:表格)?"),
    ("hearing", rf"通过(?:了)?{_AT_HK}?(?:的)?(?:上市)?聆讯"),
    ("hearing", r"(?:刊发|披露|发布|公布|刊登|上载)(?:了)?(?:其)?(?:通过)?(?:上市)?聆讯(?:后)?(?:的)?(?:资料集|初步上市文件)|"
                r"(?<![通经])过(?:了)?(?:港交所)?(?:上市)?聆讯"),
    ("pricing", r"(?:开启|启动|重启|正式|今日|今天|今起|明起|明日起|开始|展开|进行)(?:其)?(?:香港|港股)?(?:IPO)?(?:公开)?招股"),
    ("pricing", r"(?:今|今日|明|明日|即日)?起(?:至[^，,。；;]{0,16})?(?:招股|公开发售|认购)|至[^，,。；;]{0,12}日招股|"
                r"招股(?:首日|次日|期间|期内|期|截止|结束|至|中|将于|已于|首天)"),
    ("pricing", r"(?:开启|启动|正式启动|展开)(?:H股)?(?:全球发售|香港公开发售|公开发售|认购|IPO认购|发行)"),
    # The offering's terms or its subscription as facts: "每股发售价116.20港元", "招股价格:151.00港元",
    # "全球发售13.55亿股", "公开发售获33.83倍认购", "刊发H股招股说明书".
    ("pricing", r"(?<!较)(?<!低于)(?<!高于)(?<!跌破)(?:最终)?(?:每股)?(?:发售价|发行价|招股价)(?:格)?(?:上限)?(?:定价)?(?:为|:)?\s?\d"),
    ("pricing", r"全球发售\s?\d|获\s?\d[\d.,]*\s?倍(?:超额)?认购|超额认购\s?\d|超购\s?\d|录得超购|刊发(?:了)?(?:H股)?(?:招股说明书|招股章程)"),
    ("pricing", r"(?:最终)?(?:发售价|发行价|招股价|定价)(?:已|最终)?(?:定为|厘定为|确定为|定于|落在|为每股|每股)"),
    ("pricing", r"(?:厘定|确定|公布)(?:了)?(?:最终)?(?:发售价|发行价|定价)"),
    ("pricing", r"(?:以|按)(?:招股价)?(?:区间)?(?:上限|下限|顶部|底部|中间价)定价|定价(?:于|在)(?:招股价)?(?:区间)?(?:上限|下限|顶部|底部|中间)"),
    ("pricing", r"公布(?:了)?(?:配发|配售|分配)结果|暗盘(?:交易|表现|时段|收市|收报|收涨|收跌|开盘|大涨|大跌|涨|跌|破发)"),
    # A new-share data sheet: "招股日期 2025年12月18日—2025年12月23日".
    ("pricing", r"招股(?:日期|期|时间)\s*(?:\d{4}年)?\d{1,2}月\d{1,2}日\s*(?:[—\-–~至到]|\d{1,2}:\d{2})"),
    # The subscription as HK's press tells it: books open or closed, margin loans, entry fee.
    ("pricing", r"(?:开启|开始|启动)(?:公开)?申购|截飞|截止(?:认购|招股|申购)|孖展(?:超购|认购|录得)|一口价|定价发行"),
    ("debut", r"(?:上市|挂牌)(?:首日|当日)"),
    ("debut", r"首日(?:挂牌|上市|开盘|开市|收盘|收市|股价|表现|交易|高开|低开|破发|收涨|收跌|涨幅|跌幅)|"
              r"首日[^，,。；;\d]{0,2}(?:涨|跌|升|挫)"),
    ("debut", rf"(?:正式|成功|顺利|今日|今天|昨日|昨天|已|已经)?{_AT_HK}(?:正式)?(?:挂牌上市|挂牌交易|挂牌|上市交易|上市|敲钟上市|敲锣上市|鸣锣上市|敲锣|敲钟|首发上市)"),
    ("debut", r"(?:正式|成功|顺利)(?:挂牌上市|挂牌|上市)|(?:挂牌上市|敲钟上市|敲锣上市|鸣锣上市)|首挂"),
    ("debut", rf"登陆{_HK_VENUE}{_BOARD}"),
    ("debut", _WELCOME),
    # Listed at the offer price, then how it closed: "以发行价每股144.6港元上市,收在156.8港元".
    ("debut", r"以(?:每股)?(?:发行价|发售价|招股价)(?:每股)?[^，,。；;]{0,24}?(?:挂牌)?上市(?![前后]|计划|申请|地|的)"),
    ("debut", r"(?:首日|挂牌)登场|(?:今日|今天|昨日|昨天|正式|成功)挂牌(?!上市)|(?:首次)?亮相" + _HK_VENUE),
]
_WELCOMED = re.compile(_WELCOME)
_STAGE_PATTERNS = [(stage, re.compile(pattern)) for stage, pattern in STAGE_PHRASES]
# A quick test before the patterns: most sentences have none of these.
_STAGE_HINT = re.compile(r"递表|递交|提交|呈交|保密|聆讯|招股|发售|发行|定价|配发|配售结果|分配结果|暗盘|上市|挂牌|首日|敲|鸣锣|首挂|登陆|迎来")

# A plan, expectation, rumour, negation or undoing in the clause before the stage phrase,
# or right after it (上市计划, 递表失效).
_NOT_DONE_BEFORE = re.compile(
    r"拟|计划|准备|筹备|筹划|打算|有意|寻求|谋求|考虑|研究|将于|将在|将会|将|即将|预计|预期|有望|或将|或于|可能|冲刺|"
    r"传出|传闻|据传|市场传|消息称|消息人士|知情人士|未能|尚未|并未|未|没有|暂缓|推迟|延迟|押后|搁置|中止|终止|撤回|放弃|"
    r"失效(?!后|之后)|告吹|等待|若|如果|一旦|能否|是否|何时|希望|目标|争取|力争|申请|要求|规定|须|必须|应|需要|需|正在|进行|推进|"
    r"相关工作|有机会|成功后|之前|以前|前夕|选择|决定|寻|谋|很快|距离|不排除|有望|若能|一旦|倘若|没能|无法|不能|难以|"
    r"最快|最早|奔赴|赴$|原本|本可|本应|本来|不管|无论|不论|(?<!相)继|"
    # "从递表到上市", "有助于科技公司快速登陆港股", "只要达到40亿市值就可以在港交所上市"
    r"(?:从|自)$|有助|有利于|帮助|可以|就可|才能|方可|只要|只需")
_NOT_DONE_AFTER = re.compile(r"^(?:的)?(?:计划|进程|申请|梦|之路|一事|事宜|前|之前|时间表|预期|规则|门槛|条件|指引|委员会|"
                             r"制度|机制|规定|标准|要求|部|科|地|地位|资格|平台|渠道|通道|将|会|可|能|有望|或|预计|后|以来|之后|"
                             r"采用|选择|模式|方式|架构|结构|热|潮|浪潮|步伐|进度|提供|带来|铺路|奠定|做准备|创造)|^[^，,。；;]{0,6}失效")
# "港股上市", "在港交所上市" with nothing saying it happened: as often a noun ("本次香港上市无需
# ...") as a report; a report says when or that it is done.
_BARE_LISTING = re.compile(r"(?:在|于|登陆|向|赴|到)?" + _HK_VENUE + r"(?:主板|GEM)?上市")
# A day in Chinese numerals, as Taiwan's and Hong Kong's papers write it: "八日", "二十三日".
_DAY_IN_WORDS = r"(?<![数几每多前后])(?:[一二三]?十[一二三四五六七八九]?|[一二三四五六七八九])日"
_DONE = re.compile(r"正式|成功|顺利|今日|今天|昨日|昨天|日前|已|终于|当天|首日|同一天|同日|一起|一同|齐齐|集体|\d{1,2}日|" + _DAY_IN_WORDS + r"|\d{1,2}月\d{1,2}日|周[一二三四五]|"
                   r"星期[一二三四五]|上午|下午")
# A stage phrase that describes a noun rather than reporting: "已递表企业", "港股上市AI企业".
_ATTRIBUTIVE = re.compile(r"(?:的|之)|[A-Za-z\u4e00-\u9fff]{0,5}?(?:企业|公司|科技股|新股|个股|标的|AI股|概念股)")
# Things that happened long ago, or words that set the clause in the past of the story.
_HISTORY_WORDS = re.compile(r"此前|早在|曾于|曾经|曾|当年|去年|前年|往年|过去|以来|上一次|首次递表时|早前|先后")
_FUTURE_DATE = re.compile(r"(?:将|预计|预期|计划|拟)于?[^，,。；;]{0,12}(?:上市|挂牌|招股)")
# Markets other than Hong Kong's.
_OTHER_VENUE = re.compile(r"科创板|创业板|上交所|深交所|北交所|上海证券交易所|深圳证券交易所|北京证券交易所|A股|沪市|深市|"
                          r"纳斯达克|纳指|纽交所|纽约证券交易所|美股|美国上市|赴美|在美|新加坡交易所|伦敦证券交易所|伦交所|东京证券交易所")
# "在港上市", "来港上市": Hong Kong's press names its market in one character.
_IN_HK = r"(?<=[在来赴])港(?![口区])"
_HK_HINT = re.compile(_HK_VENUE + r"|H股|港元|港币|\.HK|18C|18A|特专科技|" + _IN_HK)
# The regulator's approval of an overseas listing, and share sales by listed companies.
_NOT_A_STAGE = re.compile(r"配售(?!结果|部分|股份获)|先旧后新|供股|增发|减持|回购|转板|私有化|退市|除牌|摘牌|分拆上市计划")

# --- names ---------------------------------------------------------------------------------------

# Words that describe what a company is; the name follows the last of them in a subject.
_DESCRIPTOR = re.compile(
    r"(?:公司|企业|集团|独角兽|龙头|厂商|提供商|供应商|服务商|运营商|开发商|制造商|生产商|方案商|集成商|设计商|芯片商|平台|品牌|巨头|之一|第一股|明星|黑马|"
    r"新贵|选手|玩家|创企|初创|领军者|领导者|龙头股|新股|概念股|先锋|老牌)[”\"」』’']?\s*")
# A stock code written after a name: "(09660.HK)", "（9880）", "(HK|00100)", "(股份代号:2513)".
_CODE_AFTER = re.compile(r"^\s*-?[WBSPwbsp]{0,2}\s*[(（]\s*(?:HK\s*\|\s*|港股\s*|股票代码|股份代号|代码|股票代号)?[:：]?\s*"
                         r"(\d{4,5})(?:\.HK)?\s*[)）]")
_CODE_ANYWHERE = [
    re.compile(r"(?:股份代号|股票代码|股份代码|股票代号|代码为|代号为|代号)[为是:：\s“\"「]*(\d{4,5})(?:\.HK)?"),
    re.compile(r"\b(\d{4,5})\.HK\b", re.I),
    re.compile(r"[(（]\s*(?:HK\s*\|\s*)?(0\d{4})\s*[)）]"),
]
# Names that are not a company: pronouns, generic nouns, time and market words.
_PRONOUN = re.compile(r"^(?:该公司|公司|其|它|该企业|这家公司|此公司|这家企业|本公司|该股|集团|该集团|后者|前者|对方|两者|双方)$")
_NOT_A_NAME = re.compile(
    r"^(?:港股|港交所|联交所|香港|新股|市场|投资者|科技股|板块|概念股|个股|股价|股份|AI|人工智能|大模型|机器人|独角兽|IPO|"
    r"今年|今日|今天|本周|上周|下周|目前|截至|其中|此外|同时|另外|而|并|且|其后|随后|此次|本次|当天|当日|首日|日前|近日|"
    r"公司|企业|集团|发行人|申请人|保荐人|香港联合交易所|香港联交所|港交所|联交所|香港交易所|证监会|中国证监会|中金|中金公司|高盛|摩根士丹利|摩根大通|瑞银|华泰|中信证券|中信建投|"
    r"投行|券商|基石投资者|保荐人|"
    # a trade, not a company in it: "最大生物科技 IPO", "尤其智能汽车和智慧生活板块"
    r"生物科技|智能汽车|智慧生活|新能源汽车|新能源|半导体|芯片|医疗器械|创新药|消费电子|金融科技|生物医药|医药|科技|智能|"
    r"人形机器人|自动驾驶|智能驾驶|具身智能|商业航天|低空经济|硬科技)$|^(?:中金|高盛|摩根|瑞银|华泰|中信|国泰君安|海通|招银|农银|建银|交银|工银|花旗|美银|汇丰|德银|瑞信|"
    r"里昂|富途|辉立|耀才|老虎|华盛|光大|申万|广发|招商证券|中银国际|星展|野村|大和|麦格理)")
_TIME_PREFIX = re.compile(
    r"^(?:(?:\d{4}年)?\d{1,2}月\d{1,2}日(?:晚间|晚|早间|上午|下午|中午|早上|傍晚)?|\d{1,2}日|今日|今天|昨日|昨天|前日|日前|近日|近期|"
    r"本周[一二三四五六日]?|上周[一二三四五六日]?|周[一二三四五六日]|星期[一二三四五六日]|今年|今年以来|上午|下午|晚间|早间|当天|当日|"
    r"同日|随后|其后|此后|之后|目前|如今|最新|刚刚|终于|也|亦|则|并|且|而|再|又|已|已经|于|在|将|正式|成功|顺利|首次|再次|"
    r"[-—–:：|｜·•\s\"“”「」『』])+")
_TAIL_ADVERBS = re.compile(r"(?:今日|今天|昨日|昨天|日前|近日|正式|成功|顺利|终于|已经|已|也|亦|则|并|再次|首次|将|于|在|即|"
                           r"\d{1,2}月\d{1,2}日|\d{1,2}日|[(（][^)）]{0,12}[)）]|[\s,，、])+$")
# "以下简称“智谱”", "简称“智谱”": the short name the article uses from then on.
_SHORT_NAME = re.compile(r"(?:以下)?简称[为:：]?\s*[“\"「『]([^”\"」』]{2,16})[”\"」』]")
_NAME_CHARS = re.compile(r"[\u4e00-\u9fffA-Za-z0-9.·&+\-_]+$")
# A city in brackets inside a registered name, kept as part of the name.
_PLACE_IN_NAME = re.compile(r"\s?[(（](?:北京|上海|深圳|广州|杭州|苏州|南京|武汉|成都|重庆|天津|合肥|厦门|西安|青岛|宁波|无锡|"
                            r"珠海|东莞|佛山|长沙|郑州|济南|福州|香港|集团|控股|中国|国际)[)）]\s?(?=[\u4e00-\u9fff])")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_COUNTED = re.compile(r"(?:\d+|[两二三四五六七八九十几多数])(?:只|家|个|间|名)[\u4e00-\u9fffA-Za-z]{0,6}?"
                      r"(?:新股|公司|企业|科技股|中概股|概念股|玩家|选手|独角兽|股)")
_COUNT_END = re.compile(r"(?:\d+|[两二三四五六七八九十几多数])(?:家|只|间|个)(?:已|已经|均|都|先后|陆续|相继)?$|"
                        r"(?:\d+|[两二三四五六七八九十几多数])(?:家|只|间)[\u4e00-\u9fff]{0,4}$")
# Page furniture that quotes other stories: "相关阅读:X招股中".
_RELATED = re.compile(r"^(?:相关阅读|延伸阅读|推荐阅读|相关新闻|热门资讯|相关文章|往期回顾|更多)")
# Unnamed sources make a whole sentence a rumour.
_RUMOUR = re.compile(r"消息称|消息指|消息透露|市场消息|市传|消息人士|知情人士|据悉.{0,6}传|传出|传闻|据传|市场传言|引述消息|"
                     r"援引消息|外电引述|彭博.{0,4}报道称")
# Words that make a stage every named company's: "相继向港交所递表", "同日挂牌".
_TOGETHER = re.compile(r"相继|先后|分别|均|都|同时|一同|一起|同日|同一天|双双")
# A government office or its head: "创新科技及工业局", "财政司司长", "证监会主席".
_GOVERNMENT = re.compile(r"(?:局|署|委员会|办公室|政府)(?:长|局长|副局长|署长|主席|秘书长)?$|"
                         r"(?:局|署|司)(?:长|局长|副局长|司长|副司长|署长)|委员会主席|特区政府|特别行政区政府")
_LIST_SPLIT = re.compile(r"[、和及与]|以及")

# The shape of a company's name in the press: its line of business or legal form last.
_ORG_SUFFIX = re.compile(r"(?:科技|智能|智驾|智行|机器人|机械人|半导体|微电子|电子|芯片|芯|集团|控股|股份|医疗|医药|生物|汽车|"
                         r"技术|软件|信息|数据|网络|视觉|光电|激光|动力|能源|新材料|实业|国际|有限公司|公司|"
                         # other trades, so their stories are not given to another company
                         r"电气|电器|电机|机电|制药|药业|出行|物流|航天|航空|资源|矿业|黄金|食品|饮品|乳业|健康|证券|银行|"
                         r"保险|地产|置业|物业|教育|传媒|娱乐|游戏|通信|通讯|光学|精密|装备|重工|工业|材料|化工|环保|新能源|"
                         r"电池|储能)$|"
                         # Latin names coined as companies' are: "MiniMax", "WeRide", "4Paradigm", "Geek+"
                         # (not a capitalised English word, nor "Oct" of a date line).
                         r"^[A-Z][a-z]+[A-Z][A-Za-z]*$|^\d[A-Za-z]+$|^[A-Za-z]+\+$")
_LEGAL_NAME = re.compile(r"(?:股份有限公司|有限责任公司|有限公司|集团有限公司|控股有限公司)")
_LEGAL_END = re.compile(r"(?:股份有限公司|有限责任公司|集团有限公司|控股有限公司|有限公司)$")
# A clause that continues the one before it ("...拟发行H股,并在联交所挂牌"): what made that
# one a plan or a regulator's step holds here too.
_CONTINUES = re.compile(r"^(?:并|并于|并在|及|以及|且|同时|随后并|进而)")
# The mainland regulator's filing or approval of an overseas listing: never a stage.
_REGULATOR = re.compile(r"证监会|备案|通知书")
_CODED = re.compile(r"[(（][^()（）]{0,20}\d{4,5}[^()（）]{0,6}[)）]")
# Pinyin glosses some sites put after characters: "天数(shù)智芯", "聆讯(língxùn)".
_PINYIN = re.compile(r"[(（][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]{1,12}[)）]")
_CLAUSE_BREAK = re.compile(r"[，,；;：:]")
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])|\n")
HISTORY_DAYS = 60
# Known organisations that never list: the exchange, regulators.
NOT_ISSUERS = frozenset({"HKEX", "SFC", "HKMA", "Cyberport", "HKSTP", "HKUST", "Hong Kong AI Research and Development Institute"})


@dataclass
class _Mention:
    name: str  # as written (original script)
    key: str  # folded form
    start: int  # offset in the sentence
    end: int
    aliases: list[str] = field(default_factory=list)
    code: str | None = None
    # The subject is the name alone, or a word saying what it is came before it ("独角兽"):
    # a name shaped like a company's is then taken for one.
    placed: bool = False
    counted: bool = False  # named with a count of companies ("两家独角兽X与Y"): a company whatever its shape


@dataclass
class _Sentence:
    text: str  # as written
    folded: str
    number: int
    title: bool


@dataclass
class Found:
    company: str
    stage: str
    sentence: int
    evidence: str
    aliases: list[str]
    stock_code: str | None = None
    amount: float | None = None
    currency: str | None = None
    event_date: datetime | None = None


def _sentences(title: str | None, text: str) -> list[_Sentence]:
    parts: list[tuple[str, bool]] = [(title, True)] if title and title.strip() else []
    parts += [(line, False) for line in text.split("\n")]
    sentences = []
    for part, is_title in parts:
        for piece in _SENTENCE_END.split(part):
            piece = piece.strip()
            if piece:
                sentences.append(_Sentence(piece, fold(piece), len(sentences), is_title))
    return sentences


def _valid(folded: str) -> bool:
    if not folded or len(folded) < 2 or len(folded) > 24 or not _NAME_CHARS.match(folded):
        return False
    if _NOT_A_NAME.match(folded) or _PRONOUN.match(folded) or folded.isdigit():
        return False
    if re.fullmatch(r"[\d.]+(?:亿|万|港元|元|%)?|\d+年|\d+月|[A-Z]{1,2}", folded):
        return False
    return True


# Words after which a subject's name starts: verbs and prepositions that make what follows
# their object ("这让地平线", "市场对小马智行"), determiners, conjunctions of clauses.
_BREAK_WORDS = frozenset({"让", "使", "令", "对", "由", "被", "把", "随着", "成为", "作为", "迎来", "宣布", "表示", "称", "公布",
                          "的", "为", "旗下", "之一的", "披露", "披露了", "显示", "官网显示", "获悉", "距离", "距", "因",
                          "加入", "加入了", "要求", "收购", "投资", "入股", "持有", "孵化", "分拆", "拆分", "携手",
                          "因为", "由于",
                          "据", "根据", "关于", "对于", "其中", "包括", "例如", "比如", "如", "像", "这", "那", "继", "紧随", "之后", "后", "看", "看好", "认为", "指", "显示", "消息",
                          "报道", "获悉", "了解", "注意到", "获", "带动", "推动", "助力", "而", "但", "但是", "不过",
                          "同时", "此外", "另外", "以及", "其后", "随后", "当", "时", "在", "于", "从", "自", "向",
                          "尤其", "尤其是", "特别是"})
# What may follow a name in its subject: "MiniMax此次IPO定价为...", "智谱股价".
_TAIL_WORDS = frozenset({"相继", "先后", "分别", "陆续", "同日", "同一天", "快速", "迅速", "此次", "本次", "今次", "这次", "的", "即日", "今起", "明起", "今日起", "明日起", "IPO", "ipo", "股价", "股票", "股份", "H股", "新股", "招股",
                         "将", "已", "已经", "正式", "成功", "顺利", "今日", "今天", "昨日", "昨天", "日前", "近日", "终于",
                         "也", "亦", "则", "并", "再次", "首次", "即", "于", "在", "已于", "曾", "还", "就", "都", "均",
                         # how a crowd does it: "AI企业密集赴港递表"
                         "密集", "纷纷", "扎堆", "争相", "接连", "频频", "集体", "批量", "加速", "蜂拥"})
# A subject that ends with one of these names no company of its own: "大模型第一股", "该公司".
_DESCRIPTIVE_END = re.compile(r"(?:(?<!有限)(?<!股份)公司|企业|独角兽|第一股|龙头|巨头|厂商|提供商|供应商|服务商|运营商|开发商|"
                              r"制造商|玩家|选手|新贵|黑马|明星|标的|个股|新股|概念股|科技股|AI股|创企|初创)[”\"」』]?$")
_BRACKETS = re.compile(r"[(（][^()（）]{0,40}[)）]")


def _blank_brackets(folded: str) -> tuple[str, list[tuple[int, list[str], str | None]]]:
    """The text with its parentheses blanked (offsets kept), and for each parenthesis where
    it starts, the aliases and the stock code it gives: "速腾聚创科技有限公司(下称“速腾聚创”,HK:02498)"."""
    brackets = []
    for match in _BRACKETS.finditer(folded):
        if _PLACE_IN_NAME.fullmatch(match.group(0)):
            continue
        inner = match.group(0)[1:-1].strip()
        aliases: list[str] = []
        code = None
        found = re.search(r"(\d{4,5})(?:\.HK)?", inner)
        if found and re.search(r"HK|港|代[号码]|^\s*\d{4,5}\s*$|^\d{4,5}\.HK$", inner, re.I):
            code = str(int(found.group(1))).zfill(4)
        short = re.search(r"(?:以下)?(?:简称|下称)[为:：]?\s*[“\"「『]?([^”\"」』,，]{2,16})", inner)
        if short:
            aliases.append(short.group(1))
        elif not found and 2 <= len(inner) <= 20 and not re.search(r"\d|年|月|日|股份代号|港股|美股|纳斯达克|纽交所", inner):
            aliases.append(inner)
        brackets.append((match.start(), aliases, code))
    blanked = _PLACE_IN_NAME.sub(lambda m: "_" * len(m.group(0)), folded)
    blanked = _BRACKETS.sub(lambda m: " " * len(m.group(0)), blanked)
    return blanked, brackets


def _bracket_after(brackets: list[tuple[int, list[str], str | None]], end: int,
                   blanked: str) -> tuple[list[str], str | None]:
    """The aliases and code of the parenthesis right after a name ending at `end`."""
    for at, aliases, code in brackets:
        if end <= at and not blanked[end:at].strip(" -WBSPwbsp"):
            return aliases, code
    return [], None


def _subject_names(sentence: _Sentence, start: int, end: int) -> tuple[str, list[_Mention]]:
    """The company (or companies) a clause's subject names: ("names", mentions), ("coref",
    []) for a pronoun, a description or an empty subject, ("roundup", []) for "三家公司"."""
    blanked, brackets = _blank_brackets(sentence.folded[start:end])
    # A heading before the story: "上市概况与交易表现 - 上海天数智芯...于...上市".
    heading = None
    for heading in re.finditer(r"\s[-\u2014\u2013|]\s|[-\u2014\u2013]{2}", blanked):
        pass
    if heading is not None:
        blanked = " " * heading.end() + blanked[heading.end():]
    count = _COUNTED.search(blanked) or _COUNT_END.search(blanked.rstrip())
    if count:
        if re.search(r"(?:已|均已|都已|已经)$", blanked.rstrip()):
            return "count", []  # "优必选、地平线、越疆科技、极智嘉4家已挂牌上市": a tally of the past
        return _listed_before(sentence, start, blanked, count.start())
    # Words, and where each starts in the clause.
    tokens, position = [], 0
    for word in _words(blanked):
        tokens.append((word, position))
        position += len(word)
    # The name starts after the last word that makes what follows an object or a new part
    # (but "第四范式宣布正式开始招股": after a word of saying with nothing named after it, the
    # name is the one before it), and ends before a verb that reports what it did.
    # A one-character break word at the clause's start may begin a name (如祺出行, 为旌科技).
    breaks = [index for index, (word, _) in enumerate(tokens) if word in _BREAK_WORDS
              and (len(word) > 1 or any(w.strip() for w, _ in tokens[:index]))]
    first = breaks[-1] + 1 if breaks else 0
    if breaks and tokens[breaks[-1]][0] in _SAYING and not any(
            w.strip() and w not in _TAIL_WORDS and w not in _AFTER_NAME and not _PRONOUN.match(w)
            and not _NOT_DONE_BEFORE.fullmatch(w) for w, _ in tokens[first:]):
        first = breaks[-2] + 1 if len(breaks) > 1 else 0
        tokens = tokens[: breaks[-1]]
    kept = _name_words(tokens[first:])
    # "智谱于12月19日通过联席保荐人递表": a one-character break word followed by a time and
    # no name leaves the name before it.
    while not kept and first and tokens[first - 1][0] in ("于", "在"):
        tokens = tokens[: first - 1]
        breaks = [b for b in breaks if b < first - 1]
        first = breaks[-1] + 1 if breaks else 0
        kept = _name_words(tokens[first:])
    if not kept:
        return "coref", []
    whole = first == 0 or tokens[first - 1][0] in ("的", "之一的")  # "开发钨矿的佳鑫国际资源": the head of its description
    span_start, span_end = kept[0][1], kept[-1][1] + len(kept[-1][0])
    # A name ends where its parenthesis was: of the parts between parentheses, the last one
    # shaped like a company's name ("商汤集团股份有限公司(0020.HK)公布..."), else the first.
    parts = [(span_start + m.start(), m.group(0)) for m in re.finditer(r"\S+(?: \S+)*", blanked[span_start:span_end])]
    # "云帆智能(02512)与晶算科技": a part after a bracket may begin with the word joining it on
    parts = [(at + 1, part[1:]) if len(part) > 2 and part[0] in "与和及、" else (at, part) for at, part in parts]
    named = [part for part in parts if _LEGAL_END.search(part[1]) or known_name(part[1])]
    offset, folded = named[-1] if named else parts[-1]
    if _PRONOUN.match(folded):
        return "coref", []
    if _DESCRIPTIVE_END.search(folded):
        # "该公司", "大模型第一股": one company, the article's; "年内港股18A公司", "机器人企业":
        # a class of companies, none in particular.
        if _CLASS_END.search(folded) and not re.search(r"该|这家|此|其|这|本", folded):
            return "class", []
        return "coref", []
    # The name after the last descriptor: "智能驾驶“独角兽”地平线机器人" -> 地平线机器人.
    introduced = False
    if not known_name(folded):
        cuts = [m.end() for m in _DESCRIPTOR.finditer(folded)
                if len(rest := _LEGAL_END.sub("", folded[m.end():].strip(" \"“”「」『』'’-—–"))) >= 2
                and (_HAN.search(rest) or re.search(r"[A-Za-z]{3}", rest))]
        if cuts:
            rest = folded[cuts[-1]:]
            cut = cuts[-1] + len(rest) - len(rest.lstrip(" \"“”「」『』'’-—–"))
            offset, folded, introduced = offset + cut, folded[cut:], True
    folded = folded.rstrip(" \"“”「」『』'’-—–")
    if _GOVERNMENT.search(folded):
        return "none", []  # "创新科技及工业局局长出席...": a bureau and its head, no company
    items = [p for p in _LIST_SPLIT.split(folded) if p.strip()]
    if len(items) > 1 and all(_valid(p.strip()) for p in items):
        mentions, position = [], offset
        for item in items:
            item = item.strip()
            at = blanked.index(item, position)
            position = at + len(item)
            mentions.append(_Mention(sentence.text[start + at: start + at + len(item)], item, start + at,
                                     start + at + len(item), placed=introduced or whole))
        return "names", mentions
    trimmed = re.sub(r"\s*-\s*[WBSPwbsp]{1,2}$", "", folded).strip()
    if not _valid(trimmed):
        return "none", []
    aliases, code = _bracket_after(brackets, offset + len(folded.rstrip()), blanked)
    written = sentence.text[start + offset: start + offset + len(trimmed)]
    return "names", [_Mention(written, trimmed.replace("_", ""), start + offset, start + offset + len(trimmed), aliases,
                              code, introduced or whole)]


def _joined_last(folded: str, mentions: list[_Mention]) -> list[_Mention]:
    """The last name, with those joined to it ("智谱与 MiniMax"): a subject's companies."""
    group = mentions[-1:]
    for mention in reversed(mentions[:-1]):
        if re.fullmatch(r"\s*(?:[、和及与]|以及)\s*", folded[mention.end: group[0].start]):
            group.insert(0, mention)
        else:
            break
    return group


def _respectively(companies: list, folded: str, clause_start: int, clause_end: int, at: int) -> list:
    """"群核科技及宇树科技已分别递交港股上市申请及启动A股上市辅导": the i-th company does the
    i-th thing; the companies whose part the stage phrase at `at` is in."""
    after = folded.find("分别", clause_start, clause_end) + 2
    if at < after:
        return companies
    parts = [m.end() for m in re.finditer(r"[、和及与]|以及", folded[after:clause_end])]
    if len(parts) + 1 != len(companies):
        return companies
    index = sum(1 for end in parts if after + end <= at)
    return [companies[index]]


def _name_words(tokens: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """The words of a subject that may be a name: up to a verb that reports what it did,
    without times and words that only follow names at either end."""
    kept: list[tuple[str, int]] = []
    for word, at in tokens:
        if word in _AFTER_NAME and kept:
            break
        if word.strip():
            kept.append((word, at))
    while kept and (kept[-1][0] in _TAIL_WORDS or _TIME_WORD.fullmatch(kept[-1][0])
                    or len(kept) > 2 and _TIME_WORD.fullmatch("".join(w for w, _ in kept[-3:]))):
        # "上/月/中": a time the segmenter cut in pieces goes as one
        if len(kept) > 2 and _TIME_WORD.fullmatch("".join(w for w, _ in kept[-3:])):
            del kept[-3:]
        else:
            kept.pop()
    while kept and (kept[0][0] in _TAIL_WORDS or _TIME_WORD.fullmatch(kept[0][0]) or kept[0][0] in "-—–:|·•\"“”「」『』"):
        kept.pop(0)
    return kept


# The class nouns among the descriptions: a category before them names no one company.
_CLASS_END = re.compile(r"(?:公司|企业|新股|个股|标的|概念股|科技股|AI股|创企)[”\"」』]?$")
# Words of saying: "X宣布..." names X before them; "港交所官网披露了X..." names X after them.
_SAYING = frozenset({"宣布", "表示", "称", "公布", "公告", "披露", "披露了", "显示"})


def _listed_before(sentence: _Sentence, start: int, blanked: str, count_at: int) -> tuple[str, list[_Mention]]:
    """A roundup's companies, listed before their count: "蓝思科技(HK06613)、极智嘉-W(HK02590)...共5家公司";
    ("roundup", []) when the count stands alone ("三家公司今日上市")."""
    listed = blanked[:count_at]
    if not re.search(r"[\u4e00-\u9fffA-Za-z]", listed):
        return _listed_after(sentence, start, blanked, count_at)
    mentions = []
    for item in re.finditer(r"[^、,，和及与共\s]+(?:\s[^、,，和及与共\s]+)?", listed):
        name = re.sub(r"-[WBSP]{1,2}$", "", item.group(0).strip())
        cut = max((m.end() for m in _DESCRIPTOR.finditer(name) if len(name) - m.end() >= 2), default=0)
        name = name[cut:]
        if _valid(name) and not _TIME_WORD.fullmatch(name):
            at = start + item.start() + cut
            mentions.append(_Mention(sentence.text[at: at + len(name)], name, at, at + len(name), placed=True, counted=True))
    return ("names", mentions) if len(mentions) >= 2 else ("roundup", [])


def _listed_after(sentence: _Sentence, start: int, blanked: str, count_at: int) -> tuple[str, list[_Mention]]:
    """A count, then its companies: "两家独角兽智谱与 MiniMax 本周上演IPO闪电战"."""
    count = _COUNTED.match(blanked, count_at) or _COUNT_END.match(blanked, count_at)
    position = count.end() if count else count_at
    rest, cut, at = blanked[position:], len(blanked) - position, 0
    for word in _words(rest):
        if word in _AFTER_NAME or _TIME_WORD.fullmatch(word) or word in _BREAK_WORDS:
            cut = at
            break
        at += len(word)
    mentions = []
    for item in re.finditer(r"[^、,，和及与\s\u2014\-]+(?:\s[^、,，和及与\s\u2014\-]+)*", rest[:cut]):
        name = item.group(0).strip()
        if _valid(name) and not _TIME_WORD.fullmatch(name):
            begin = start + position + item.start()
            mentions.append(_Mention(sentence.text[begin: begin + len(name)], name, begin, begin + len(name),
                                     placed=True, counted=True))
    return ("names", mentions) if len(mentions) >= 2 else ("roundup", [])


# Verbs that follow a subject's name: the name ends before them.
_AFTER_NAME = frozenset({"募资", "集资", "筹资", "大涨", "大跌", "股价", "首日", "上市", "公布", "宣布", "表示", "发布", "公告", "披露", "称", "指", "预计", "计划", "拟", "将", "正", "正在",
                         "已", "已经", "于", "在", "以", "获", "获得", "通过", "完成", "启动", "开启", "重启", "再度",
                         "再次", "首次", "正式", "成功", "顺利", "今日", "今天", "昨日", "日前", "近日", "今起", "明起", "即日"})


_TIME_WORD = re.compile(r"\d{1,4}(?:年|月|日|号)?|\d{1,2}月\d{1,2}日|今年|去年|本周|上周|(?:本|上|下|这|今)?周[一二三四五六日末]|"
                        r"(?:本|上|下|这)?星期[一二三四五六日天]|"
                        r"上午|下午|晚间|早间|中午|盘中|午后|早盘|收盘|当天|当日|同日|月|日|年初|年底|年内|如今|目前|最新|刚刚|"
                        r"本月|上月|当月|月初|月底|月中|月末|上月中|本月中|上月底|上月初|年中|近期|早前|日内|本年|今|昨|前|底|初|末|年|"
                        r"二次|再次|三次|首次|第[一二三四五]次|再度|三度|四度|五度|又一次|又|再|内|之内|中旬|上旬|下旬|"
                        r"[\d一二三四五六七八九十两几]+(?:天|日|周|个月|年)(?:内|之内)?")


def _words(text: str) -> list[str]:
    """jieba's words of a folded text, spaces kept as words so offsets add up."""
    from tasks.understand.chinese import _tokenizer

    return list(_tokenizer().cut(text, HMM=False))


class _Reader:
    """One article's sentences and the events they report."""

    def __init__(self, sentences: list[_Sentence], reference: datetime | None, exact: bool = True):
        self.sentences = sentences
        self.reference = reference
        self.exact = exact  # a day the page or its text gives: months without a year count from it
        self.short_names: dict[str, str] = {}  # folded short name -> folded full name
        self.organisations = _organisations(sentences)
        self.focus: str | None = None
        self.found: list[Found] = []
        self.names: dict[str, str] = {}  # folded key -> the name events use
        self.aliases: dict[str, set[str]] = {}
        self.trace: list[str] = []  # why each stage phrase did or did not become an event
        # A line that is only a company's name ("先导智能(300450.SZ)") heads the paragraphs
        # after it: their unnamed subjects are that company.
        self.heading_company: str | None = None

    def company_name(self, mention: _Mention) -> str:
        """The name events carry: a known organisation's canonical name, else as written
        first in the article."""
        key = self.short_names.get(mention.key, mention.key)
        for candidate in (mention.name, *mention.aliases):
            known = known_name(candidate)
            if known:
                self.names.setdefault(key, known)
                break
        name = self.names.setdefault(key, mention.name)
        self.aliases.setdefault(name, set()).update(a for a in (mention.name, *mention.aliases) if a != name)
        return name

    def is_organisation(self, mention: _Mention) -> bool:
        """A name the article shows to be a company: known, written with a stock code or
        a legal form somewhere in it, or shaped like a company's name."""
        key = mention.key
        if mention.code or mention.counted or any(known_name(n) for n in (mention.name, *mention.aliases)) \
                or _LEGAL_END.search(key):
            return True
        if mention.placed and _ORG_SUFFIX.search(key):
            return True
        # The short form of a name the article gives in full ("速腾聚创" of 速腾聚创科技), or the
        # full form of its short name.
        return any(key == org or len(key) >= 2 and org.startswith(key)
                   or len(org) >= 2 and key.startswith(org) and _ORG_SUFFIX.search(key) for org in self.organisations)

    def read(self) -> list[Found]:
        for sentence in self.sentences:
            for match in _SHORT_NAME.finditer(sentence.folded):
                before = sentence.folded[: match.start()].rstrip("(（,， ")
                # The name starts after the last break, not inside it ("昆仑芯(北京)科技...").
                unbroken = _PLACE_IN_NAME.sub(lambda m: "_" * len(m.group(0)), before)
                start = max((m.end() for m in re.finditer(r"[，,。；;：:)）]", unbroken)), default=0)
                kind, mentions = _subject_names(sentence, start, len(before))
                if kind == "names" and mentions:
                    self.short_names[match.group(1)] = mentions[-1].key
        # The article's company is the one its headline names, if it names one; the body is
        # read first all the same, so that a headline naming its company by a description
        # ("「大模型第一股」港交所掛牌") stands for the company the body is about.
        self.focus = self._headline_company()
        for sentence in sorted(self.sentences, key=lambda s: s.title):
            self._read_sentence(sentence)
        return self._merge()

    def _read_sentence(self, sentence: _Sentence) -> None:
        folded = sentence.folded
        if _RELATED.match(folded.strip()):
            return
        if not sentence.title:
            heading = self._name_line(sentence)
            if heading:
                self.heading_company = heading
                return
        sentence_company: str | None = None
        sentence_names: list[str] = []  # every company the sentence has named so far
        carried: str | None = None  # a plan or a regulator's step the next "并..." clause shares
        # The companies a clause with no stage of its own named, when more than one: the next
        # clause with no subject tells of them all ("天数智芯和智谱,八日在香港交易所上市").
        group: list[str] = []
        for clause_start, clause_end in _clauses(folded):
            clause = folded[clause_start:clause_end]
            hits = _longest([(m.start() + clause_start, m.end() + clause_start, stage)
                             for stage, pattern in _STAGE_PATTERNS for m in pattern.finditer(clause)]) \
                if _STAGE_HINT.search(clause) else []
            subject_end = hits[0][0] if hits else clause_end
            venue = re.search(rf"(?:(?:在|于|登陆|向|赴|到|以)?{_HK_VENUE}{_BOARD}(?:的)?|(?:在|于|来|赴)(?:这里|此|港))$",
                              folded[clause_start:subject_end])  # "今天在这里成功上市", "在港上市"
            kind, mentions = _subject_names(sentence, clause_start, clause_start + venue.start() if venue else subject_end)
            organisations = [m for m in mentions if self.is_organisation(m)]
            shaped = bool(organisations)  # names that look like companies wherever they stand
            if kind == "names" and not organisations and hits and (venue or re.search(_HK_VENUE, folded[hits[0][0]:hits[0][1]])):
                # "极视角向港交所主板提交上市申请": right before the exchange and a stage, the
                # subject is a company whatever its name looks like.
                organisations = [m for m in mentions if m.placed and _plausible(m.key)]
            if kind in ("names", "none") and not organisations:
                # "成立仅四年的MiniMax(0100.HK)以每股165港元的定价上限正式挂牌": the subject's words
                # end in a description, but a known or coded company stands in it.
                subject_at = clause_start + venue.start() if venue else subject_end
                organisations = _joined_last(folded, _named_in(sentence, clause_start, subject_at))
                shaped = bool(organisations)
                kind = "names" if organisations else "coref"  # "每股招股价定为...": the article's company
            named = [(self.company_name(m), m) for m in organisations]
            if hits and named and not re.search(_HK_VENUE, clause) and all(LISTED_ELSEWHERE.get(n) for n, _ in named):
                hits = []  # "摩尔线程上市首日大涨": a STAR Market company's debut
            if not _CONTINUES.match(clause.strip()):
                carried = None
            verdicts = []
            for start, end, stage in hits:
                verdict = carried or self._judge(sentence, clause_start, start, end, stage)
                verdicts.append(verdict)
                if verdict == "event":
                    companies = named if kind == "names" else []
                    if _WELCOMED.fullmatch(folded[start:end]):
                        # "港股市场迎来两家自动驾驶玩家——小马智行与文远知行": the companies come after
                        welcomed = _named_in(sentence, end, clause_end)
                        companies = [(self.company_name(m), m) for m in welcomed]
                        kind = "names"
                    if kind == "coref":
                        if re.search(r"本次|此次|今次", folded[clause_start:start]):
                            company = self.focus or sentence_company  # "本次发行定价为...": the article's issue
                        else:
                            company = sentence_company or self.heading_company or self._next_subject(sentence, clause_end) \
                                or self.focus
                        if company in LISTED_ELSEWHERE and not re.search(_HK_VENUE, clause):
                            company = None  # "该公司上市首日大升": a STAR Market company recalled
                        companies = [(company, None)] if company else []
                        if len(group) > 1 and company == group[-1]:
                            companies = [(name, None) for name in group]
                        if _TOGETHER.search(folded[clause_start:start]):
                            # "智谱与 MiniMax 近日上演IPO闪电战,三天内相继递表"
                            joined = [self.company_name(m) for m in _joined_last(folded, _named_in(sentence, 0, clause_start))]
                            together = joined if len(joined) > 1 else sentence_names
                            if len(together) > 1:
                                companies = [(name, None) for name in together]
                    if len(companies) > 1 and "分别" in folded[clause_start:clause_end]:
                        companies = _respectively(companies, folded, clause_start, clause_end, start)
                    if not companies:
                        verdict = f"no company ({kind})"
                    for company, mention in companies:
                        self._add(company, stage, sentence, mention)
                elif verdict in ("not done", "not a stage"):
                    carried = verdict
                self.trace.append(f"{verdict}: {stage} {folded[start:end]!r} in {clause!r}")
            issuers = [name for name, _ in named if name not in ESTABLISHED]
            sentence_names += [name for name in issuers if name not in sentence_names]
            if hits or not issuers:
                group = []
            elif group and re.match(r"\s*(?:以及|及|和|与|、)", clause):  # "A,以及B,八日..."
                group = group + [name for name in issuers if name not in group]
            else:
                group = issuers
            if issuers:
                sentence_company = issuers[-1]
                if shaped or any(v == "event" for v in verdicts):
                    self.focus = self.focus or issuers[0]
            if _NOT_DONE_BEFORE.search(_BRACKETS.sub("", clause)) or _REGULATOR.search(clause):
                carried = carried or "not done"  # "...拟发行H股,并在联交所上市"

    def _name_line(self, sentence: _Sentence) -> str | None:
        """The company a line names when the line is nothing but its name (and code)."""
        folded = sentence.folded.strip()
        cashtag = re.fullmatch(r"\$([^$()]{2,30})\((?:HK\|)?(\d{4,5})\)\$", folded)  # "$卧安机器人(06600)$"
        if cashtag:
            name = re.sub(r"-[WBSP]{1,2}$", "", cashtag.group(1).strip(), flags=re.IGNORECASE)
            at = sentence.folded.index(name)
            return self.company_name(_Mention(sentence.text[at: at + len(name)], name, at, at + len(name),
                                              code=cashtag.group(2), placed=True))
        if len(folded) > 40 or _STAGE_HINT.search(folded):
            return None
        kind, mentions = _subject_names(sentence, 0, len(sentence.folded))
        if kind != "names" or len(mentions) != 1 or not self.is_organisation(mentions[0]):
            return None
        rest = _BRACKETS.sub("", folded.replace(sentence.folded[mentions[0].start:mentions[0].end], "", 1))
        return self.company_name(mentions[0]) if not re.sub(r"[-\s:：WBSP]", "", rest) else None

    def _headline_company(self) -> str | None:
        for sentence in self.sentences:
            if not sentence.title:
                return None
            named = self._name_line(sentence)  # a headline that is only a name: "$MINIMAX-WP(HK|00100)$"
            if named:
                return named
            for start, end in _clauses(sentence.folded):
                kind, mentions = _subject_names(sentence, start, end)
                organisations = [m for m in mentions if self.is_organisation(m)] if kind == "names" else []
                organisations = organisations or _named_in(sentence, start, end)
                if organisations:
                    return self.company_name(organisations[0])
        return None

    def _next_subject(self, sentence: _Sentence, after: int) -> str | None:
        """The company the next clause opens with, for a sentence that opens with the stage
        ("上市首日,速腾聚创平开")."""
        for start, end in _clauses(sentence.folded):
            if start > after:
                kind, mentions = _subject_names(sentence, start, end)
                organisations = [m for m in mentions if self.is_organisation(m)]
                return self.company_name(organisations[0]) if kind == "names" and organisations else None
        return None

    def _judge(self, sentence: _Sentence, clause_start: int, start: int, end: int, stage: str) -> str:
        """"event", or why the stage phrase at folded[start:end] reports none."""
        folded = sentence.folded
        before = _BRACKETS.sub("", folded[clause_start:start])
        before = re.split(r"\s[-\u2014\u2013|]\s", before)[-1]  # "分拆上市计划 - 昆仑芯已...递交": a heading's words are not the story's
        after = folded[end: end + 12]
        clause_end = _CLAUSE_BREAK.search(folded, end)
        clause = folded[clause_start: clause_end.start() if clause_end else len(folded)]
        clause = re.split(r"\s[-\u2014\u2013|]\s", clause[: start - clause_start])[-1] + clause[start - clause_start:]
        if _NOT_DONE_BEFORE.search(before) or _NOT_DONE_AFTER.search(after):
            return "not done"
        if (stage != "debut" or folded[end - 1] in "市牌表锣钟") and _ATTRIBUTIVE.match(after) \
                or re.match(r"[^，,。；;]{0,12}的(?:企业|公司|新股|个股|股票)", after):
            return "a description"  # "在港交所挂牌的公司", "已递表企业", "上市首日涨幅超100%的企业"
        if stage == "debut" and (folded[start] == "赴" or _BARE_LISTING.fullmatch(folded[start:end])
                                 and not _DONE.search(before[-10:] + self._time_clause_before(folded, clause_start))
                                 and not re.match(r"了|(?:首日|当天|当日)", after)):
            return "not reported"  # "赴港上市", "为其港股上市埋下隐忧": the listing as a noun
        if stage == "debut" and re.search(r"承接|延续|续写|(?:上市|挂牌)?(?:次日|第[二三四五]天|第[二三四五]日)", clause):
            return "after the debut"  # "承接首日升势,上市次日再升31%": the debut was a day before
        if _REGULATOR.search(clause + self._clause_before(folded, clause_start)) or _NOT_A_STAGE.search(clause):
            return "not a stage"
        if _RUMOUR.search(folded):
            return "a rumour"
        if re.search(r"[吗么][?？]?$|[?？]$", clause.strip()):
            return "a question"  # "此次赴港IPO能成功上市吗?"
        following = self._clause_after(folded, end)
        if stage == "filing" and (re.search(r"失效|撤回|被退回", folded[end: end + 12].split("，")[0].split(",")[0])
                                  or re.match(r"(?:但|却|并|又|后来|随后|最终|然而|不过)[^，,。；;]{0,12}(?:失效|撤回|退回)",
                                              following)):
            return "undone"  # "于5月底递表,但在上月28日失效"
        venue = self._venue(folded, start, end)
        if venue is None and sentence.number > 0 and not sentence.title:
            earlier = self.sentences[sentence.number - 1].folded
            venue = self._venue(earlier, len(earlier), len(earlier))
        if venue == "other":
            return "another market"
        if stage == "debut" and not venue and not self._hong_kong_story():
            return "no market"
        if _HISTORY_WORDS.search(before) or self._dated_long_ago(clause + self._time_clause_before(folded, clause_start)):
            return "history"
        return "event"

    @staticmethod
    def _clause_before(folded: str, clause_start: int) -> str:
        before = [(s, e) for s, e in _clauses(folded) if e <= clause_start]
        return " " + folded[before[-1][0]: before[-1][1]] if before else ""

    @staticmethod
    def _clause_after(folded: str, end: int) -> str:
        after = [(s, e) for s, e in _clauses(folded) if s > end]
        return folded[after[0][0]: after[0][1]].strip() if after else ""

    @staticmethod
    def _time_clause_before(folded: str, clause_start: int) -> str:
        """The clause before, when it only dates this one: "今年8月,商汤向港交所提交招股书"."""
        before = [(s, e) for s, e in _clauses(folded) if e <= clause_start]
        if before:
            text = folded[before[-1][0]: before[-1][1]].strip()
            if len(text) <= 12 and re.search(r"\d{1,2}月|\d{4}年", text):
                return " " + text
        return ""

    def _venue(self, folded: str, start: int, end: int) -> str | None:
        """"hk", "other" or None: the market named in the stage phrase, else the nearest
        one in its sentence (before the phrase preferred within its clause)."""
        phrase = folded[start:end]
        if re.search(_HK_VENUE, phrase):
            return "hk"
        window_start = max(0, start - 30)
        candidates = []
        for pattern, name in ((re.compile(_HK_VENUE + r"|H股|\.HK|港元|" + _IN_HK), "hk"), (_OTHER_VENUE, "other")):
            for match in pattern.finditer(folded, window_start, min(len(folded), end + 20)):
                distance = start - match.end() if match.end() <= start else match.start() - end + 5
                candidates.append((distance, name))
        return min(candidates)[1] if candidates else None

    def _hong_kong_story(self) -> bool:
        return any(_HK_HINT.search(s.folded) for s in self.sentences)

    def _dated_long_ago(self, clause: str) -> bool:
        if self.reference is None:
            return False
        # "今年8月", "去年12月", "1月27日": months counted back from the story's day.
        for match in [] if not self.exact else re.finditer(r"(?<![\d年])(今年|去年)?(\d{1,2})月", clause):
            month = int(match.group(2))
            if not 1 <= month <= 12:
                continue
            year = self.reference.year - (1 if match.group(1) == "去年" or (
                match.group(1) is None and month > self.reference.month + 1) else 0)
            last_day = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=timezone.utc) - timedelta(days=1)
            if (self.reference - last_day).days > HISTORY_DAYS:
                return True
        for match in re.finditer(r"(20\d{2})年(?:(\d{1,2})月)?", clause):
            year, month = int(match.group(1)), int(match.group(2) or 12)
            try:
                last_day = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=timezone.utc) - timedelta(days=1)
            except ValueError:
                continue
            if (self.reference - last_day).days > HISTORY_DAYS:
                return True
        return False

    def _add(self, company: str, stage: str, sentence: _Sentence, mention: _Mention | None) -> None:
        self.found.append(Found(company, stage, sentence.number, sentence.text,
                                sorted(self.aliases.get(company, set())),
                                stock_code=mention.code if mention else None))

    def _merge(self) -> list[Found]:
        best: dict[str, Found] = {}
        for found in self.found:
            current = best.get(found.company)
            if current is None or STAGE_RANK[found.stage] > STAGE_RANK[current.stage]:
                best[found.company] = found
        for company, found in best.items():
            found.aliases = sorted(self.aliases.get(company, set()) - {company})
            found.stock_code = found.stock_code or self._stock_code(company)
            found.amount, found.currency = self._amount(company, found)
            found.event_date = self.reference
        return list(best.values())

    def _stock_code(self, company: str) -> str | None:
        names = [fold(n) for n in (company, *self.aliases.get(company, ()))]
        for sentence in self.sentences:
            for name in names:
                at = sentence.folded.find(name)
                if at >= 0:
                    match = _CODE_AFTER.match(sentence.folded[at + len(name):])
                    if match:
                        return str(int(match.group(1))).zfill(4)
        codes = []
        for sentence in self.sentences:
            for pattern in _CODE_ANYWHERE:
                codes += [str(int(m.group(1))).zfill(4) for m in pattern.finditer(sentence.folded)]
        return codes[0] if len(set(codes)) == 1 else None

    def _amount(self, company: str, found: Found) -> tuple[float | None, str | None]:
        for sentence in sorted(self.sentences, key=lambda s: abs(s.number - found.sentence)):
            amount = parse_amount_zh(sentence.folded)
            if amount[0] is not None:
                return amount
        return None, None


@functools.cache
def _known_pattern() -> re.Pattern[str]:
    """Every known company's Chinese (and Latin) names, longest first; the segmenter learns
    them too, so a name is one word."""
    from tasks.understand.chinese import add_words

    names = {alias for canonical, (label, aliases) in KNOWN_ORGS.items() if label == "ORG"
             and canonical not in ESTABLISHED | NOT_ISSUERS for alias in (*aliases, canonical)}
    add_words(n for n in names if _HAN.search(n))
    return re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))


def _known_mentions(sentence: _Sentence) -> list[_Mention]:
    return [_Mention(sentence.text[m.start():m.end()], m.group(0), m.start(), m.end())
            for m in _known_pattern().finditer(sentence.folded)]


def _plausible(key: str) -> bool:
    """A name as companies' are written: Chinese characters (a Latin part allowed), not a
    phrase of the text around it."""
    return 2 <= len(key) <= 12 and bool(_HAN.search(key)) and _valid(key) \
        and not re.search(r"[的了是在和与及]|公司|企业|表示|宣布|显示|预计|计划|寻求|谋求|转而|决定|选择|准备|考虑|"
                          r"希望|继续|推进|不再|有助|快速|迅速|相继|先后|分别|陆续", key)


def _named_in(sentence: _Sentence, start: int, end: int) -> list[_Mention]:
    """Known companies and names written with a stock code between two offsets."""
    found = [m for m in _known_mentions(sentence) if start <= m.start and m.end <= end]
    for code in _CODED.finditer(sentence.folded, start, end):
        kind, mentions = _subject_names(sentence, start, code.end())
        found += [m for m in mentions if m.code] if kind == "names" else []
    return sorted(found, key=lambda m: m.start)


def _clauses(folded: str) -> list[tuple[int, int]]:
    """(start, end) of each clause: cut at commas, semicolons and colons outside brackets."""
    blanked = _BRACKETS.sub(lambda m: " " * len(m.group(0)), folded)
    return [(m.start(), m.end()) for m in re.finditer(r"[^，,；;：:]+", blanked)]


def _organisations(sentences: list[_Sentence]) -> set[str]:
    """Folded names the article itself shows to be companies: written with a stock code,
    a legal form, a short name ("以下简称") or after a word that says what they are."""
    found: set[str] = set()
    for sentence in sentences:
        folded = sentence.folded
        for match in _CODED.finditer(folded):
            kind, mentions = _subject_names(sentence, _clause_start(folded, match.start()), match.end())
            found |= {m.key for m in mentions} if kind == "names" else set()
        for match in _LEGAL_NAME.finditer(folded):
            kind, mentions = _subject_names(sentence, _clause_start(folded, match.start()), match.end())
            found |= {_LEGAL_END.sub("", m.key) for m in mentions if len(_LEGAL_END.sub("", m.key)) >= 2} \
                if kind == "names" else set()
        for match in _SHORT_NAME.finditer(folded):
            found.add(match.group(1))
    return {name for name in found if _valid(name)}


def _clause_start(folded: str, position: int) -> int:
    for start, end in _clauses(folded):
        if start <= position <= end:
            return start
    return 0


def _longest(hits: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping stage phrases reduced to the longest, in text order."""
    kept: list[tuple[int, int, str]] = []
    for start, end, stage in sorted(hits, key=lambda h: (h[0], -(h[1] - h[0]))):
        if any(s < end and start < e for s, e, _ in kept):
            continue
        kept.append((start, end, stage))
    return kept


# --- amounts ---------------------------------------------------------------------------------------

_AMOUNT = re.compile(r"(?:募资|集资|募集资金|募集|筹资|融资|所得款项(?:总额|净额)?|发售规模|发行规模)(?:总额|净额|额|金额)?"
                     r"(?:约|预计|最多|最高|达|为|至|约为|逾|超过|超)*\s*(\d+(?:,\d{3})*(?:\.\d+)?)\s*"
                     r"(亿|百万|千万|万)?\s*(港元|港币|美元|元人民币|人民币|元)")
_UNITS = {"亿": 1e8, "百万": 1e6, "千万": 1e7, "万": 1e4, None: 1.0}
_CURRENCY = {"港元": "HKD", "港币": "HKD", "美元": "USD", "元人民币": "CNY", "人民币": "CNY", "元": "CNY"}


def parse_amount_zh(text: str) -> tuple[float | None, str | None]:
    """The amount an offering raises, if the sentence states one: "募资约43.48亿港元"."""
    match = _AMOUNT.search(fold(text))
    if not match:
        return None, None
    value = float(match.group(1).replace(",", "")) * _UNITS[match.group(2)]
    return (value, _CURRENCY[match.group(3)]) if value >= 1e6 else (None, None)


# --- articles --------------------------------------------------------------------------------------

def read_chinese_article(article: Article) -> list[Found]:
    """One Chinese article's events: one per company, its latest stage."""
    if article.published_at:
        reference, exact = article.published_at, True
    else:
        reference, exact = story_day((article.title or "") + "\n" + fold(article.text), article.fetched_at)
    text = _PINYIN.sub("", article.text)
    return _Reader(_sentences(article.title and _PINYIN.sub("", article.title), text), reference, exact).read()


def parse_date_zh(text: str, reference: datetime | None) -> datetime | None:
    """"2026年1月9日", "1月9日" (the reference's year) -> a date."""
    match = re.search(r"(?:(20\d{2})年)?(\d{1,2})月(\d{1,2})日", fold(text))
    if not match or (match.group(1) is None and reference is None):
        return None
    year = int(match.group(1)) if match.group(1) else reference.year
    try:
        return datetime(year, int(match.group(2)), int(match.group(3)), tzinfo=timezone.utc)
    except ValueError:
        return None


