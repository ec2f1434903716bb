"""Records of the exchange's application lists (`kind: hkexnews`) and of the issuers
registry built from them: file -> application record -> application -> issuer."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from schemas.records import Fetch, Record

BOARDS = ("sehk", "gem")  # Main Board, GEM
LANGUAGES = ("e", "c")  # English, Chinese (traditional characters)
LISTS = ("appactive_app", "appactive_appphip", "applisted", "appinactive", "appreturned")
BOARD_NAMES = {"sehk": "Main Board", "gem": "GEM"}


class Status(StrEnum):
    """The record's status code `s`, as far as it is known. Other codes are kept as data
    (`issuers.status`) but no stage is derived from them."""

    ACTIVE = "A"
    LISTED = "LT"
    WITHDRAWN = "W"
    LAPSED = "LP"
    REJECTED = "RJ"
    RETURNED = "RT"


class DocumentKind(StrEnum):
    APPLICATION_PROOF = "application_proof"  # a filing
    PHIP = "phip"  # Post Hearing Information Pack: the hearing was passed
    OTHER = "other"  # overall coordinator notices and the like: not a stage on their own


class ExchangeFile(Record):
    """One of the twenty files of a source: `{list}_{board}_{lang}.json` under its url."""

    source: str
    name: str
    url: str
    list_name: str
    board: str
    language: str


class ExchangeFileState(Record):
    """What the warehouse remembers of a file: validators for the conditional GET, and
    whether it was ever read (the first read of a file is the baseline)."""

    source: str
    file: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    generated_at: datetime | None = None
    read_at: datetime | None = None  # the last time it parsed; None: never


class ExchangeDocument(Record):
    """A document of an application, as the file lists it."""

    url: str  # u1 (the PDF) made absolute, else u2 (the multi-file index)
    doc_type: str  # nF, in the file's language: "Application Proof (1st submission)"
    sub_type: str | None = None  # nS1 / nS2: "Full Version", "Multi-Files"
    doc_date: date | None = None
    kind: DocumentKind = DocumentKind.OTHER
    language: str = "e"


class ApplicationRecord(Record):
    """One element of a file's `app` list, parsed and checked."""

    hkex_id: int
    board: str
    language: str
    list_name: str
    file: str
    name: str  # `a`, in the file's language, markers included ("Xyz Co., Ltd. - W")
    status: str  # `s`, as written
    updated_on: date | None = None  # `d`: the date of its latest document
    stock_code: str | None = None  # `st`, only once listed
    has_phip: bool = False
    documents: list[ExchangeDocument] = []


class ExchangeFileResult(Record):
    """One file in one poll: what the fetch came to and, when it parsed, its records.
    `problems` are the records that were skipped or not understood, one line each."""

    file: ExchangeFile
    fetch: Fetch
    unchanged: bool = False  # 304
    error: str | None = None  # the whole file was unusable
    generated_at: datetime | None = None  # genDate
    records: list[ApplicationRecord] = []
    problems: list[str] = []
    state: ExchangeFileState | None = None  # new validators, saved only when the file parsed
    first_read: bool = False  # never read before: its records are the baseline


class ExchangeApplication(Record):
    """One application as this poll shows it: its records in both languages joined by id."""

    hkex_id: int
    board: str
    name_en: str | None = None
    name_zh: str | None = None
    status: str
    updated_on: date | None = None  # the latest `d` of its records
    stock_code: str | None = None
    has_phip: bool = False
    documents: list[ExchangeDocument] = []
    lists: list[str] = []
    baseline: bool = False  # every file that showed it was read for the first time
    seen_on: date | None = None  # the generation date of the files that showed it


class Issuer(Record):
    """One application to list (a row of `issuers`). A company that files again after a
    lapse is a new issuer with the same `company_id` and `refiled_from` set."""

    issuer_id: str  # "<board>-<hkex_id>"
    hkex_id: int
    board: str
    name_en: str | None = None  # without HKEX's markers
    name_zh: str | None = None
    markers: list[str] = []  # W weighted voting rights, B 18A biotech, P 18C specialist technology, S secondary
    status: str
    stock_code: str | None = None
    first_filed_on: date | None = None
    closed_on: date | None = None  # when it lapsed, was withdrawn, rejected or returned
    has_phip: bool = False
    is_ai: bool = False
    ai_evidence: list[str] = []  # why is_ai: "name: robotics", "marker: P", "news: <article_id>"
    aliases: list[str] = []  # other names the news uses for it
    company_id: str  # issuer_id of the company's first application
    refiled_from: str | None = None  # the earlier application this one files again
    first_seen_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def name(self) -> str:
        """The name an alert or a listing row shows first."""
        return self.name_en or self.name_zh or f"HKEX application {self.hkex_id}"

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES


CLOSED_STATUSES = frozenset({Status.WITHDRAWN, Status.LAPSED, Status.REJECTED, Status.RETURNED})

