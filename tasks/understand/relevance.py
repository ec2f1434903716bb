"""Is an article about AI in or around Hong Kong? A keyword score that names its evidence.

What this user means by Hong Kong AI: AI models and software, AI chips and semiconductors,
robotics, autonomous driving and lidar, AI drug discovery, and the Hong Kong capital-market
news about them (a lidar maker's Hong Kong debut is relevant; a bubble-tea chain's is not).

Two axes are scored from weighted term counts: AI (the topics above, and the companies
whose business they are) and Hong Kong (the city, its exchange and the words of its
listings, its institutions, the Greater Bay Area). Relevance is their product, so an
article needs both. Three kinds of article score high on both and are still not what
the user means, and are marked down with a named signal:

- a market wrap ("the Hang Seng Index fell 2.1 per cent ... SenseTime lost 4 per cent"):
  index moves and no listing news (`not:market wrap`);
- a product launch of a firm outside those topics ("an AI rice cooker", on sale in
  Causeway Bay), and a property story that mentions an AI tool: their only AI evidence is
  the word "AI" itself (`not:product launch`, `not:property`).

`relevance_signals` lists every signal that fired, strongest first: which terms and which
companies made the score. Pure and fast (regular expressions only) so it runs in worker
processes without spaCy.
"""

from __future__ import annotations

import math
import re

from schemas.records import Article
from tasks.names import KNOWN_ORGS, SECTORS
from tasks.understand.chinese import HAN, fold

# (signal name, weight per mention, pattern, triggers). Patterns are case-insensitive
# unless the name is in _CASE_SENSITIVE (acronyms that are ordinary words in lower case).
# A pattern only runs when one of its triggers occurs in the lower-cased text: a substring
# test is ~100 times cheaper than a regex scan, and most articles mention few terms.
AI_TERMS: list[tuple[str, float, str, tuple[str, ...]]] = [
    ("ai:term:AI", 0.45, r"\bA\.?I\b(?!-?\d)", ("ai", "a.i")),
    # What a company does, in so many words: "an AI start-up", "AI drug developer", "uses AI to".
    ("ai:term:AI company", 1.0, r"\bA\.?I(?:[- ][a-z]+)?\s+(?:company|companies|firms?|start-?ups?|developers?|providers?|"
                                r"groups?|unicorns?|champions?|software|platforms?|solutions?|makers?|"
                                r"designers?|specialists?|players?|businesses|tigers?|stocks?|listings?|developer)\b",
     ("ai",)),
    # Chinese AI firms' English names: "Shentu Intelligence", "Yinhe Intelligent Technology".
    ("ai:term:intelligent name", 0.6, r"\b[A-Z][a-z]+ (?:Intelligence|Intelligent)\b", ("intelligen",)),
    ("ai:term:AI-powered", 0.6, r"\bAI[- ](?:powered|driven|enabled|based|led)\b|\buses? (?:AI|artificial intelligence)\b",
     ("ai-", "ai ", "artificial intelligence")),
    ("ai:term:artificial intelligence", 0.9, r"artificial[ -]intelligence", ("artificial",)),
    ("ai:term:generative AI", 1.0, r"\bgen(?:erative)?[ -]?A\.?I\b|\bAIGC\b", ("genai", "gen ai", "generative", "aigc")),
    ("ai:term:large model", 1.0, r"\blarge(?:[ -]scale)?[ -](?:language[ -])?models?\b|\bLLMs?\b|\bfoundation models?\b|"
                                  r"\blanguage models?\b|\breasoning models?\b|\bmodel developers?\b|\bmodel makers?\b",
     ("large", "llm", "foundation model", "language model", "reasoning model", "model developer", "model maker")),
    ("ai:term:machine learning", 0.9, r"\bmachine[ -]learning\b|\bdeep[ -]learning\b|\bneural net(?:work)?s?\b|"
                                      r"\bcomputer[ -]vision\b|\bmachine[ -]vision\b|\bspeech recognition\b|"
                                      r"\bnatural language processing\b|\bvoice AI\b|\bAI agents?\b|\bembodied\b",
     ("learning", "neural", "vision", "speech recognition", "natural language", "voice ai", "ai agent", "embodied")),
    ("ai:term:chatbot", 0.7, r"\bchat ?bots?\b|\bChatGPT\b|\bAI assistants?\b|\bvoice assistants?\b",
     ("chat", "assistant")),
    ("ai:term:AI chip", 1.0, r"\bGPUs?\b|\bAI (?:chips?|accelerators?|processors?)\b|\bgraphics process(?:ors?|ing units?)\b|"
                             r"\b(?:AI|inference|training) chips?\b",
     ("gpu", "ai chip", "ai accelerator", "ai processor", "graphics process", "inference chip", "training chip")),
    ("ai:term:semiconductor", 0.8, r"\bsemiconductors?\b|\bchip ?(?:makers?|designers?|developers?|firms?|companies|"
                                   r"stocks?|equipment|testing|tester)\b|\bchips?\b|\bintegrated circuits?\b|\bfabless\b|\bIC design|"
                                   r"\bmicrocontrollers?\b|\bwafers?\b|\bsilicon carbide\b",
     ("semiconductor", "chip", "integrated circuit", "microcontroller", "wafer", "silicon carbide", "fabless",
      "ic design")),
    ("ai:term:robotics", 0.9, r"\brobot(?:s|ics?|ic)?\b|\bhumanoids?\b|\bquadrupeds?\b|\brobotic arms?\b|\bdrones?\b",
     ("robot", "humanoid", "quadruped", "drone")),
    # A company whose business is robots, not a shop that has one: "robot maker", "a maker
    # of delivery robots", "develops humanoid robots".
    ("ai:term:robot maker", 0.5, r"\brobot(?:ics)?[ -](?:makers?|firms?|compan(?:y|ies)|developers?|start-?ups?|"
                                 r"manufacturers?|suppliers?|designers?)\b|\bmakers? of (?:[\w-]+ ){0,3}robots?\b|"
                                 r"\bdevelop(?:s|er of|ers of)? (?:[\w-]+ ){0,3}robots\b|"
                                 r"\brobot(?:ic|ics)? (?:solutions?|stocks?|systems?|products?|technology)\b",
     ("robot",)),
    # Chinese issuers' English names in Hong Kong listing news: "Kuaibu Technology landed on
    # HKEX" (machine-translated 科技; the line of business was in earlier stories). Counts
    # only in listing news on Hong Kong's exchange (see score_text), and only as a generic word.
    ("ai:term:technology name", 0.3, r"\b(?!Hang\b|Seng\b)[A-Z][a-z]+ (?:Technology|Technologies|Tech)\b"
                                     r"(?! (?:Index|index|stocks?|shares?))", ("tech",)),
    ("ai:term:robotics name", 0.5, r"\b[A-Z][a-z]+ Robot(?:ics)?\b", ("robot",)),
    ("ai:term:autonomous driving", 1.0, r"\bautonomous(?:[ -]driving| vehicles?| trucks?| cars?| minibus(?:es)?| buses| bus| shuttles?| delivery|"
                                        r" mobility| parking)\b|\bself-driving\b|\bdriverless\b|\brobo-?taxis?\b|"
                                        # A company that sells driving AI, not a car that has some:
                                        # "smart-driving software unit", "intelligent driving solutions provider".
                                        r"\b(?:smart|intelligent|assisted|autonomous)[- ]driving (?:software|solutions?|systems?|"
                                        r"chips?|units?|firms?|compan(?:y|ies)|start-?ups?|suppliers?|providers?|developers?|"
                                        r"technology)\b|\b(?:highway|urban|city|navigate on autopilot) (?:pilot|NOA)\b",
     ("autonomous", "self-driving", "driverless", "robotaxi", "robo-taxi", "driving", "pilot", "noa")),
    # Every new car has some: a carmaker's "driver-assistance features" is not a driving AI firm.
    ("ai:term:driver assistance", 0.6, r"\bdriver[ -]assist(?:ance)?\b|\bADAS\b|\b(?:intelligent|smart|assisted)[ -]driving\b",
     ("driver-assist", "driver assist", "adas", "intelligent driving", "smart driving", "assisted driving")),
    ("ai:term:smart cockpit", 0.8, r"\b(?:smart|intelligent) cockpits?\b|\bcockpit (?:chips?|software|solutions?)\b",
     ("cockpit",)),
    ("ai:term:lidar", 1.0, r"\blidars?\b|\blaser radar\b", ("lidar", "laser radar")),
    ("ai:term:drug discovery", 0.6, r"\bdrug discovery\b|\b(?:design|designs|screen|screens|discover)\s+"
                                    r"(?:\w+\s+)?(?:drugs?|drug candidates|antibodies|molecules?)\b|\bAI-driven drug\b",
     ("drug discovery", "drug", "antibod", "molecule")),
    ("ai:term:computing power", 0.6, r"\bcomputing power\b|\bsuper ?comput(?:er|ing)\b|\bpetaflops?\b|\bcompute capacity\b",
     ("computing power", "supercomput", "super comput", "petaflop", "compute capacity")),
    ("ai:term:data centre", 0.3, r"\bdata cent(?:re|er)s?\b", ("data cent",)),
    ("ai:term:algorithm", 0.2, r"\balgorithm(?:s|ic)?\b", ("algorithm",)),
]
# The AI terms that say only "AI": a rice cooker "with AI modes" has these and no other.
GENERIC_AI = {"ai:term:AI", "ai:term:AI-powered", "ai:term:artificial intelligence", "ai:term:algorithm",
              "ai:term:data centre", "ai:term:technology name"}
# AI words that any modern company's story may carry in passing: with only these and
# GENERIC_AI, an issuer described as a jewellery chain or a carmaker is not an AI company.
INCIDENTAL_AI = {"ai:term:driver assistance", "ai:term:chatbot"}
# Robots in a shop, a restaurant or a store launch: incidental when the lede says the
# company is in another sector and nothing says it makes robots.
INCIDENTAL_ROBOTS = {"ai:term:robotics"}
# In Hong Kong listing news a bare "AI" says what the issuer does ("a Chinese AI firm
# priced its IPO"): it weighs this much more there.
LISTING_AI_BOOST = 1.7

HK_TERMS: list[tuple[str, float, str, tuple[str, ...]]] = [
    ("hk:place:Hong Kong", 0.6, r"\bHong Kong\b|\bHKSAR\b|\bHK SAR\b", ("hong kong", "hksar", "hk sar")),
    ("hk:place:HK", 0.4, r"\bHK\b(?!\$)", ("hk",)),
    ("hk:money:HK$", 0.6, r"\bHK\$|\bHKD\b|Hong Kong dollars?", ("hk$", "hkd", "hong kong dollar")),
    ("hk:exchange:HKEX", 1.5, r"\bHKEX\b|\bHKEx\b|(?i:Hong Kong (?:stock exchange|exchanges?)\b|Stock Exchange of Hong Kong)|"
                              r"\.HK\b|\bHang Seng\b|\bChapter 18C\b|\b[Mm]ain [Bb]oard\b|\bGEM\b",
     ("hkex", "exchange", ".hk", "hang seng", "chapter 18c", "main board", "gem")),
    # Listing words that only Hong Kong's market uses ("post-hearing information pack",
    # "H shares", a five-digit code in brackets).
    ("hk:exchange:listing terms", 1.0, r"\blisting committee\b|\blisting hearings?\b|\bpost-hearing\b|\bPHIP\b|"
                                       r"\bH[- ]shares?\b|\bA\+H\b|\bcornerstone investors?\b|\bgr[ae]y[- ]market\b|"
                                       r"\(0\d{4}(?:\.HK)?\)|\bstock code(?::| is)? 0?\d{4}\b",
     ("listing committee", "hearing", "post-hearing", "phip", "h share", "h-share", "a+h", "cornerstone", "grey",
      "gray", "(0", "stock code")),
    ("hk:exchange:Hong Kong listing", 1.5, r"\b(?:Hong Kong|HK)(?:'s|\u2019s)? (?:listings?|IPOs?|initial public "
                                           r"offerings?|debut|trading debut|market debut|float|bourse|stock market|"
                                           r"share sale|offering|exchange)\b|\b(?:list(?:ed|ing|s)?|debut(?:ed|s)?|IPO|"
                                           r"offering|float|trading|shares)\s+(?:\w+\s+){0,6}in Hong Kong\b",
     ("hong kong", "hk")),
    ("hk:exchange:Hong Kong-listed", 1.0, r"\b(?:Hong Kong|HK)[- ]listed\b|\blisted in Hong Kong\b",
     ("hong kong", "hk")),
    ("hk:place:Greater Bay Area", 0.9, r"Greater Bay Area|\bGBA\b|Northern Metropolis|San Tin Technopole|Lok Ma Chau Loop|"
                                       r"Hetao", ("greater bay", "gba", "northern metropolis", "san tin", "lok ma chau",
                                                  "hetao")),
    ("hk:place:district", 0.3, r"\bKowloon\b|\bTsim Sha Tsui\b|\bWan Chai\b|\bCentral district\b|\bSha Tin\b|"
                               r"\bTseung Kwan O\b|\bCauseway Bay\b|\bNew Territories\b",
     ("kowloon", "tsim sha tsui", "wan chai", "central district", "sha tin", "tseung kwan o", "causeway bay",
      "new territories")),
]

# Hong Kong institutions, as written (case-sensitive): one signal per name.
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
# Companies whose business is one of the AI topics, from the known-organisation table
# (one signal per company, e.g. "ai:org:Zhipu AI"), and Chinese names of a few of them.
AI_ORGS: dict[str, tuple[str, ...]] = {
    name: tuple(dict.fromkeys(alias for written in (name, *KNOWN_ORGS[name][1])
                              for alias in (written, written.upper() if written.isascii() else written)))
    for name in SECTORS
}


def _alias_pattern(aliases: tuple[str, ...]) -> str:
    def one(alias: str) -> str:
        if not alias.isascii():
            return re.escape(alias)
        end = r"\b" if alias[-1].isalnum() else r"(?!\w)"
        return rf"\b{re.escape(alias)}{end}"

    return "|".join(one(a) for a in sorted(aliases, key=len, reverse=True))


AI_TERMS += [(f"ai:org:{name}", 1.0, _alias_pattern(aliases), tuple(a.lower() for a in aliases))
             for name, aliases in AI_ORGS.items()]
HK_TERMS += [(f"hk:org:{name}", 1.0, _alias_pattern(aliases), tuple(a.lower() for a in aliases))
             for name, aliases in HK_ORGS.items()]

# Evidence that the story is a stock-market listing. It only counts when the same article
# names Hong Kong's exchange or its listing words: otherwise "listings" is as likely to be
# a shop's product listings or a property listing.
MARKET_TERMS: list[tuple[str, float, str, tuple[str, ...]]] = [
    ("market:ipo", 0.5, r"\bIPOs?\b|initial public offerings?|\btrading debut\b|\bdebut(?:ed|s)?\b|"
                        r"\bprospectus\b|\bdual[ -]listing\b|\bsecondary listing\b|\blisting application\b|"
                        r"\blisting hearing\b|\bplacing\b|\bplacement\b|"
                        # Machine-translated listing news: "was officially listed on the main
                        # board", "landed on HKEX", "the net proceeds from the global offering".
                        r"\b(?:listed|landed) on (?:the )?(?:main board|HKEX|Hong Kong|GEM)\b|\bglobal offering\b|"
                        r"\bfirst day of (?:trading|listing)\b|\bon (?:its|the) first day\b",
     ("ipo", "public offering", "debut", "prospectus", "listing", "placing", "placement",
      "listed on", "landed on", "global offering", "first day")),
]

# Chinese, matched in simplified characters (a traditional text is read through OpenCC):
# the same topics and the same weights as the English terms above. Only words with Chinese
# characters: the English terms already count "AI", "GPU" or "IPO" wherever they occur.
AI_TERMS += [
    ("ai:term:人工智能", 0.9, r"人工智能|人工智慧|生成式AI|智能体|AI(?:技术|应用|公司|企业|独角兽|芯片|制药|模型|赛道|产业|股)",
     ("人工智", "ai", "智能体")),
    ("ai:term:大模型", 1.0, r"大模型|大语言模型|基础模型|多模态模型|通用人工智能", ("模型", "人工智能")),
    ("ai:term:芯片", 0.9, r"芯片|晶片|半导体|集成电路|晶圆|处理器|存储器", ("芯片", "晶片", "半导体", "集成电路", "晶圆", "处理器", "存储器")),
    ("ai:term:算力", 0.6, r"算力|数据中心|超算|智算|云计算", ("算力", "数据中心", "超算", "智算", "云计算")),
    ("ai:term:机器人", 0.9, r"机器人|机械人|具身智能|机械臂|四足|无人机", ("机器人", "机械人", "具身", "机械臂", "四足", "无人机")),
    ("ai:term:自动驾驶", 1.0, r"自动驾驶|智能驾驶|智驾|无人驾驶|辅助驾驶|激光雷达|毫米波雷达|车载芯片",
     ("驾驶", "智驾", "雷达", "车载芯片")),
    ("ai:term:智能座舱", 0.8, r"智能座舱|座舱芯片|车联网|智能网联|舱驾一体", ("座舱", "车联网", "智能网联", "舱驾")),
    ("ai:term:AI制药", 0.8, r"AI制药|AI药物|药物发现|AI\+药物|AI驱动的药物", ("制药", "药物")),
    ("ai:term:技术", 0.9, r"计算机视觉|机器视觉|语音识别|自然语言处理|深度学习|机器学习|神经网络", ("视觉", "语音识别", "自然语言",
                                                                              "深度学习", "机器学习", "神经网络")),
    ("ai:term:特专科技", 0.8, r"特专科技|18C(?:章|公司|企业|上市)|科企专线|硬科技", ("特专", "18c", "科企", "硬科技")),
    ("ai:term:科技企业", 0.3, r"科技(?:企业|公司|股|巨头|独角兽)|科企", ("科技", "科企")),
    ("ai:term:算法", 0.2, r"算法", ("算法",)),
]
GENERIC_AI |= {"ai:term:科技企业", "ai:term:算法", "ai:term:算力"}
HK_TERMS += [
    ("hk:exchange:港交所", 1.5, r"港交所|香港交易所|联交所|香港联合交易所|港股|恒生指数|恒指|恒生科技|H股|股份代号|香港主板",
     ("港交所", "香港交易所", "联交所", "联合交易所", "港股", "恒生", "恒指", "h股", "股份代号", "香港主板")),
    ("hk:place:香港", 0.6, r"香港|本港|港府|特区政府|港人", ("香港", "本港", "港府", "特区政府", "港人")),
    ("hk:money:港元", 0.6, r"港元|港币", ("港元", "港币")),
    ("hk:exchange:聆讯", 1.0, r"聆讯|递表|招股|暗盘|基石投资者|超额认购|孖展|中签|入场费|招股书|招股章程|联席保荐人|保荐人|"
                                 r"聆讯后资料集|上市委员会|回拨", ("聆讯", "递表", "招股", "暗盘", "基石", "超额认购", "孖展", "中签",
                                                                 "入场费", "保荐人", "上市委员会", "回拨")),
    ("hk:org:香港机构", 1.0, r"数码港|科学园|科技园|大湾区|北部都会区|河套|投资推广署|金管局|创新科技署|数字政策办公室",
     ("数码港", "科学园", "科技园", "大湾区", "北部都会区", "河套", "投资推广署", "金管局", "创新科技署", "数字政策")),
]
MARKET_TERMS += [
    ("market:上市", 0.5, r"上市|新股|挂牌|首日|发售|募资|集资|敲锣|递表|聆讯|招股", ("上市", "新股", "挂牌", "首日",
                                                                                      "发售", "募资", "集资", "敲锣",
                                                                                      "递表", "聆讯", "招股")),
]

_CASE_SENSITIVE = {"ai:term:AI", "ai:term:generative AI", "ai:term:AI chip", "ai:term:intelligent name",
                   "ai:term:robotics name", "ai:term:technology name",
                   "hk:place:HK", "hk:money:HK$",
                   "hk:exchange:HKEX", "hk:place:Greater Bay Area"}
_CASE_SENSITIVE |= {f"ai:org:{name}" for name in AI_ORGS} | {f"hk:org:{name}" for name in HK_ORGS}

# A term counts up to this many times: a long piece repeating one word is not more on-topic.
MAX_MENTIONS = 4
# Mentions in the title count as this many mentions in the body.
TITLE_WEIGHT = 2
# Evidence is divided by sqrt(words / LENGTH_UNIT) beyond LENGTH_UNIT words, so that two
# passing mentions in a 2,000-word piece weigh less than two in a 200-word brief.
LENGTH_UNIT = 400
# What a marked-down article keeps of its score: 0.3 takes a product launch with several
# "AI"s (0.8) below the 0.5 threshold, measured on bench/listings_eval.py's dev passages.
PENALTY = 0.3

# An index that moved by a stated amount: "the Hang Seng Index fell 2.1 per cent".
_INDEX_MOVE = re.compile(
    r"\b(?:index|indices|benchmark|Hang Seng|HSI|CSI 300|Shanghai Composite)\b[^.]{0,40}?\b(?:rose|rising|rise|fell|"
    r"falling|fall|gained|gaining|lost|losing|added|adding|slid|sliding|dropped|dropping|climbed|climbing|jumped|"
    r"down|up|declined|advanced|edged|slipped|eased|ended|closed|extended)\b[^.]{0,30}?\d+(?:\.\d+)?\s?"
    r"(?:%|per ?cent|pc\b|points)", re.IGNORECASE)
# What the lede calls a company in a sector outside this user's AI: "gold jewellery chain",
# "electric-car maker", "bubble tea chain".
_OTHER_SECTOR = re.compile(
    r"\b(?:jewell?ery|bubble tea|tea chain|restaurant|noodle|dumpling|hotpot|brewer(?:y)?|beer|dairy|snack|cosmetics|"
    r"skincare|make-up|sportswear|apparel|fashion|retailer|supermarket|property developer|developer of homes|"
    r"property manager|carmaker|car maker|automaker|electric-car maker|ev maker|battery (?:maker|giant|manufacturer|producer)|"
    r"bank|insurer|"
    r"brokerage|hotel|airline|casino|pharmaceutical|drugmaker|tobacco|liquor|baijiu|toy maker|pet food|"
    r"tea brand|tea shop|milk tea|coffee (?:chain|brand|shop)|fast[- ]food|catering|caterer|bakery|"
    r"logistics (?:company|firm|group|provider|operator)|courier|express delivery)\b",
    re.IGNORECASE)
_OTHER_VENUE = re.compile(r"\bSTAR Market\b|\bShanghai Stock Exchange\b|\bShenzhen Stock Exchange\b|\bNasdaq\b|"
                          r"\bNYSE\b|\bNew York Stock Exchange\b|\bChiNext\b", re.IGNORECASE)
# Listing news that names no market: Hong Kong papers leave their own exchange implied
# ("three mainland tech firms made their debuts yesterday"). It counts for the Hong Kong
# axis when no other market or country's listing is named anywhere in the article.
_IMPLIED_LISTING = re.compile(r"\bIPOs?\b|initial public offerings?|\bprospectus\b|\blisting (?:application|hearing|"
                              r"ceremony|committee)\b|\b(?:trading|market) debuts?\b|\boffer price\b|"
                              r"first day of trading|\bnewly listed\b|\bpost-hearing\b|\bglobal offering\b|"
                              # A listed company's shares told against its listing: "tripled since
                              # its debut", "debuted in the city in December", "listed last month".
                              r"\b(?:since|after|from) (?:its|their|the) (?:\w+ )?(?:debut|listing|float)\b|"
                              r"\bdebuted in the city\b|\blisted (?:last|this|earlier this) (?:month|week|year)\b|"
                              r"\bshare placing\b|\bafter (?:the |its )?float\b")
_ELSEWHERE_LISTING = re.compile(r"\bSTAR Market\b|\bStock Exchange\b|\bShanghai\b|\bShenzhen\b|\bNasdaq\b|\bNYSE\b|"
                                r"\bChiNext\b|\bU\.?S\.?\b|\bAmerican\b|\bNew York\b|\bWall Street\b|\bLondon\b|"
                                r"\bTokyo\b|\bSingapore\b|\bTaiwan\b|\bKorea\b|\bA-shares?\b|\bADSs?\b")
IMPLIED_WEIGHT = 0.5
_LISTING_NEWS = re.compile(r"\bIPOs?\b|initial public offering|\bdebut|\bprospectus\b|listing (?:application|hearing)|"
                           r"\b(?:secondary|dual(?:[- ]primary)?|primary|Hong Kong|HK) listing\b|\blist(?:ing)? in Hong Kong\b|"
                           r"上市|递表|聆讯|招股|"
                           r"\bfiled\b|\bfiles\b|\bplacing\b|\bplacement\b|\bindex inclusion\b|\bjoin the\b|"
                           r"\bwill be added\b|\bbegan trading\b|first day of trading", re.IGNORECASE)
_PRODUCT_LAUNCH = re.compile(r"\b(?:launch(?:ed|es)?|unveil(?:ed|s)?|showed off|began selling|goes on sale|went on sale|"
                             r"on sale|retail price|priced at|available at|flagship store|stores?|shops?)\b",
                             re.IGNORECASE)
_PROPERTY = re.compile(r"\b(?:flats?|home prices?|property|properties|residential|landlords?|rents?|mortgages?|"
                       r"developers? said|sq ft|square feet|office space|vacanc(?:y|ies))\b", re.IGNORECASE)


class _Terms:
    """Counts mentions of weighted terms, scanning only for terms whose trigger occurs."""

    def __init__(self, terms: list[tuple[str, float, str, tuple[str, ...]]]):
        self.terms = [(name, weight, re.compile(pattern, 0 if name in _CASE_SENSITIVE else re.IGNORECASE), triggers)
                      for name, weight, pattern, triggers in terms]

    def evidence(self, title: str, body: str, lowered: str) -> tuple[float, dict[str, float]]:
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


def _penalties(title: str, body: str, ai_fired: dict[str, float], listing: bool) -> list[str]:
    """Signals of an article that scores on both axes and is still not Hong Kong AI news."""
    text = title + "\n" + body
    found = []
    if _INDEX_MOVE.search(text) and not listing:
        found.append("not:market wrap")
    lede = title + "\n" + body[:300]
    if ai_fired and set(ai_fired) <= GENERIC_AI | INCIDENTAL_AI | INCIDENTAL_ROBOTS and _OTHER_SECTOR.search(lede):
        found.append("not:other sector")  # a jewellery chain's debut that "uses AI" for its stock
    if ai_fired and not listing:
        if set(ai_fired) <= GENERIC_AI | {"ai:term:chatbot"} and _PRODUCT_LAUNCH.search(text):
            found.append("not:product launch")  # a router "with an AI assistant"
        if set(ai_fired) <= GENERIC_AI and len(_PROPERTY.findall(text)) >= 2:
            found.append("not:property")
    return found


def score_text(title: str, body: str) -> tuple[float, list[str]]:
    """(relevance in [0, 1], the signals that fired, strongest first; penalties last)."""
    if HAN.search(title) or HAN.search(body[:2000]):
        # Chinese is matched in one form; English terms are unchanged by it.
        title, body = fold(title), fold(body)
    words = _word_count(body)
    length_factor = math.sqrt(max(1.0, words / LENGTH_UNIT))
    lowered = (title + "\n" + body).lower()
    ai_evidence, ai_fired = _AI.evidence(title, body, lowered)
    hk_evidence, hk_fired = _HK.evidence(title, body, lowered)
    market_evidence, market_fired = _MARKET.evidence(title, body, lowered)
    if _OTHER_VENUE.search(body) and not {"hk:place:Hong Kong", "hk:exchange:HKEX", "hk:money:HK$"} & set(hk_fired):
        # "The Shanghai Stock Exchange's listing committee": listing words of another market.
        hk_evidence -= hk_fired.pop("hk:exchange:listing terms", 0.0)
    exchange = any(name.startswith("hk:exchange:") for name in hk_fired)
    if exchange and "ai:term:AI" in ai_fired:
        boost = ai_fired["ai:term:AI"] * (LISTING_AI_BOOST - 1)
        ai_fired["ai:term:AI"] += boost
        ai_evidence += boost
    if not (exchange or "hk:money:HK$" in hk_fired) or not market_evidence:
        # A company's name says "Technology" and nothing else says AI: not enough outside
        # listing news on Hong Kong's exchange.
        ai_evidence -= ai_fired.pop("ai:term:technology name", 0.0)
    # "HONG KONG, Feb 6 - X shares slipped ..., giving back gains from their debut": the
    # city named in a story of a listing, with no other market named, is its exchange.
    hk_market = exchange or "hk:money:HK$" in hk_fired or "hk:money:港元" in hk_fired or (
        ("hk:place:Hong Kong" in hk_fired or "hk:place:香港" in hk_fired)
        and not _ELSEWHERE_LISTING.search(title + "\n" + body))
    if hk_market and market_evidence:
        # A listing on the Hong Kong exchange: strengthens the Hong Kong axis only.
        hk_evidence += market_evidence
    else:
        market_fired = {}
        if not hk_fired and not _ELSEWHERE_LISTING.search(title + "\n" + body):
            implied = len(_IMPLIED_LISTING.findall(body)) + TITLE_WEIGHT * len(_IMPLIED_LISTING.findall(title))
            if implied:
                market_fired["hk:implied:listing"] = IMPLIED_WEIGHT * min(implied, MAX_MENTIONS)
                hk_evidence += market_fired["hk:implied:listing"]
    relevance = _axis(ai_evidence, length_factor) * _axis(hk_evidence, length_factor)
    penalties = _penalties(title, body, ai_fired, bool(_LISTING_NEWS.search(title + "\n" + body)))
    if penalties:
        relevance *= PENALTY
    fired = {**ai_fired, **hk_fired, **market_fired}
    signals = sorted(fired, key=lambda name: (-fired[name], name)) + penalties
    return round(relevance, 4), signals


def score_relevance(article: Article, threshold: float) -> Article:
    """A copy with relevance, is_relevant (relevance >= threshold) and relevance_signals."""
    body = article.normalized_text if article.normalized_text is not None else article.text
    relevance, signals = score_text(article.title or "", body)
    return article.model_copy(update={"relevance": relevance, "is_relevant": relevance >= threshold,
                                      "relevance_signals": signals})
