"""The tools a user would pick instead of hkai, run on the same aeb HTML, one core each.

Runs inside the benchmark's own venv (bench/.venv-peers, from bench/requirements-peers.txt)
so the peers never become project dependencies; bench/harness.py starts it as a
subprocess and reads the JSON it writes. A peer that is not installed is reported, not
faked. Stdlib, the peers and testbed/f1.py only: no project imports.

    bench/.venv-peers/bin/python -m bench.peers --out /tmp/peers.json
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Callable

from testbed.f1 import load_corpus

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "aeb"
WARM_UP_PAGES = 3  # first calls load models, compile regexes and fill caches: not timed

Extractor = Callable[[str, str], "str | None"]  # (html, url) -> main text


def lxml_floor() -> Extractor:
    """Parsing the page into a tree and nothing else: no extractor can be faster."""
    from lxml import html as lxml_html

    def parse(html: str, url: str) -> str | None:
        lxml_html.fromstring(html)
        return None  # a floor for speed; it has no text to score
    return parse


def bare_trafilatura() -> Extractor:
    """trafilatura as its README shows it, with the benchmark's own option."""
    import trafilatura

    def extract(html: str, url: str) -> str | None:
        return trafilatura.extract(html, url=url, include_comments=False)
    return extract


def newspaper4k() -> Extractor:
    import newspaper

    # Images are not downloaded: no peer gets network access, and it would be slower.
    config = newspaper.Config()
    config.fetch_images = False

    def extract(html: str, url: str) -> str | None:
        article = newspaper.Article(url, config=config)
        article.download(input_html=html)
        article.parse()
        return article.text
    return extract


def news_please() -> Extractor:
    from newsplease import NewsPlease

    def extract(html: str, url: str) -> str | None:
        return NewsPlease.from_html(html, url=url, fetch_images=False).maintext
    return extract


SYSTEMS: dict[str, tuple[str, Callable[[], Extractor]]] = {
    # name: (distribution whose version is reported, factory)
    "lxml parse (floor)": ("lxml", lxml_floor),
    "trafilatura (bare)": ("trafilatura", bare_trafilatura),
    "newspaper4k": ("newspaper4k", newspaper4k),
    "news-please": ("news-please", news_please),
}


def measure(name: str, corpus_dir: Path, repeat: int) -> dict:
    """Seconds to extract every page `repeat` times on one core, and the texts."""
    distribution, factory = SYSTEMS[name]
    try:
        extract = factory()
        version = importlib.metadata.version(distribution)
    except ImportError as exc:
        return {"error": f"not installed: {exc}"}
    pages = [(p.page_id, p.url, p.html.decode("utf-8")) for p in load_corpus(corpus_dir)]
    for _, url, html in pages[:WARM_UP_PAGES]:
        extract(html, url)
    texts: dict[str, str | None] = {}
    failures: dict[str, str] = {}
    began = time.perf_counter()
    cpu_began = time.process_time()
    for _ in range(repeat):
        for page_id, url, html in pages:
            try:
                texts[page_id] = extract(html, url)
            # A peer that raises on a page (newspaper4k without nltk on Korean text) is
            # what its user gets: the page scores as empty and the failure is reported.
            except Exception as exc:  # noqa: BLE001 - any peer error, recorded below
                texts[page_id] = None
                failures[page_id] = f"{type(exc).__name__}: {str(exc)[:200]}"
    return {
        "version": version,
        "pages": len(pages) * repeat,
        "seconds": time.perf_counter() - began,
        "cpu_seconds": time.process_time() - cpu_began,
        "texts": texts,
        "failures": failures,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--out", type=Path, required=True, help="JSON file: {system: result}")
    parser.add_argument("--repeat", type=int, default=1, help="passes over the corpus")
    parser.add_argument("--systems", nargs="*", default=list(SYSTEMS), choices=list(SYSTEMS))
    args = parser.parse_args(argv)
    # Peers warn about optional extras (nltk, ...) on import; the table is the output.
    warnings.simplefilter("ignore")
    results = {}
    for name in args.systems:
        results[name] = measure(name, args.corpus, args.repeat)
        result = results[name]
        line = result.get("error") or (f"{result['pages'] / result['seconds']:.1f} pages/s, "
                                       f"{len(result['failures'])} pages raised")
        print(f"  {name}: {line}", file=sys.stderr)
    args.out.write_text(json.dumps({"python": sys.executable, "results": results}), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
