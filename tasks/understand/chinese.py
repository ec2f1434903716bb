"""Chinese text: its script, one form for matching (simplified, through OpenCC), and its
words (jieba, whose dictionary ships in its package: nothing is downloaded).

Traditional and simplified writings of one word must meet, in search, dedup and names, so
every comparison is made on the simplified form, while what is stored and shown stays as
written. OpenCC's character tables map one character to one character, so offsets found
in the simplified form are offsets in the original too.

jieba's word table (500,000 words and their prefixes) takes a process 0.55 s to load. A
process that only cuts text into words (`hkai search` cutting a query and its hits'
snippets) reads instead the parts of that table its text can meet, from a copy on disk
(the word store, below), and cuts with jieba's own code: the same words, in
milliseconds. The first process that loads the whole table writes the copy.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import marshal
import os
import re
import sys
import threading
import uuid
import warnings
from collections.abc import Iterable
from pathlib import Path

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
# A run of Latin letters or digits, a number's separators included ("3,030", "30.3").
_OTHER_WORD = re.compile(r"[^\W\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+(?:[.,]\d+)*")
# A token worth indexing or comparing: Han characters, Latin letters or digits.
_WORDLIKE = re.compile(r"[\w\u3400-\u4dbf\u4e00-\u9fff]", re.UNICODE)
# Below this many Han characters whose form differs between the scripts, a text has no
# script worth recording (a name or two in an English text).
MIN_SCRIPT_EVIDENCE = 3

_lock = threading.Lock()


def han_count(text: str) -> int:
    return len(HAN.findall(text))


def word_count(text: str) -> int:
    """Words of a Chinese text as Chinese publishing counts them (字數): each Han
    character, plus each run of Latin letters or digits."""
    return han_count(text) + len(_OTHER_WORD.findall(text))


def is_chinese(text: str) -> bool:
    """Mostly Chinese: more Han characters than Latin words, and not Japanese (whose
    sentences all have kana: a Chinese text has at most a name in katakana)."""
    han = han_count(text)
    return han > 0 and han >= len(re.findall(r"[A-Za-z]+", text)) and 10 * len(_KANA.findall(text)) < han


@functools.cache
def _converter(config: str):
    import opencc

    return opencc.OpenCC(config)


def to_simplified(text: str) -> str:
    """The text in simplified characters (character for character: offsets are kept)."""
    if not HAN.search(text):
        return text
    converted = _converter("t2s").convert(text)
    # OpenCC's phrase tables can change a phrase's length; keep offsets stable then by
    # converting character by character.
    if len(converted) != len(text):
        converted = "".join(_converter("t2s").convert(c) if HAN.match(c) else c for c in text)
    return converted


# Full-width ASCII forms to ASCII and the ideographic space to a space, one character for one.
_FULL_WIDTH = str.maketrans({chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)} | {"\u3000": " "})


def fold(text: str) -> str:
    """The form Chinese text is matched in: simplified characters, ASCII for full-width
    letters, digits and punctuation; offsets are those of the text as written."""
    return to_simplified(text).translate(_FULL_WIDTH)


def fold_width(text: str) -> str:
    """The text with full-width letters, digits and punctuation as ASCII (its script kept)."""
    return text.translate(_FULL_WIDTH)


def to_traditional(text: str) -> str:
    return _converter("s2t").convert(text) if HAN.search(text) else text


def script_of(text: str) -> str | None:
    """"Hant" or "Hans" for a Chinese text, by which characters only one script has; None
    when the text has too few such characters to tell."""
    sample = "".join(HAN.findall(text[:20000]))
    if not sample:
        return None
    traditional_only = sum(a != b for a, b in zip(sample, _converter("t2s").convert(sample)))
    simplified_only = sum(a != b for a, b in zip(sample, _converter("s2t").convert(sample)))
    if max(traditional_only, simplified_only) < MIN_SCRIPT_EVIDENCE:
        return None
    return "Hant" if traditional_only > simplified_only else "Hans"


@functools.cache
def _import_jieba():
    """jieba, imported without pkg_resources: jieba reads its files through it when it is
    importable (70 ms to import, and a deprecation warning), and with `open` otherwise."""
    absent = "pkg_resources" not in sys.modules
    if absent:
        sys.modules["pkg_resources"] = None  # Python's "not importable"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import jieba
    finally:
        if absent:
            del sys.modules["pkg_resources"]
    jieba.setLogLevel(60)  # its dictionary-loading messages are not the user's business
    return jieba


def _dictionary_words() -> list[tuple[str, str]]:
    from tasks.understand.chinese_entities import dictionary_words

    return dictionary_words()


def _new_tokenizer(dictionary_words: list[tuple[str, str]]):
    """jieba's tokenizer with its whole dictionary loaded, and `dictionary_words` added."""
    tokenizer = _import_jieba().Tokenizer()
    tokenizer.initialize()
    for word, tag in dictionary_words:
        tokenizer.add_word(word, freq=max(tokenizer.suggest_freq(word, tune=False), 1000), tag=tag)
    return tokenizer


@functools.cache
def _tokenizer():
    """The process's segmenter with jieba's whole word table: the one `add_words` teaches
    and the part-of-speech tagger uses."""
    # Known organisations, places and trade terms are words from the start, so a text
    # segments the same in every process whether or not entities ran in it before.
    dictionary_words = _dictionary_words()
    tokenizer = _new_tokenizer(dictionary_words)
    # A copy of the table as every process starts with it (before any name is taught),
    # for the processes that only cut text: written once per dictionary.
    if _find_store(_store_name(dictionary_words)) is None:
        write_word_store(tokenizer, dictionary_words)
    return tokenizer


# -- the word store -----------------------------------------------------------------------
#
# jieba cuts a text by looking up its substrings in its word table (FREQ: every word with
# its frequency, every prefix of a word with 0) and the table's total: `get_DAG` asks for
# text[k], then text[k:k+2], text[k:k+3], ... while they are words or prefixes; `calc` and
# the HMM ask for substrings it found. Every key it asks for begins with one character of
# the text (a key of one character) or one pair of neighbouring characters (a longer key).
# The store holds the table in blocks keyed so: a one-character key alone, a longer key in
# the block of its first two characters. A text's blocks are its characters and its pairs;
# with them loaded, every lookup jieba makes for that text answers as the whole table
# would, so the words are jieba's own. A query reads a few dozen blocks (0.1 ms), a hit's
# snippet about 600 per 1,000 characters of Chinese (3 ms, twice what cutting them takes);
# a long-running process keeps what it read.
#
# The store is an SQLite file (Python's own sqlite3) in the virtual environment (or the
# user's cache folder when that cannot be written), named by a fingerprint of everything
# the table depends on: jieba's version and dictionary file, the dictionary words, this
# module's code (how they are added) and Python's version (the blocks are `marshal`ed).
# A process whose fingerprint has no store loads the whole table and writes one.

STORE_PREFIX = "jieba-words-"
# Blocks read per SQL statement (SQLite's limit on bound values is 32,766; older builds 999).
_BLOCKS_PER_READ = 900
# Stores of other fingerprints kept beside a new one (the newest: two checkouts sharing a
# cache folder keep theirs); older ones are removed.
_OTHER_STORES_KEPT = 2


def _store_dirs() -> list[Path]:
    """Where stores are kept, in order of preference: the virtual environment (beside
    jieba), then the user's cache folder."""
    cache_home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return [Path(sys.prefix) / "var" / "cache" / "hkai", Path(cache_home) / "hkai"]


def _store_name(dictionary_words: list[tuple[str, str]]) -> str:
    jieba = _import_jieba()
    dictionary = Path(jieba.__file__).with_name("dict.txt").stat()
    digest = hashlib.sha256(repr((
        sys.version_info[:2], jieba.__version__, dictionary.st_size, dictionary.st_mtime_ns, dictionary_words,
    )).encode("utf-8"))
    digest.update(Path(__file__).read_bytes())
    return f"{STORE_PREFIX}{digest.hexdigest()[:24]}.sqlite"


def _find_store(name: str) -> Path | None:
    return next((folder / name for folder in _store_dirs() if (folder / name).is_file()), None)


def _block_key(key: str) -> str:
    return key[:2]


def write_word_store(tokenizer, dictionary_words: list[tuple[str, str]], folder: Path | None = None) -> Path | None:
    """Write the tokenizer's word table as a store (in `folder`, else the first of
    `_store_dirs()` that can be written); its path, or None when no folder can be written.
    The tokenizer must have been taught nothing beyond `dictionary_words`."""
    import sqlite3

    blocks: dict[str, dict[str, int]] = {}
    for key, freq in tokenizer.FREQ.items():
        blocks.setdefault(_block_key(key), {})[key] = freq
    name = _store_name(dictionary_words)
    for directory in [folder] if folder is not None else _store_dirs():
        tmp = directory / f".{name}.{uuid.uuid4().hex}"
        try:
            directory.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(tmp)
            try:
                con.execute("CREATE TABLE meta (total INTEGER, name TEXT)")
                con.execute("INSERT INTO meta VALUES (?, ?)", (tokenizer.total, name))
                con.execute("CREATE TABLE blocks (prefix TEXT PRIMARY KEY, words BLOB) WITHOUT ROWID")
                con.executemany("INSERT INTO blocks VALUES (?, ?)",
                                ((prefix, marshal.dumps(words)) for prefix, words in blocks.items()))
                con.commit()
            finally:
                con.close()
            os.replace(tmp, directory / name)  # readers see no store or a whole one
        except (OSError, sqlite3.Error):
            tmp.unlink(missing_ok=True)
            continue
        _remove_old_stores(directory, name)
        return directory / name
    return None


def _remove_old_stores(directory: Path, kept: str) -> None:
    others = []
    for path in directory.glob(f"{STORE_PREFIX}*.sqlite"):
        with contextlib.suppress(OSError):
            if path.name != kept:
                others.append((path.stat().st_mtime, path))
    for _, path in sorted(others, reverse=True)[_OTHER_STORES_KEPT:]:
        with contextlib.suppress(OSError):
            path.unlink()


def prepare_word_store() -> Path | None:
    """The store of this process's dictionary, written now if there is none (`make setup`
    runs this, so that the first search after an installation reads it)."""
    dictionary_words = _dictionary_words()
    found = _find_store(_store_name(dictionary_words))
    return found or write_word_store(_new_tokenizer(dictionary_words), dictionary_words)


class StoredTokenizer:
    """jieba's segmenter on a word store: each text's blocks are read before it is cut
    (see above), so it cuts as a process with the whole table loaded and nothing taught."""

    def __init__(self, path: Path):
        import sqlite3  # here: an English query's process never needs it

        self._con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True,
                                    check_same_thread=False)
        total, self.name = self._con.execute("SELECT total, name FROM meta").fetchone()
        self._tokenizer = _import_jieba().Tokenizer()
        self._tokenizer.FREQ, self._tokenizer.total, self._tokenizer.initialized = {}, total, True
        self._loaded: set[str] = set()
        self._lock = threading.Lock()

    def _load(self, text: str) -> None:
        wanted = {text[i:i + 2] for i in range(len(text))}
        wanted.update(text)
        with self._lock:  # a block is marked loaded only once it is in the table
            wanted -= self._loaded
            if not wanted:
                return
            keys = list(wanted)
            for i in range(0, len(keys), _BLOCKS_PER_READ):
                part = keys[i:i + _BLOCKS_PER_READ]
                for (words,) in self._con.execute(
                        f"SELECT words FROM blocks WHERE prefix IN ({', '.join('?' * len(part))})", part):
                    self._tokenizer.FREQ.update(marshal.loads(words))
            self._loaded.update(keys)

    def cut(self, text: str, HMM: bool = True):  # noqa: N803 (jieba's name)
        self._load(text)
        return self._tokenizer.cut(text, HMM=HMM)


@functools.cache
def _stored_tokenizer() -> StoredTokenizer | None:
    """The store of this process's dictionary, or None when there is none (or it cannot
    be read)."""
    name = _store_name(_dictionary_words())
    path = _find_store(name)
    if path is None:
        return None
    import sqlite3

    try:
        stored = StoredTokenizer(path)
    except (sqlite3.Error, TypeError):
        return None
    return stored if stored.name == name else None


def _cutter():
    """What cuts text into words in this process: its whole tokenizer once it has one
    (which `add_words` may have taught names), else the word store, else a whole tokenizer
    loaded now (which writes the store for the next process)."""
    if _tokenizer.cache_info().currsize:
        return _tokenizer()
    return _stored_tokenizer() or _tokenizer()


def add_words(words: Iterable[str], tag: str | None = None) -> None:
    """Teach the segmenter names it should keep whole (companies' Chinese names), in
    either script; `tag` is their part of speech for `tagged_spans` ("nt" an
    organisation, "ns" a place)."""
    tokenizer = _tokenizer()
    with _lock:
        for word in words:
            word = to_simplified(word.strip())
            if len(word) >= 2 and HAN.search(word):
                tokenizer.add_word(word, freq=max(tokenizer.suggest_freq(word, tune=False), 1000), tag=tag)


def is_dictionary_word(word: str) -> bool:
    """The segmenter's dictionary has the word (simplified) as a word of its own."""
    return bool(_tokenizer().FREQ.get(word))


@functools.cache
def _tagger():
    tokenizer = _tokenizer()  # imports jieba first, without pkg_resources
    import jieba.posseg

    return jieba.posseg.POSTokenizer(tokenizer)


def tagged_spans(text: str) -> list[tuple[str, str, int, int]]:
    """(word in simplified form, jieba part-of-speech tag, start, end) of every token of
    the text, spaces and punctuation included, offsets into the text as written. Tags
    that name things: nr a person, ns a place, nt an organisation, nz another proper noun."""
    spans = []
    position = 0
    with _lock:  # the tagger merges words added since its last call into its tables
        tokens = list(_tagger().cut(to_simplified(text)))
    for token in tokens:
        start, position = position, position + len(token.word)
        spans.append((token.word, token.flag, start, position))
    return spans


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """(word in simplified form, start, end) of every word of the text, offsets into the
    text as written; punctuation and spaces are not words."""
    simplified = to_simplified(text)
    spans = []
    position = 0
    for token in _cutter().cut(simplified):
        start, position = position, position + len(token)
        if _WORDLIKE.search(token):
            spans.append((token.strip().lower(), start, position))
    return [s for s in spans if s[0]]


def words(text: str) -> list[str]:
    """The words of a Chinese (or mixed) text, simplified and lower-cased, for indexing and
    matching: "優必選通過聆訊" and "优必选通过聆讯" give the same words."""
    return [word for word, _, _ in word_spans(text)]
