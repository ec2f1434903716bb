"""HTML -> Article (trafilatura): main text with paragraphs on their own lines, metadata.

Pure and picklable: `extract_page` runs in worker processes.
"""

from __future__ import annotations

import re
from datetime import datetime

import trafilatura
from htmldate import find_date
from lxml import etree
from trafilatura.utils import load_html

from schemas.records import Article, Page
from tasks.acquire.urls import BadUrl, article_id, canonical_url, same_site
from tasks.timestamps import CHINESE_ZONE, parse_timestamp, written_timestamps
from tasks.understand.chinese import fold_width, is_chinese
from tasks.understand.chinese import word_count as chinese_word_count
from tasks.understand.language import declared_code, detect_language

# htmldate's output format with the offset, so a page's own timezone is kept.
DATE_PARAMS = {"extensive_search": True, "original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"}
_BLANK_LINES = re.compile(r"\n\s*\n+")
_HTML_LANG = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)*)", re.I)
# Measured on ../shared/corpus/aeb with testbed/f1.py (2026-11-23): handing trafilatura the
# HTML string rather than our own lxml tree (it then cleans the markup its own way) lifted
# F1 from 0.902 to 0.960; favor_precision, 0.962 -> 0.966; dropping the headline that
# opens the text (it is stored as `title`), +0.002.
EXTRACT_PARAMS = {"with_metadata": True, "include_comments": False, "include_tables": True,
                  "favor_precision": True}


def page_canonical(page: Page) -> str:
    """The page's own rel=canonical when it is on the same site, else the fetched URL."""
    base = page.final_url or page.url
    fallback = canonical_url(base)
    match = re.search(r"<link\b[^>]*\brel\s*=\s*[\"']?canonical\b[^>]*>", page.html[:200_000], re.I)
    if not match:
        return fallback
    href = re.search(r"\bhref\s*=\s*[\"']([^\"']+)[\"']", match.group(0), re.I)
    if not href:
        return fallback
    try:
        declared = canonical_url(href.group(1), base=base)
    except BadUrl:
        return fallback
    return declared if same_site(declared, base) else fallback


def _without_headline(text: str, title: str | None) -> str:
    """The text minus a first line that repeats the title (trafilatura keeps the <h1>)."""
    if not title:
        return text
    first, _, rest = text.partition("\n")
    same = " ".join(first.split()).casefold() == " ".join(title.split()).casefold()
    return rest if same and rest.strip() else text


def extract_page(page: Page, identify_language: bool = True) -> Article | None:
    """The article in a page, or None when trafilatura finds no main text. Without
    `identify_language`, `language` is what the page declares, for
    `language.identify_languages` to settle later (tasks/per_article.py)."""
    try:
        document = trafilatura.bare_extraction(page.html, url=page.final_url or page.url,
                                               date_extraction_params=DATE_PARAMS, **EXTRACT_PARAMS)
    except (ValueError, TypeError, etree.LxmlError):
        return None  # markup lxml cannot parse at all
    if document is None or not (document.text or "").strip():
        return None
    text = _without_headline(_BLANK_LINES.sub("\n", document.text.strip()), document.title)
    found_date = _found_date(document.date, page.html)
    title, published_at, words = document.title or None, parse_timestamp(found_date), len(text.split())
    if is_chinese(text):
        title, published_at = chinese_title_and_date(page.html, text, title, found_date)
        words = chinese_word_count(text)
    canonical = page_canonical(page)
    declared = _HTML_LANG.search(page.html[:5000])
    return Article(
        article_id=article_id(canonical),
        url=page.url,
        canonical_url=canonical,
        source=page.source,
        title=title,
        author=document.author or None,
        published_at=published_at,
        fetched_at=page.fetched_at,
        language=_language(text, declared.group(1) if declared else document.language, identify_language),
        site_name=document.sitename or None,
        text=text,
        word_count=words,
    )


def _found_date(found: str | None, html: str) -> str | None:
    """The page's date as trafilatura found it, unless it is htmldate's guess from a bare
    year in the text ("© 2023", "in 2021" -> January 1): then only a date in the page's
    markup counts. On bench/realnews's dateless pages 157 of 352 got such a January 1;
    none of the dated pages of ../shared/corpus/pages-meta loses its date."""
    if found and found[5:19] == "01-01T00:00:00":
        found = find_date(html, extensive_search=False, original_date=True, outputformat=DATE_PARAMS["outputformat"])
    return found


def _language(text: str, declared: str | None, identify: bool) -> str | None:
    return detect_language(text, declared) if identify else declared_code(declared)


# -- Chinese pages --------------------------------------------------------------------
# What trafilatura and htmldate get wrong on them, measured on the golden pages in
# tests/data/chinese_pages: a portal's <title> that starts with the site's and section's
# names ("港財網 - 即時新聞 - <headline>") gives the site's name as the title; a date in
# the URL wins over the page's own date and drops its time; a date printed as
# "2025年12月30日" is read as 1 January; times carry no offset.

# Where a <title> may be cut into site, section and headline.
_TITLE_SEPARATOR = re.compile(r"\s+[-–—|·:]\s+|\s*[_｜|–—-]\s*")
_OFFSET = re.compile(r"T[\d:]+(?:Z|[+-]\d{2}:?\d{2})$")
# How many text nodes above the article's first line its date line may be.
DATE_LINE_REACH = 20


def chinese_title_and_date(html: str, text: str, title: str | None,
                           found_date: str | None) -> tuple[str | None, datetime | None]:
    """The title and publication time of a Chinese page: the headline the page prints when
    trafilatura fell back to a <title> that names the site first; the date (and time)
    printed above the article when htmldate's lacks the time or is its 1 January guess;
    times without an offset in UTC+8."""
    found = parse_timestamp(found_date, naive_zone=CHINESE_ZONE)
    try:
        tree = load_html(html)
    except (ValueError, etree.LxmlError):
        return title, found
    if tree is None:
        return title, found
    return _printed_headline(tree, title), _better_date(found, found_date, _date_line(tree, text))


def _element_texts(tree) -> set[str]:
    body = tree.find(".//body")
    if body is None:
        return set()
    texts = set()
    for element in body.iter():
        if isinstance(element.tag, str) and element.tag not in ("script", "style"):
            content = " ".join(element.text_content().split())
            if 4 <= len(content) <= 200:
                texts.add(content)
    return texts


def _printed_headline(tree, title: str | None) -> str | None:
    head = tree.find(".//head/title")
    full = " ".join(head.text_content().split()) if head is not None else ""
    if not title or not full:
        return title
    cuts = list(_TITLE_SEPARATOR.finditer(full))
    parts = {full[:m.start()] for m in cuts} | {full[m.end():] for m in cuts} | set(_TITLE_SEPARATOR.split(full))
    if title != full and title not in parts:
        return title  # from the page's own headline or metadata, not the <title> tag
    printed = _element_texts(tree)
    if title in printed:
        return title
    shown = [part.strip() for part in parts if part.strip() in printed]
    return max(shown, key=len) if shown else title


# A first line of the text this short may be the date line itself (trafilatura keeps a
# "發佈時間：..." paragraph); a longer one is the story, whose own dates are not its date.
DATE_LINE_CHARS = 40


def _date_line(tree, text: str) -> datetime | None:
    """The first date printed in the nearest text above the article's first line, or in
    that line when it is a short date line."""
    probe = "".join(text.split("\n", 1)[0].split())[:8]
    if len(probe) < 4:
        return None
    above = []
    for node in tree.xpath("//body//text()[not(ancestor::script) and not(ancestor::style)]"):
        if probe in "".join(node.split()):
            anchor = node
            break
        above.append(node)
    else:
        return None  # the article's first line is not in the page as one text: no anchor
    lines = list(reversed(above[-DATE_LINE_REACH:]))
    if len(anchor.strip()) <= DATE_LINE_CHARS:
        lines.append(anchor)
    for node in lines:
        for when in written_timestamps(fold_width(" ".join(node.split()))):
            return when
    return None


def _better_date(found: datetime | None, found_date: str | None, printed: datetime | None) -> datetime | None:
    if printed is None or found is None:
        return found or printed
    if found.time() != datetime.min.time() or _OFFSET.search(found_date or ""):
        return found  # metadata with a time (htmldate reads it with its offset)
    if found.date() == printed.date():
        return printed  # the same day, with the time the page prints
    if (found.month, found.day) == (1, 1) and found.year == printed.year:
        return printed  # htmldate read only the year of "2025年12月30日"
    return found
