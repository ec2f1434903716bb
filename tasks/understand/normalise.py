"""Normalised article text: one canonical spelling for display, and a boilerplate-free
version of it that deduplication and the content hash look at.

The original extracted text (Article.text) is never changed: NER offsets point into it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from schemas.records import Article

# NFC, not NFKC: NFKC folds full-width CJK punctuation and compatibility ideographs,
# which changes the meaning of Chinese text. Only these characters are unified.
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


def _paragraph_key(paragraph: str) -> str:
    return paragraph.casefold()


def normalise_text(text: str) -> str:
    """NFC, unified quotes/dashes/spaces, whitespace collapsed per paragraph, empty and
    repeated paragraphs dropped (first occurrence kept); paragraphs joined by "\\n"."""
    text = unicodedata.normalize("NFC", text).translate(_CHAR_MAP)
    seen: set[str] = set()
    kept: list[str] = []
    for line in text.split("\n"):
        paragraph = " ".join(line.split())
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

# A paragraph that starts the page's tail: author box, comments, related links. Everything
# from it to the end goes, but only in the last third, so a story that has a "Comments"
# subheading early on keeps its text.
_TAIL_START = re.compile(
    r"^(?:author avatar|about the (?:author|writer)s?|comments?|\d+ comments?|"
    r"(?:add|post|leave) a (?:public )?comment.*|related(?: (?:articles|stories|news|content|coverage))?|"
    r"more from\b.*|you may also like.*|recommended(?: for you)?|read next|trending|most (?:read|popular))$",
    re.IGNORECASE,
)


def _is_kicker(paragraph: str) -> bool:
    """An all-capitals section label above a headline, such as "SOURCE / GT VOICE"."""
    return paragraph.isupper() and len(paragraph.split()) <= 6 and paragraph[-1] not in ".!?"


def is_boilerplate(paragraph: str) -> bool:
    if len(paragraph) > 300:
        return False
    return _is_kicker(paragraph) or _BOILERPLATE_LINE.match(paragraph) is not None


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
    return "\n".join(p for p in paragraphs[:cut] if p and not is_boilerplate(p))


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
