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
import unicodedata

from tasks.understand.chinese import HAN, to_simplified

# canonical name -> (spaCy label, aliases as written in articles; Chinese ones in simplified
# characters, which is how canonical_name looks them up)
KNOWN_ORGS: dict[str, tuple[str, tuple[str, ...]]] = {
    # AI models and software
    "Zhipu AI": ("ORG", ("Zhipu", "Zhipu AI", "Knowledge Atlas", "Knowledge Atlas Technology",
                         "Knowledge Atlas Technology Joint Stock Company", "Knowledge Atlas Technology Joint Stock Co",
                         "Beijing Zhipu Huazhang", "智谱", "智谱华章", "北京智谱华章", "智谱AI")),
    "MiniMax": ("ORG", ("MiniMax", "MiniMax Group", "Shanghai MiniMax", "稀宇科技", "稀宇极智", "上海稀宇")),
    "Moonshot AI": ("ORG", ("Moonshot AI", "Moonshot", "Kimi maker Moonshot AI", "月之暗面")),
    "SenseTime": ("ORG", ("SenseTime", "SenseTime Group", "商汤", "商汤科技", "商汤集团")),
    "4Paradigm": ("ORG", ("4Paradigm", "Fourth Paradigm", "Beijing Fourth Paradigm",
                          "Beijing Fourth Paradigm Technology", "第四范式")),
    "DeepSeek": ("ORG", ("DeepSeek", "深度求索")),
    "StepFun": ("ORG", ("StepFun", "阶跃星辰")),
    "Baichuan": ("ORG", ("Baichuan", "Baichuan AI", "百川智能")),
    "Unisound": ("ORG", ("Unisound", "Unisound AI Technology", "云知声")),
    "Mobvoi": ("ORG", ("Mobvoi", "出门问问")),
    "iFlytek": ("ORG", ("iFlytek", "iFLYTEK", "科大讯飞")),
    "Megvii": ("ORG", ("Megvii", "旷视", "旷视科技")),
    "CloudWalk": ("ORG", ("CloudWalk", "云从科技", "云从")),
    "Deepexi": ("ORG", ("Deepexi", "Beijing Deepexi Technology", "Deepexi Technology", "滴普科技", "滴普")),
    "Mininglamp Technology": ("ORG", ("Mininglamp", "Mininglamp Technology", "Minglue Tech", "明略科技", "明略")),
    "Haizhi Technology": ("ORG", ("Haizhi Technology", "Haizhi", "海致科技", "海致科技集团")),
    "Manycore Tech": ("ORG", ("Manycore", "Manycore Tech", "Qunhe", "群核科技")),
    "AInnovation": ("ORG", ("AInnovation", "Innovation Qizhi", "创新奇智")),
    "Zhixing Technology": ("ORG", ("Zhixing Technology", "iMotion", "知行汽车科技", "知行科技")),
    "ADA Space": ("ORG", ("ADA Space", "Adaspace", "国星宇航", "成都国星宇航")),
    # AI chips and semiconductors
    "Biren Technology": ("ORG", ("Biren", "Biren Technology", "Shanghai Biren Technology",
                                 "Shanghai Biren Technology Co", "Shanghai Biren Intelligent Technology", "壁仞科技", "壁仞")),
    "Iluvatar CoreX": ("ORG", ("Iluvatar CoreX", "Iluvatar", "Shanghai Iluvatar CoreX",
                               "Shanghai Iluvatar CoreX Semiconductor", "Shanghai Iluvatar CoreX Semiconductor Co", "天数智芯")),
    "Moore Threads": ("ORG", ("Moore Threads", "Moore Threads Technology", "摩尔线程")),
    "MetaX": ("ORG", ("MetaX", "MetaX Integrated Circuits", "沐曦", "沐曦股份")),
    "Enflame": ("ORG", ("Enflame", "Enflame Technology", "燧原科技", "燧原")),
    "Kunlunxin": ("ORG", ("Kunlunxin", "Kunlun Chip", "Kunlunxin Technology", "昆仑芯")),
    "Cambricon": ("ORG", ("Cambricon", "Cambricon Technologies", "寒武纪")),
    "Axera": ("ORG", ("Axera", "Axera Semiconductor", "Aixin Yuanzhi", "爱芯元智")),
    "Montage Technology": ("ORG", ("Montage Technology", "澜起科技", "澜起")),
    "GigaDevice": ("ORG", ("GigaDevice", "GigaDevice Semiconductor", "兆易创新")),
    "SMIC": ("ORG", ("SMIC", "Semiconductor Manufacturing International",
                     "Semiconductor Manufacturing International Corp", "中芯国际")),
    "Hua Hong Semiconductor": ("ORG", ("Hua Hong Semiconductor", "Hua Hong", "华虹半导体", "华虹")),
    "Nvidia": ("ORG", ("Nvidia", "NVIDIA", "英伟达")),
    # Autonomous driving, lidar
    "Horizon Robotics": ("ORG", ("Horizon Robotics", "地平线机器人", "地平线机械人", "地平线")),
    "Black Sesame Technologies": ("ORG", ("Black Sesame", "Black Sesame Technologies",
                                          "Black Sesame Intelligent Technology", "Black Sesame International Holding", "黑芝麻智能", "黑芝麻")),
    "Pony AI": ("ORG", ("Pony AI", "Pony.ai", "小马智行")),
    "WeRide": ("ORG", ("WeRide", "文远知行")),
    "Minieye": ("ORG", ("Minieye", "MINIEYE", "Minieye Technology", "佑驾创新")),
    "Hesai Group": ("ORG", ("Hesai", "Hesai Group", "Hesai Technology", "禾赛", "禾赛科技")),
    "RoboSense": ("ORG", ("RoboSense", "Robosense", "RoboSense Technology", "速腾聚创")),
    "Seyond": ("ORG", ("Seyond", "图达通")),
    # Robotics
    "UBTech Robotics": ("ORG", ("UBTech", "UBTech Robotics", "UBTECH", "UBTECH Robotics", "优必选", "优必选科技")),
    "Unitree Robotics": ("ORG", ("Unitree", "Unitree Robotics", "宇树科技", "宇树")),
    "AgiBot": ("ORG", ("AgiBot", "智元机器人", "智元")),
    "Dobot": ("ORG", ("Dobot", "Dobot Robotics", "越疆", "越疆科技")),
    "Yunji Technology": ("ORG", ("Yunji", "Yunji Technology", "云迹科技", "云迹")),
    "Youibot": ("ORG", ("Youibot", "优艾智合")),
    "Megarobo": ("ORG", ("Megarobo", "镁伽科技", "镁伽")),
    "Standard Robots": ("ORG", ("Standard Robots", "斯坦德机器人", "斯坦德")),
    "Seer Robotics": ("ORG", ("Seer Robotics", "仙工智能")),
    "SwitchBot": ("ORG", ("SwitchBot", "卧安机器人")),
    "LDRobot": ("ORG", ("LDRobot", "乐动机器人")),
    "Estun": ("ORG", ("Estun", "Estun Automation", "埃斯顿")),
    "Roborock": ("ORG", ("Roborock", "石头科技")),
    "Keenon Robotics": ("ORG", ("Keenon", "Keenon Robotics", "擎朗智能")),
    "Pudu Robotics": ("ORG", ("Pudu", "Pudu Robotics", "普渡机器人", "普渡科技")),
    "CiDi": ("ORG", ("CiDi", "希迪智驾")),
    "UISEE": ("ORG", ("UISEE", "驭势科技")),
    "Momenta": ("ORG", ("Momenta",)),
    "Geek+": ("ORG", ("Geek+", "Geekplus", "Geekplus Technology", "Beijing Geekplus Technology", "极智嘉")),
    # AI drug discovery
    "XtalPi": ("ORG", ("XtalPi", "XtalPi Holdings", "QuantumPharm", "晶泰科技", "晶泰")),
    "Insilico Medicine": ("ORG", ("Insilico Medicine", "Insilico", "英矽智能")),
    # More of the AI and AI-adjacent companies filing for, or recently listed in, Hong Kong
    # (and their peers on other markets that Hong Kong stories compare them with).
    "51WORLD": ("ORG", ("51WORLD", "51World", "五一视界")),
    "Bairong": ("ORG", ("Bairong", "Bairong Inc", "百融云创", "百融云")),
    "DeepZero": ("ORG", ("DeepZero", "深演智能", "品友互动")),
    "Defeng Technology": ("ORG", ("Defeng Technology", "Defeng New Journey", "德风科技", "德风新征程")),
    "Extreme Vision": ("ORG", ("Extreme Vision", "极视角", "山东极视角")),
    "Infervision": ("ORG", ("Infervision", "推想医疗", "推想科技")),
    "Kingsware": ("ORG", ("Kingsware", "Zhuhai Kingsware", "金智维")),
    "Nobikan": ("ORG", ("Nobikan", "Nobikhan", "诺比侃")),
    "Qiniu Intelligence": ("ORG", ("Qiniu Intelligence", "Qiniu", "七牛智能", "七牛云")),
    "Shanghai Voicecomm": ("ORG", ("Voicecomm", "Shanghai Voicecomm", "声通科技")),
    "iFlytek Healthcare": ("ORG", ("iFlytek Healthcare", "iFLYTEK Medical", "Xunfei Healthcare", "讯飞医疗")),
    "Intellifusion": ("ORG", ("Intellifusion", "云天励飞")),
    "SmartMore": ("ORG", ("SmartMore", "思谋科技", "思谋")),
    "ModelBest": ("ORG", ("ModelBest", "面壁智能")),
    "01.AI": ("ORG", ("01.AI", "零一万物")),
    "ShengShu": ("ORG", ("ShengShu", "ShengShu Technology", "生数科技")),
    "DP Technology": ("ORG", ("DP Technology", "深势科技")),
    "MindRank": ("ORG", ("MindRank", "德睿智药")),
    "Canaan": ("ORG", ("Canaan", "Canaan Inc", "嘉楠科技", "嘉楠耘智", "嘉楠")),
    "ESWIN Computing": ("ORG", ("ESWIN Computing", "ESWIN", "Eswin", "奕斯伟计算", "奕斯伟")),
    "Fortior Technology": ("ORG", ("Fortior Technology", "Fortior", "峰岹科技")),
    "Lightelligence": ("ORG", ("Lightelligence", "曦智科技")),
    "OmniVision": ("ORG", ("OmniVision", "OmniVision Integrated Circuits", "Will Semiconductor", "豪威集团",
                           "豪威集成电路", "韦尔股份")),
    "SICC": ("ORG", ("SICC", "天岳先进")),
    "Solomon Systech": ("ORG", ("Solomon Systech", "晶门科技", "晶门半导体")),
    "Tianyu Semiconductor": ("ORG", ("Tianyu Semiconductor", "天域半导体")),
    "Innoscience": ("ORG", ("Innoscience", "英诺赛科")),
    "Chipone": ("ORG", ("Chipone", "集创北方")),
    "Unisoc": ("ORG", ("Unisoc", "紫光展锐")),
    "ASR Microelectronics": ("ORG", ("ASR Microelectronics", "翱捷科技")),
    "Nexchip": ("ORG", ("Nexchip", "晶合集成")),
    "Ingenic": ("ORG", ("Ingenic", "Ingenic Semiconductor", "北京君正")),
    "Longsys": ("ORG", ("Longsys", "江波龙")),
    "Hygon": ("ORG", ("Hygon", "Hygon Information Technology", "海光信息")),
    "Vastai Technologies": ("ORG", ("Vastai", "Vastai Technologies", "瀚博半导体")),
    "Denglin Technology": ("ORG", ("Denglin", "Denglin Technology", "登临科技")),
    "PATEO": ("ORG", ("PATEO", "Pateo", "博泰车联", "博泰车联网", "上海博泰")),
    "Joyson Electronics": ("ORG", ("Joyson Electronics", "Ningbo Joyson Electronic", "Joyson", "均胜电子")),
    "Ruqi Mobility": ("ORG", ("Ruqi Mobility", "Ruqi", "如祺出行")),
    "Boreton": ("ORG", ("Boreton", "博雷顿")),
    "Siwei Zhilian": ("ORG", ("Siwei Zhilian", "四维智联")),
    "Zejing Electronics": ("ORG", ("Zejing Electronics", "泽景电子")),
    "Mega Technology": ("ORG", ("镁佳科技",)),
    "Banma": ("ORG", ("Banma", "Banma Network", "斑马智行")),
    "Desay SV": ("ORG", ("Desay SV", "德赛西威")),
    "Hirain Technologies": ("ORG", ("Hirain", "Hirain Technologies", "Jingwei Hirain", "经纬恒润")),
    "Freetech": ("ORG", ("Freetech", "福瑞泰克")),
    "Zongmu Technology": ("ORG", ("Zongmu", "Zongmu Technology", "纵目科技")),
    "Edge Medical": ("ORG", ("Edge Medical", "Shenzhen Edge Medical", "精锋医疗")),
    "Rokae Robotics": ("ORG", ("Rokae", "Rokae Robotics", "珞石机器人", "珞石")),
    "Topstar": ("ORG", ("Topstar", "拓斯达")),
    "Yifei Technology": ("ORG", ("Yifei Technology", "翼菲科技", "翼菲智能")),
    "Mech-Mind": ("ORG", ("Mech-Mind", "Mech-Mind Robotics", "梅卡曼德")),
    "Galbot": ("ORG", ("Galbot", "银河通用")),
    "Fourier Robotics": ("ORG", ("Fourier Robotics", "Fourier Intelligence", "傅利叶")),
    "Leju Robotics": ("ORG", ("Leju Robotics", "乐聚机器人", "乐聚")),
    "Robotera": ("ORG", ("Robotera", "RobotEra", "星动纪元")),
    "DEEP Robotics": ("ORG", ("DEEP Robotics", "云深处科技")),
    "JAKA Robotics": ("ORG", ("JAKA", "JAKA Robotics", "节卡机器人", "节卡")),
    "Elite Robots": ("ORG", ("Elite Robots", "艾利特机器人")),
    "AUBO Robotics": ("ORG", ("AUBO", "AUBO Robotics", "遨博智能", "遨博")),
    "Hai Robotics": ("ORG", ("Hai Robotics", "海柔创新")),
    "Quicktron": ("ORG", ("Quicktron", "快仓智能")),
    "Inovance": ("ORG", ("Inovance", "Inovance Technology", "汇川技术")),
    "Ecovacs": ("ORG", ("Ecovacs", "科沃斯")),
    "Dreame": ("ORG", ("Dreame", "Dreame Technology", "追觅科技", "追觅")),
    "Narwal": ("ORG", ("Narwal", "云鲸智能")),
    "Hikrobot": ("ORG", ("Hikrobot", "海康机器人")),
    "Orbbec": ("ORG", ("Orbbec", "奥比中光")),
    # Groups that appear next to issuers as parents, investors, customers or peers
    "CATL": ("ORG", ("CATL", "Contemporary Amperex Technology", "Contemporary Amperex Technology Co",
                     "Contemporary Amperex Technology Co. Limited", "宁德时代")),
    "Alibaba": ("ORG", ("Alibaba", "Alibaba Group", "Alibaba Group Holding", "阿里巴巴", "阿里")),
    "Tencent": ("ORG", ("Tencent", "Tencent Holdings", "腾讯")),
    "Baidu": ("ORG", ("Baidu", "Baidu Group", "Baidu Inc", "BIDU", "百度", "百度集团")),
    "Xiaomi": ("ORG", ("Xiaomi", "Xiaomi Group", "小米", "小米集团")),
    "Meituan": ("ORG", ("Meituan", "美团")),
    "Alphabet": ("ORG", ("Alphabet",)),
    "Google": ("ORG", ("Google",)),
    "Toyota": ("ORG", ("Toyota",)),
    "Li Auto": ("ORG", ("Li Auto", "理想汽车", "理想")),
    "XPeng": ("ORG", ("XPeng", "Xpeng", "小鹏汽车", "小鹏")),
    "NIO": ("ORG", ("NIO", "Nio", "蔚来")),
    "Mixue": ("ORG", ("Mixue", "Mixue Group", "蜜雪冰城", "蜜雪集团")),
    "Chagee": ("ORG", ("Chagee", "霸王茶姬")),
    "OpenAI": ("ORG", ("OpenAI",)),
    "Microsoft": ("ORG", ("Microsoft",)),
    "Meta": ("ORG", ("Meta Platforms",)),
    "Apple": ("ORG", ("Apple", "Apple Inc")),
    "Amazon": ("ORG", ("Amazon",)),
    "Intel": ("ORG", ("Intel", "Intel Corp")),
    "Qualcomm": ("ORG", ("Qualcomm",)),
    "AMD": ("ORG", ("AMD", "Advanced Micro Devices")),
    "Tesla": ("ORG", ("Tesla",)),
    "Samsung": ("ORG", ("Samsung", "Samsung Electronics")),
    "TSMC": ("ORG", ("TSMC", "Taiwan Semiconductor Manufacturing")),
    "Huawei": ("ORG", ("Huawei", "华为")),
    "BYD": ("ORG", ("BYD", "比亚迪")),
    "JD.com": ("ORG", ("JD.com", "JD")),
    "NetEase": ("ORG", ("NetEase",)),
    "Yum China": ("ORG", ("Yum China",)),
    "Trip.com": ("ORG", ("Trip.com",)),
    "Bilibili": ("ORG", ("Bilibili",)),
    "Kuaishou": ("ORG", ("Kuaishou",)),
    "China Mobile": ("ORG", ("China Mobile",)),
    "China Telecom": ("ORG", ("China Telecom",)),
    "China Unicom": ("ORG", ("China Unicom",)),
    # Venues, regulators and Hong Kong institutions
    "HKEX": ("ORG", ("HKEX", "HKEx", "Hong Kong Stock Exchange", "Hong Kong stock exchange",
                     "Hong Kong Exchanges and Clearing", "Hong Kong Exchanges & Clearing",
                     "Stock Exchange of Hong Kong", "Hong Kong Exchanges", "港交所", "香港交易所", "香港联交所", "联交所", "香港联合交易所")),
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
    **dict.fromkeys(("Mininglamp Technology", "Haizhi Technology", "Manycore Tech", "AInnovation"), "ai software"),
    **dict.fromkeys(("Yunji Technology", "Youibot", "Megarobo", "Standard Robots", "Seer Robotics", "SwitchBot",
                     "LDRobot", "Estun", "Keenon Robotics", "Pudu Robotics"), "robotics"),
    **dict.fromkeys(("Zhixing Technology", "CiDi", "UISEE", "Momenta"), "autonomous driving"),
    **dict.fromkeys(("51WORLD", "Bairong", "DeepZero", "Defeng Technology", "Extreme Vision", "Infervision", "Kingsware",
                     "Nobikan", "Qiniu Intelligence", "Shanghai Voicecomm", "iFlytek Healthcare", "SmartMore", "ModelBest",
                     "01.AI", "ShengShu", "DP Technology", "ADA Space"), "ai software"),
    "MindRank": "ai drug discovery",
    **dict.fromkeys(("Intellifusion", "Canaan", "ESWIN Computing", "Lightelligence", "Hygon", "Vastai Technologies",
                     "Denglin Technology"), "ai chips"),
    **dict.fromkeys(("Fortior Technology", "OmniVision", "SICC", "Solomon Systech", "Tianyu Semiconductor", "Innoscience",
                     "Chipone", "Unisoc", "ASR Microelectronics", "Nexchip", "Ingenic", "Longsys", "GigaDevice"),
                    "semiconductors"),
    **dict.fromkeys(("PATEO", "Joyson Electronics", "Ruqi Mobility", "Boreton", "Siwei Zhilian", "Zejing Electronics",
                     "Mega Technology", "Banma", "Desay SV", "Hirain Technologies", "Freetech", "Zongmu Technology"),
                    "autonomous driving"),
    **dict.fromkeys(("Edge Medical", "Rokae Robotics", "Topstar", "Yifei Technology", "Mech-Mind", "Galbot",
                     "Fourier Robotics", "Leju Robotics", "Robotera", "DEEP Robotics", "JAKA Robotics", "Elite Robots",
                     "AUBO Robotics", "Hai Robotics", "Quicktron", "Inovance", "Ecovacs", "Dreame", "Narwal", "Hikrobot",
                     "Orbbec", "Roborock"), "robotics"),
    "Baidu": "ai software",  # Ernie, Apollo Go and Kunlunxin: an AI company by its own account
}

# Large groups already listed for years: in listing news they are a new issuer's parent,
# investor, customer or rival, so "the company" never refers back to them.
ESTABLISHED = frozenset({"Alibaba", "Tencent", "Baidu", "Xiaomi", "Meituan", "Alphabet", "Google", "Nvidia",
                         "Toyota", "SMIC", "Hua Hong Semiconductor", "CATL", "OpenAI", "Microsoft", "Meta", "Apple",
                         "Amazon", "Intel", "Qualcomm", "AMD", "Tesla", "Samsung", "TSMC", "Huawei", "BYD", "JD.com",
                         "NetEase", "Yum China", "Trip.com", "Bilibili", "Kuaishou", "China Mobile", "China Telecom",
                         "China Unicom"})
# Companies listed on another market, whose debut a Hong Kong story may recall without
# naming the market ("Moore Threads and MetaX surged more than 400 per cent"): a stage of
# theirs counts for Hong Kong only where the sentence names Hong Kong.
LISTED_ELSEWHERE = {"Moore Threads": "STAR", "MetaX": "STAR", "Cambricon": "STAR", "iFlytek": "Shenzhen",
                    "Hygon": "STAR", "Canaan": "Nasdaq", "Orbbec": "STAR", "JAKA Robotics": "STAR"}


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
    if HAN.search(cleaned):  # the table holds Chinese names in simplified characters
        simplified = to_simplified(cleaned)
        return _ALIASES.get(simplified.lower(), cleaned)
    key = _LEGAL_SUFFIX.sub("", cleaned).strip(" .,")
    if key.lower() in _ALIASES:
        return _ALIASES[key.lower()]
    return _ALIASES.get(cleaned.lower(), cleaned)


# What the Chinese press puts around a company's short name: a city before it, a legal
# form after it ("上海天数智芯半导体股份有限公司" is 天数智芯).
_ZH_PLACE = re.compile(r"^(?:北京|上海|深圳|广州|杭州|苏州|南京|武汉|成都|重庆|天津|合肥|厦门|西安|青岛|宁波|无锡|珠海|东莞|"
                       r"佛山|长沙|郑州|济南|福州|香港)(?:市)?")
_ZH_LEGAL = re.compile(r"(?:股份有限公司|有限责任公司|集团有限公司|控股有限公司|有限公司|集团|控股|股份)$")
_ZH_PLACE_INSIDE = re.compile(r"[(（](?:北京|上海|深圳|广州|杭州|苏州|南京|武汉|成都|重庆|天津|合肥|厦门|西安|青岛|宁波|"
                              r"无锡|珠海|东莞|佛山|长沙|郑州|济南|福州|中国|集团)[)）]")
_ZH_TRADE = re.compile(r"(?:人工智能科技|人工智能|半导体|科技|技术|智能|智能科技|机器人|医疗|医药)$")


def chinese_name(canonical: str) -> str | None:
    """The Chinese name the known-organisation table gives a company (the first one, in
    simplified characters), else None."""
    entry = KNOWN_ORGS.get(canonical)
    return next((alias for alias in entry[1] if HAN.search(alias)), None) if entry else None


def known_name(name: str) -> str | None:
    """The canonical name of a known organisation written this way, else None."""
    cleaned = re.sub(r"\s*-\s*[WBSPwbsp]{1,2}$", "", " ".join(name.split()).strip(" .,'\u2019\""))
    if HAN.search(cleaned):
        key = _ZH_PLACE_INSIDE.sub("", to_simplified(cleaned).lower())
        for form in (key, _ZH_LEGAL.sub("", _ZH_PLACE.sub("", key))):
            while form:
                if form in _ALIASES:
                    return _ALIASES[form]
                shorter = _ZH_TRADE.sub("", form)
                if shorter == form or len(shorter) < 2:
                    break
                form = shorter
        # "稀宇科技MiniMax", "Minimax稀宇科技": a Chinese name and a Latin one side by side.
        parts = re.fullmatch(r"([\u4e00-\u9fff]{2,})\s*([A-Za-z][A-Za-z0-9 .&\-]*)|([A-Za-z][A-Za-z0-9 .&\-]*?)\s*([\u4e00-\u9fff]{2,})",
                             cleaned)
        if parts:
            known = {known_name(part) for part in parts.groups() if part} - {None}
            return known.pop() if len(known) == 1 else None
        return None
    return _ALIASES.get(_LEGAL_SUFFIX.sub("", cleaned).strip(" .,").lower()) or _ALIASES.get(cleaned.lower())


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


# --- name keys: how two ways of writing one company's name meet ---------------------------
# (the exchange's registry, the news' listing events and Chinese entities all match names so)

_MARKER = re.compile(r"\s*-\s*([WBPS]{1,2})\s*$")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_NOT_WORD = re.compile(r"[^\w\u3400-\u9fff]+")

# Words of a legal form, dropped from the end of an English name.
LEGAL_WORDS = frozenset({
    "co", "company", "corp", "corporation", "inc", "incorporated", "limited", "ltd", "plc", "llc", "jsc",
    "joint", "stock", "holdings", "holding", "group", "cayman", "bvi", "the", "sa", "ag", "nv", "bv",
})
# Trailing words that say what a company does rather than which it is: dropped for the core.
GENERIC_WORDS = frozenset({
    "ai", "technology", "technologies", "tech", "intelligent", "intelligence", "robotics", "robot",
    "semiconductor", "semiconductors", "science", "sciences", "network", "networks", "information",
    "software", "systems", "system", "digital", "smart", "innovation", "international", "electronics",
    "electronic", "data", "labs", "lab", "computing", "automotive", "medical", "biotech", "biotechnology",
    "pharmaceutical", "pharmaceuticals", "energy", "industrial", "industries", "development",
    "autonomous", "driving", "lidar", "vision", "logistics", "catering", "property", "apparel", "dairy",
    "consumer", "healthcare", "education", "services", "solutions", "materials", "equipment",
})
# A name may start with where the company is registered: "Shanghai Biren Technology".
PLACES_EN = frozenset({
    "beijing", "shanghai", "shenzhen", "guangzhou", "hangzhou", "suzhou", "nanjing", "wuhan", "chengdu",
    "chongqing", "tianjin", "hefei", "xiamen", "xian", "qingdao", "jinan", "changsha", "zhengzhou",
    "dongguan", "foshan", "ningbo", "wuxi", "zhuhai", "shenyang", "dalian", "kunming", "fuzhou", "harbin",
    "jiangsu", "zhejiang", "guangdong", "shandong", "sichuan", "hubei", "hunan", "henan", "anhui", "fujian",
    "jiangxi", "hebei", "shanxi", "shaanxi", "liaoning", "jilin", "yunnan", "guangxi", "hainan", "hk", "macau",
})
PLACES_EN_TWO_WORDS = frozenset({("hong", "kong"), ("xi", "an")})
LEGAL_ZH = ("股份有限公司", "有限责任公司", "有限公司", "集团", "控股", "公司", "股份")
GENERIC_ZH = ("人工智能", "科技", "技术", "智能", "信息", "网络", "电子", "软件", "数据", "数字", "创新",
              "国际", "ai", "半导体", "机器人")
PLACES_ZH = ("北京", "上海", "深圳", "广州", "杭州", "苏州", "南京", "武汉", "成都", "重庆", "天津", "合肥",
             "厦门", "西安", "青岛", "济南", "长沙", "郑州", "东莞", "佛山", "宁波", "无锡", "珠海", "沈阳",
             "大连", "昆明", "福州", "香港", "江苏", "浙江", "广东", "山东", "四川", "湖北", "湖南", "河南",
             "安徽", "福建", "江西", "河北", "辽宁", "云南")
# Words that never identify a company on their own: a core of only these is not indexed,
# and a name starting with one never matches by prefix ("China" is no company's name).
NOT_DISTINCTIVE = frozenset({"china", "chinese", "hong", "global", "asia", "new", "first", "great", "golden",
                             "united", "international", "sino", "greater", "mainland"}) | GENERIC_WORDS



def strip_markers(name: str) -> tuple[str, list[str]]:
    """("Xyz Co., Ltd.", ["W", "P"]) for "Xyz Co., Ltd. - W - P" (full-width forms too)."""
    text = unicodedata.normalize("NFKC", name).strip()
    markers: list[str] = []
    while match := _MARKER.search(text):
        markers[:0] = list(match.group(1))
        text = text[: match.start()].rstrip()
    return text, list(dict.fromkeys(markers))



def is_chinese(name: str) -> bool:
    return bool(_CJK.search(name))


def _tokens(name: str) -> list[str]:
    text = strip_markers(name)[0].casefold().replace("&", " and ").replace("'", "").replace("\u2019", "")
    return [t for t in _NOT_WORD.sub(" ", text).split() if t]


def _english_key_tokens(name: str) -> list[str]:
    tokens = _tokens(name)
    while len(tokens) > 1 and tokens[-1] in LEGAL_WORDS:
        tokens.pop()
    if len(tokens) > 2 and tuple(tokens[:2]) in PLACES_EN_TWO_WORDS:
        tokens = tokens[2:]
    elif len(tokens) > 1 and tokens[0] in PLACES_EN:
        tokens = tokens[1:]
    return tokens


def _chinese_key(name: str) -> str:
    text = to_simplified(strip_markers(name)[0]).casefold()
    text = _NOT_WORD.sub("", text)
    changed = True
    while changed:
        changed = False
        for suffix in LEGAL_ZH:
            if text.endswith(suffix) and len(text) > len(suffix):
                text, changed = text[: -len(suffix)], True
    for place in PLACES_ZH:
        if text.startswith(place) and len(text) > len(place) + 1:
            text = text[len(place):]
            break
    return text


def name_key(name: str) -> str:
    """The form two ways of writing one company's name share."""
    if is_chinese(name):
        return _chinese_key(name)
    return " ".join(_english_key_tokens(name))


def name_core(name: str) -> str:
    """The key without generic trailing words: "zhipu" for "Zhipu AI", "智谱华章" for 智谱华章科技."""
    if is_chinese(name):
        core = _chinese_key(name)
        changed = True
        while changed:
            changed = False
            for suffix in GENERIC_ZH:
                if core.endswith(suffix) and len(core) > len(suffix) + 1:
                    core, changed = core[: -len(suffix)], True
        return core
    tokens = _english_key_tokens(name)
    while len(tokens) > 1 and (tokens[-1] in GENERIC_WORDS or tokens[-1] in LEGAL_WORDS):
        tokens.pop()
    return " ".join(tokens)


def is_distinctive(core: str, chinese: bool) -> bool:
    """A core made only of generic words ("ai", "智能") names no company in particular."""
    if chinese:
        return len(core) >= 2 and core not in GENERIC_ZH
    return any(token not in NOT_DISTINCTIVE for token in core.split())
