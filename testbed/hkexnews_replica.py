"""A loopback replica of the exchange's application lists, built from ../shared/hkexnews.md:
the twenty files `{list}_{board}_{lang}.json` under /ncms/json/eds/, served by
testbed/site.py's Site with ETag/Last-Modified and 304s.

Tests keep a model of applications, move them through their stages (file, Application
Proof, PHIP, listed with a code, lapsed, withdrawn, rejected, returned, re-filed under a
new id) and `publish()` regenerates every file, as the exchange does once a day, with a
new genDate. A file can be broken the ways files break: missing, empty, truncated, of the
wrong shape; a record can carry an unknown status or lack a field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from testbed.site import Site

PATH = "/ncms/json/eds/"
BOARDS = ("sehk", "gem")
LISTS = ("appactive_app", "appactive_appphip", "applisted", "appinactive", "appreturned")
LANGUAGES = ("e", "c")
HONG_KONG = timezone(timedelta(hours=8))

ORDINAL_EN = {1: "1st", 2: "2nd", 3: "3rd"}
ORDINAL_ZH = {1: "第一次", 2: "第二次", 3: "第三次", 4: "第四次"}
LABELS = {  # document kind -> (English nF, Chinese nF); {n} is the submission
    "proof": ("Application Proof ({n} submission)", "申請版本（{n}呈交）"),
    "phip": ("Post Hearing Information Pack ({n} submission)", "聆訊後資料集（{n}呈交）"),
    "oc": ("OC Announcement - Appointment", "整體協調人公告－委任"),
}


@dataclass
class Document:
    kind: str  # proof | phip | oc
    day: date
    number: int = 1
    serial: int = 0


@dataclass
class Application:
    hkex_id: int
    name_en: str
    name_zh: str
    board: str = "sehk"
    status: str = "A"
    stock_code: str | None = None
    documents: list[Document] = field(default_factory=list)

    @property
    def has_phip(self) -> bool:
        return any(d.kind == "phip" for d in self.documents)

    def lists(self) -> tuple[str, ...]:
        if self.status == "A":
            return ("appactive_appphip",) if self.has_phip else ("appactive_app", "appactive_appphip")
        if self.status == "LT":
            return ("applisted",)
        if self.status == "RT":
            return ("appreturned",)
        return ("appinactive",)  # LP, W, RJ, and the unknown codes tests give it


def _day_text(day: date) -> str:
    return day.strftime("%d/%m/%Y")


class Replica:
    """The exchange's lists on the loopback site. `url` is what a config's `url` takes."""

    def __init__(self, site: Site, today: date = date(2026, 2, 2)):
        self.site = site
        self.today = today
        self.apps: dict[int, Application] = {}
        self.broken: dict[str, str] = {}  # file name -> how it is broken
        self.record_faults: dict[int, dict] = {}  # hkex_id -> fields to overwrite or drop (None)
        self._serial = 100
        if "/robots.txt" not in site.routes:
            site.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")

    @property
    def url(self) -> str:
        return self.site.base + PATH

    @staticmethod
    def file_names(boards: tuple[str, ...] = BOARDS) -> list[str]:
        return [f"{name}_{board}_{lang}.json" for board in boards for name in LISTS for lang in LANGUAGES]

    def document_url(self, app: Application, document: Document) -> str:
        return self.site.base + "/app/" + self._paths(app, document)[0]

    # -- moving applications through their stages -------------------------------------------
    def _document(self, app: Application, kind: str, day: date | None, number: int | None = None) -> Document:
        self._serial += 1
        number = number or 1 + sum(1 for d in app.documents if d.kind == kind)
        document = Document(kind, day or self.today, number, self._serial)
        app.documents.append(document)
        return document

    def file(self, hkex_id: int, name_en: str, name_zh: str, board: str = "sehk", day: date | None = None,
             proof: bool = True) -> Application:
        """A new application, with its first Application Proof (or, proof=False, only an
        overall coordinator's announcement, which is not a filing on its own)."""
        app = self.apps[hkex_id] = Application(hkex_id, name_en, name_zh, board)
        self._document(app, "proof" if proof else "oc", day)
        return app

    def proof(self, hkex_id: int, day: date | None = None) -> None:
        self._document(self.apps[hkex_id], "proof", day)

    def phip(self, hkex_id: int, day: date | None = None) -> None:
        self._document(self.apps[hkex_id], "phip", day)

    def list(self, hkex_id: int, stock_code: str) -> None:
        app = self.apps[hkex_id]
        app.status, app.stock_code = "LT", stock_code

    def close(self, hkex_id: int, status: str) -> None:
        """LP lapsed, W withdrawn, RJ rejected, RT returned (or any code a test needs)."""
        self.apps[hkex_id].status = status

    def refile(self, old_id: int, new_id: int, day: date | None = None) -> Application:
        """The same company files again under a new id, with a new Application Proof."""
        old = self.apps[old_id]
        return self.file(new_id, old.name_en, old.name_zh, old.board, day)

    # -- faults -----------------------------------------------------------------------------
    def break_file(self, name: str, how: str) -> None:
        """missing (404), server_error (500), empty, truncated, wrong_shape, not_an_object."""
        self.broken[name] = how

    def fix_file(self, name: str) -> None:
        self.broken.pop(name, None)

    def fault_record(self, hkex_id: int, **fields) -> None:
        """Overwrite fields of an application's records (None drops the field)."""
        self.record_faults[hkex_id] = fields

    # -- the files ---------------------------------------------------------------------------
    def _paths(self, app: Application, document: Document) -> tuple[str, str]:
        stem = f"{app.board}/{document.day.year}/{app.hkex_id}"
        stamp = f"{document.day:%y%m%d}{document.serial:05d}"
        return f"{stem}/documents/{app.board}{stamp}.pdf", f"{stem}/{document.day:%Y%m%d}{document.serial:05d}.htm"

    def _document_entry(self, app: Application, document: Document, lang: str) -> dict:
        english, chinese = LABELS[document.kind]
        label = english.format(n=ORDINAL_EN.get(document.number, f"{document.number}th")) if lang == "e" \
            else chinese.format(n=ORDINAL_ZH.get(document.number, f"第{document.number}次"))
        pdf, index = self._paths(app, document)
        return {"d": _day_text(document.day), "nF": label, "nS1": "Full Version" if lang == "e" else "全文檔案",
                "u1": pdf, "u2": index}

    def _record(self, app: Application, lang: str) -> dict:
        documents = sorted(app.documents, key=lambda d: (d.day, d.serial))
        latest = documents[-1]
        record = {
            "id": app.hkex_id, "d": _day_text(latest.day), "a": app.name_en if lang == "e" else app.name_zh,
            "s": app.status, "ls": [self._document_entry(app, latest, lang)],
            "ps": [self._document_entry(app, d, lang) for d in reversed(documents[:-1])],
            "hasPhip": app.has_phip, "postingDate": latest.day.strftime("%b %d, %Y"),
        }
        if app.stock_code:
            record["st"] = app.stock_code
        for key, value in self.record_faults.get(app.hkex_id, {}).items():
            if value is None:
                record.pop(key, None)
            else:
                record[key] = value
        return record

    def body(self, list_name: str, board: str, lang: str) -> bytes:
        generated = datetime.combine(self.today, time(16, 0), HONG_KONG)
        apps = [a for a in sorted(self.apps.values(), key=lambda a: a.hkex_id)
                if a.board == board and list_name in a.lists()]
        document = {"genDate": str(int(generated.timestamp() * 1000)), "uDate": _day_text(self.today),
                    "app": [self._record(a, lang) for a in apps]}
        return json.dumps(document, ensure_ascii=False).encode("utf-8")

    def publish(self, today: date | None = None) -> None:
        """Regenerate every file (a new genDate: each file's ETag changes)."""
        if today is not None:
            self.today = today
        for board in BOARDS:
            for list_name in LISTS:
                for lang in LANGUAGES:
                    name = f"{list_name}_{board}_{lang}.json"
                    self._serve(name, self.body(list_name, board, lang))

    def _serve(self, name: str, body: bytes) -> None:
        path = PATH + name
        how = self.broken.get(name)
        if how == "missing":
            self.site.routes.pop(path, None)
            return
        if how == "server_error":
            self.site.add(path, b"busy", status=500, content_type="text/plain")
            return
        if how == "empty":
            body = b""
        elif how == "truncated":
            body = body[: max(len(body) // 2, 10)]
        elif how == "wrong_shape":
            body = json.dumps({"genDate": "0", "applications": []}).encode()
        elif how == "not_an_object":
            body = b"[]"
        self.site.add(path, body, content_type="application/json", conditional=True)
