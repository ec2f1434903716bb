"""Normalised article text: one canonical spelling for display, and a boilerplate-free
version of it that deduplication and the content hash look at.

The original extracted text (Article.text) is never changed: NER offsets point into it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from schemas.records import Article
from tasks.understand.chinese import fold_width

# NFC, not NFKC: NFKC also folds compatibility ideographs, circled numbers, squared
# units and the like, which changes what a Chinese or Japanese text says. Only these
# characters are unified (and, below, the full-width forms of ASCII).
_CHAR_MAP = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u00b4\u0060", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
        **dict.fromkeys("\u00a0\u2007\u202f\u2009\u200a\u2002\u2003\u2004\u2005\u2006\u2008\u205f\u3000\t\r\f\v", " "),
        **dict.fromkeys("\u200b\u200c\u200d\u2060\ufeff\u00ad", ""),
        "\u2026": "...",
    }
)


# Chinese text: Han characters, CJK punctuation (U+3000-303F: 。、「」《》【】 stay as they
# are) and full-width punctuation. A space between two of them is an artefact (a line
# break in the page's source, an ideographic space), never a word break: Chinese has
# none. Full-width letters and digits are left out, so "ＡＩ 公司" keeps its space as
# "AI 公司" does.
_CJK = ("\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe10-\ufe1f\ufe30-\ufe4f"
        "\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65")
_CJK_GAP = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _paragraph_key(paragraph: str) -> str:
    return paragraph.casefold()


def fold_chinese(paragraph: str) -> str:
    """A paragraph with no spaces between Chinese characters and full-width ASCII (U+FF01-
    FF5E: ＡＢ ０９ （）：，！？) as ASCII, so that "（股份代號：０９６８８）" and "(股份代號:09688)"
    read alike to matching, dedup and listing detection; other text is returned as it is."""
    if paragraph.isascii():
        return paragraph
    return fold_width(_CJK_GAP.sub("", paragraph))


def normalise_text(text: str) -> str:
    """NFC, unified quotes/dashes/spaces, whitespace collapsed per paragraph (and removed
    between Chinese characters), full-width ASCII folded, empty and repeated paragraphs
    dropped (first occurrence kept); paragraphs joined by "\\n"."""
    text = unicodedata.normalize("NFC", text).translate(_CHAR_MAP)
    seen: set[str] = set()
    kept: list[str] = []
    for line in text.split("\n"):
        paragraph = fold_chinese(" ".join(line.split()))
        if not paragraph:
            continue
        key = _paragraph_key(paragraph)
        if key in seen:
            continue
        seen.add(key)
        kept.append(paragraph)
    return "\n".join(kept)


# Lines that are page furniture rather than the story, matched against one whole
# normalised paragraph, case-insensitively. Each kind was seen in the seeds or real pages.
# A sentence of the story ends in punctuation; most furniture does not, so the branches
# that could also start a sentence ("By", "Updated", "Sign up") refuse a final full stop.
_BOILERPLATE_LINE = re.compile(
    r"""^(?:
        (?:share|tweet|email|e-mail|print|copy\ link|save|facebook|twitter|x|linkedin|whatsapp|
           telegram|reddit|pinterest|weibo|wechat|messenger|flipboard|comments?|[|/,·\s-])+
      | share\ (?:this|on|via)\b.{0,60}
      | (?:add|post|leave|write)\ a\ (?:public\ )?comment.{0,20}
      | (?:no|\d+)\ comments?(?:\ yet)?\.?
      | (?:sign\ in|log\ in|register)\ to\ (?:comment|reply).{0,40}
      | (?:©|\(c\)|copyright\b).{0,200}
      | .{0,120}\ball\ rights\ reserved\b.{0,80}
      | (?:by|written\ by|reporting\ by|edited\ by|compiled\ by)\ (?:[^\s.!?]+\ ?){1,8}(?<![.!?])
      | (?:published|updated|posted|last\ updated|first\ published)\b[^.!?]{0,20}\d[^!?]{0,50}(?<!\.)
      | (?:photo|image|illustration|graphic|video|source|credit|photograph|picture)s?(?:\ credit)?\s*[:/].{0,80}
      | [^.!?]{0,60}\b(?:contact|email|e-mail|write\ to)\b[^!?]{0,40}@\S+
      | [^.!?]{0,80}\d+\s?min(?:ute)?s?\ read
      | (?:follow\ us|subscribe|sign\ up|download\ our\ app|read\ more|see\ also|also\ read|
         advertisement|sponsored)[^.!?]{0,80}
      | generated\ by\ ai\ agent.{0,60}
      | aime\ robot.{0,40}
    )$""",
    re.IGNORECASE | re.VERBOSE,
)

# The same furniture on Chinese pages (after normalisation, so colons, brackets and bars
# are ASCII): editor, reporter, source and photo credits, disclaimers and copyright, share
# bars, "scan the code / follow our account" lines. Simplified and traditional spellings.
_CHINESE_FURNITURE = re.compile(
    r"""^(?:
        [【\[(]?\s*(?:责任编辑|責任編輯|编辑|編輯|校对|校對|审核|審核|记者|記者|撰文|作者|文|图|圖|
           摄影|攝影|图片|圖片|来源|來源|(?:图片|圖片|资料|資料|消息)(?:来源|來源)|原标题|原標題|出品|监制|監製)\s*[:|/]\s*[^。!?]{0,40}[】\])]?
      | (?:免责声明|免責聲明|版权声明|版權聲明|版权所有|版權所有)\s*:.{0,280}
      | [^。!?]{0,60}(?:版权所有|版權所有|不得转载|不得轉載|禁止转载|禁止轉載)[^。!?]{0,60}
      | (?:发布|發佈|發布|发表|發表|更新|出版|刊登)?(?:时间|時間|日期)\s*:[^。!?]{0,40}
      | (?:分享到|分享至|分享)\s*:?[^。!?]{0,40}
      | (?:扫码|掃碼|扫描|掃描|长按|長按|关注|關注|下载|下載|订阅|訂閱)[^。!?]{0,60}
           (?:客户端|客戶端|app|二维码|二維碼|公众号|公眾號|电子报|電子報)[^。!?]{0,30}
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
# A credit the Taiwanese agencies end their last paragraph with: "(編輯:林大同)1141230",
# the editor and the date in the Republic of China calendar.
_TRAILING_CREDIT = re.compile(r"\((?:编辑|編輯)[:/][^()]{1,30}\)\s*\d{7}$")

# A paragraph that starts the page's tail: author box, comments, related links. Everything
# from it to the end goes, but only in the last third, so a story that has a "Comments"
# subheading early on keeps its text.
_TAIL_START = re.compile(
    r"^(?:author avatar|about the (?:author|writer)s?|comments?|\d+ comments?|"
    r"(?:add|post|leave) a (?:public )?comment.*|related(?: (?:articles|stories|news|content|coverage))?|"
    r"more from\b.*|you may also like.*|recommended(?: for you)?|read next|trending|most (?:read|popular)|"
    r"(?:相关|相關|延伸|推荐|推薦|更多)(?:阅读|閱讀|新闻|新聞|文章|报道|報道|推荐|推薦)|"
    r"(?:热门|熱門)(?:文章|新闻|新聞|排行|推荐|推薦)|(?:编辑|編輯)推(?:荐|薦|介))$",
    re.IGNORECASE,
)


def _is_kicker(paragraph: str) -> bool:
    """An all-capitals section label above a headline, such as "SOURCE / GT VOICE". Not a
    Chinese paragraph: Han characters have no case, so "AI制药公司……" counts as upper case,
    and it has no spaces to count words by."""
    return (paragraph.isupper() and len(paragraph.split()) <= 6 and paragraph[-1] not in ".!?"
            and not _HAN.search(paragraph))


def is_boilerplate(paragraph: str) -> bool:
    if len(paragraph) > 300:
        return False
    if _is_kicker(paragraph) or _BOILERPLATE_LINE.match(paragraph) is not None:
        return True
    return not paragraph.isascii() and _CHINESE_FURNITURE.match(paragraph) is not None


def dedup_text(normalised: str) -> str:
    """The normalised text without page furniture (share bars, comment boxes, copyright,
    bylines, credits, author boxes): what deduplication and the content hash look at."""
    paragraphs = normalised.split("\n")
    cut = len(paragraphs)
    tail_from = len(paragraphs) - max(1, len(paragraphs) // 3)
    for index in range(max(0, tail_from), len(paragraphs)):
        if _TAIL_START.match(paragraphs[index]):
            cut = index
            break
    kept = [p for p in paragraphs[:cut] if p and not is_boilerplate(p)]
    if kept:
        kept[-1] = _TRAILING_CREDIT.sub("", kept[-1]).rstrip()
    return "\n".join(p for p in kept if p)


def _hash_form(normalised: str) -> str:
    return " ".join(dedup_text(normalised).casefold().split())


def content_hash(normalised: str) -> str:
    """Hex sha256 of the dedup text, case- and whitespace-folded (paragraph breaks too)."""
    return hashlib.sha256(_hash_form(normalised).encode("utf-8")).hexdigest()


def normalise_article(article: Article) -> Article:
    """A copy with normalized_text and content_hash set; a first paragraph that repeats
    the title is dropped so that a copy with or without it hashes the same."""
    normalised = normalise_text(article.text)
    if article.title:
        title = normalise_text(article.title).casefold()
        first, _, rest = normalised.partition("\n")
        if title and first.casefold() == title:
            normalised = rest
    return article.model_copy(update={"normalized_text": normalised, "content_hash": content_hash(normalised)})
