"""The seed documents: seeds/*.txt as Seed records (title, normalised body, content hash)."""

from __future__ import annotations

from pathlib import Path

from schemas.records import Seed
from tasks.understand.normalise import content_hash, is_boilerplate, normalise_text

TITLE_MAX_WORDS = 25
TITLE_FALLBACK_CHARS = 120


def _looks_like_headline(paragraph: str) -> bool:
    words = paragraph.split()
    return 3 <= len(words) <= TITLE_MAX_WORDS and paragraph[-1] not in ".!?\"'" and not paragraph.isupper()


def _first_sentence(paragraph: str) -> str:
    for end in (". ", "? ", "! "):
        cut = paragraph.find(end)
        if 0 < cut < TITLE_FALLBACK_CHARS:
            return paragraph[: cut + 1]
    if len(paragraph) <= TITLE_FALLBACK_CHARS:
        return paragraph
    return paragraph[:TITLE_FALLBACK_CHARS].rsplit(" ", 1)[0] + "..."


def split_title(text: str) -> tuple[str, str]:
    """(title, body) of a seed file: a headline line at the top (after any kicker such as
    "SOURCE / GT VOICE") is the title and leaves the body; otherwise the title is the
    first sentence and the body is the whole text."""
    paragraphs = normalise_text(text).split("\n")
    for index, paragraph in enumerate(paragraphs[:3]):
        if is_boilerplate(paragraph):
            continue
        if _looks_like_headline(paragraph):
            return paragraph, "\n".join(paragraphs[index + 1 :])
        break
    body = "\n".join(paragraphs)
    return _first_sentence(paragraphs[0]) if paragraphs[0] else "", body


def load_seeds(seed_dir: Path) -> list[Seed]:
    """One Seed per seeds/*.txt, in file-name order; seed_id is the file stem."""
    seeds = []
    for path in sorted(Path(seed_dir).glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        title, body = split_title(text)
        seeds.append(Seed(seed_id=path.stem, title=title, text=text, normalized_text=body,
                          content_hash=content_hash(body)))
    return seeds


def changed_seeds(seeds: list[Seed], stored: dict[str, str]) -> list[Seed]:
    """The seeds whose file is new or changed since it was stored (`stored`: seed_id ->
    content_hash)."""
    return [s for s in seeds if stored.get(s.seed_id) != s.content_hash]
