"""The exchange's application lists (`kind: hkexnews`): twenty static JSON files, one
conditional GET each, parsed into typed records.

Each of the five lists, for each board and language, is `{list}_{board}_{lang}.json`
under the source's url (README, "Listings grounded in the exchange's record"). Parsing is
pure (bytes in, records and problems out). A file that is missing, empty, truncated or of
the wrong shape is recorded and skipped; so is a record that lacks a field, and a record
whose status code is not known gets no stage. The other files go on.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from schemas.config import HkexnewsSource
from schemas.exchange import (
    LANGUAGES, LISTS, ApplicationRecord, DocumentKind, ExchangeDocument, ExchangeFile, ExchangeFileResult,
    ExchangeFileState, Status,
)
from schemas.polls import Observation
from schemas.records import FetchOutcome, SourceCounts
from tasks.acquire.fetch import Fetcher, Request
from tasks.acquire.kinds import Discovers, SourceKind
from tasks.acquire.schedule import DailyPublication
from tasks.acquire.urls import host_of

DOCUMENT_DIRECTORY = "/app/"  # documents' paths are relative to this, on the lists' host
KNOWN_STATUSES = frozenset(s.value for s in Status)
MAX_PROBLEMS = 20  # skipped records listed per file; the rest are counted


class ListFileError(Exception):
    """A list file that cannot be used at all; the message says why in one line."""


def list_files(source: HkexnewsSource) -> list[ExchangeFile]:
    """The files a source reads, in a fixed order: board, list, language."""
    return [
        ExchangeFile(source=source.name, name=(name := f"{list_name}_{board}_{language}.json"),
                     url=urljoin(source.url, name), list_name=list_name, board=board, language=language)
        for board in source.boards for list_name in LISTS for language in LANGUAGES
    ]


def document_base(source_url: str) -> str:
    """Where documents' relative paths start: https://www1.hkexnews.hk/app/ for the real lists."""
    return urljoin(source_url, DOCUMENT_DIRECTORY)


# -- parsing -------------------------------------------------------------------------------

def parse_day(value: object) -> date | None:
    """DD/MM/YYYY, as the files write dates; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        day, month, year = (int(part) for part in value.strip().split("/"))
        return date(year, month, day)
    except ValueError:
        return None


def _generated_at(value: object) -> datetime | None:
    """genDate: epoch milliseconds, as a string."""
    try:
        return datetime.fromtimestamp(int(str(value)) / 1000, tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def document_kind(doc_type: str) -> DocumentKind:
    text = doc_type.strip()
    lowered = text.lower()
    if lowered.startswith("application proof") or "申請版本" in text or "申请版本" in text:
        return DocumentKind.APPLICATION_PROOF
    if lowered.startswith("post hearing information pack") or lowered.startswith("phip") \
            or "聆訊後資料集" in text or "聆讯后资料集" in text:
        return DocumentKind.PHIP
    return DocumentKind.OTHER


def _documents(entries: object, base: str, language: str) -> list[ExchangeDocument]:
    documents = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        path = next((entry[k] for k in ("u1", "u2") if isinstance(entry.get(k), str) and entry[k].strip()), None)
        doc_type = entry.get("nF")
        if path is None or not isinstance(doc_type, str) or not doc_type.strip():
            continue
        sub_type = " / ".join(str(entry[k]).strip() for k in ("nS1", "nS2") if entry.get(k)) or None
        documents.append(ExchangeDocument(
            url=urljoin(base, path.strip()), doc_type=doc_type.strip(), sub_type=sub_type,
            doc_date=parse_day(entry.get("d")), kind=document_kind(doc_type), language=language))
    return documents


def _record(entry: object, file: ExchangeFile, base: str) -> ApplicationRecord:
    """One element of `app`; ValueError naming what is missing or wrong."""
    if not isinstance(entry, dict):
        raise ValueError(f"not an object but {type(entry).__name__}")
    raw_id = entry.get("id")
    if isinstance(raw_id, bool) or not (isinstance(raw_id, int) or (isinstance(raw_id, str) and raw_id.isdigit())):
        raise ValueError("missing or non-numeric 'id'")
    hkex_id = int(raw_id)
    name, status = entry.get("a"), entry.get("s")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"id {hkex_id}: missing 'a' (applicant name)")
    if not isinstance(status, str) or not status.strip():
        raise ValueError(f"id {hkex_id}: missing 's' (status)")
    code = entry.get("st")
    stock_code = str(code).strip() if isinstance(code, (str, int)) and str(code).strip() else None
    if stock_code is None and (status.strip() == Status.LISTED or file.list_name == "applisted"):
        raise ValueError(f"id {hkex_id}: listed but no 'st' (stock code)")
    documents = _documents(entry.get("ls"), base, file.language) + _documents(entry.get("ps"), base, file.language)
    return ApplicationRecord(
        hkex_id=hkex_id, board=file.board, language=file.language, list_name=file.list_name, file=file.name,
        name=" ".join(name.split()), status=status.strip(), updated_on=parse_day(entry.get("d")),
        stock_code=stock_code, has_phip=entry.get("hasPhip") is True, documents=documents)


def parse_list_file(body: bytes, file: ExchangeFile, base: str) -> tuple[list[ApplicationRecord], datetime | None,
                                                                       list[str]]:
    """(records, genDate, problems) of one file; ListFileError when the file is unusable."""
    if not body.strip():
        raise ListFileError("empty file")
    try:
        document = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        if exc.start >= len(body) - 3:
            raise ListFileError("not valid JSON (truncated?): ends inside a character") from None
        raise ListFileError(f"not UTF-8: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ListFileError(f"not valid JSON (truncated?): {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("app"), list):
        shape = type(document).__name__ if not isinstance(document, dict) else f"keys {sorted(document)[:5]}"
        raise ListFileError(f"unexpected shape: no 'app' list ({shape})")
    records, problems, skipped = [], [], 0
    for n, entry in enumerate(document["app"]):
        try:
            record = _record(entry, file, base)
        except ValueError as exc:
            skipped += 1
            if len(problems) < MAX_PROBLEMS:
                problems.append(f"{file.name} record {n}: {exc}: skipped")
            continue
        if record.status not in KNOWN_STATUSES and len(problems) < MAX_PROBLEMS:
            problems.append(f"{file.name} id {record.hkex_id}: unknown status code {record.status!r}: "
                            "kept, no stage derived")
        records.append(record)
    if skipped > len([p for p in problems if p.endswith(": skipped")]):
        problems.append(f"{file.name}: {skipped} records skipped in all")
    return records, _generated_at(document.get("genDate")), problems


# -- the network side ------------------------------------------------------------------------

def poll_list_files(source: HkexnewsSource, fetcher: Fetcher,
                    states: dict[str, ExchangeFileState]) -> list[ExchangeFileResult]:
    """One conditional GET per file, all through the run's fetcher (robots, size cap,
    timeouts, politeness, WARC archive), and each body parsed."""
    files = list_files(source)
    base = document_base(source.url)
    requests = []
    for file in files:
        state = states.get(file.name)
        valid = state is not None and state.url == file.url
        requests.append(Request(url=file.url, source=source.name, trusted=True, source_host=host_of(source.url),
                                etag=state.etag if valid else None,
                                last_modified=state.last_modified if valid else None))
    results = []
    for file, response in zip(files, fetcher.fetch_many(requests)):
        state = states.get(file.name)
        first_read = state is None or state.read_at is None or state.url != file.url
        result = ExchangeFileResult(file=file, fetch=response.fetch, first_read=first_read)
        if response.not_modified:
            result.unchanged = True
        elif not response.ok:
            result.error = f"{file.name}: {response.fetch.error or 'no response'}"
        else:
            try:
                records, generated, problems = parse_list_file(response.body or b"", file, base)
            except ListFileError as exc:
                outcome = FetchOutcome.EMPTY if not (response.body or b"").strip() else FetchOutcome.MALFORMED
                response.fetch.outcome, response.fetch.error = outcome, str(exc)
                result.error = f"{file.name}: {exc}"
            else:
                result.records, result.generated_at, result.problems = records, generated, problems
                result.state = ExchangeFileState(
                    source=source.name, file=file.name, url=file.url, etag=response.headers.get("etag"),
                    last_modified=response.headers.get("last-modified"), generated_at=generated)
        results.append(result)
    return results


# -- what a poll came to -------------------------------------------------------------------

def observation(results: list[ExchangeFileResult], applications: int) -> Observation:
    """What the list files' answers say for the source's schedule: the first file's
    status (a 429 or 503 there is the exchange's), validators when every file that
    answered had them, and the applications the changed files listed as its items."""
    answered = [r.fetch for r in results if r.fetch.status_code is not None]
    read = [r.state for r in results if r.state is not None]
    return Observation(status_code=answered[0].status_code if answered else None,
                       has_validators=all(s.etag or s.last_modified for s in read),
                       items_new=applications)


def files_counts(results: list[ExchangeFileResult], applications: int) -> SourceCounts:
    """The applications the changed files listed, the files read and those unusable."""
    return SourceCounts(discovered=applications, fetched=sum(1 for r in results if r.state is not None),
                        fetch_failed=sum(1 for r in results if r.error))


def source_counts(results: list[ExchangeFileResult]) -> SourceCounts:
    """The source failed when no file could be used (some files read: it answered, in
    part), and is unchanged when every file answered 304."""
    if results and all(r.error for r in results):
        return SourceCounts(sources_failed=1)
    if all(r.unchanged for r in results):
        return SourceCounts(sources_unchanged=1)
    return SourceCounts()


def problems(results: list[ExchangeFileResult]) -> str | None:
    """Every unusable file (at most twenty), then how many records were skipped or not
    understood; each file's own list is in exchange_files.last_error. None: no problem."""
    errors = [r.error for r in results if r.error]
    skipped = [p for r in results for p in r.problems]
    parts = [f"{len(errors)} of {len(results)} files unusable: " + "; ".join(errors)] if errors else []
    if skipped:
        parts.append(f"{len(skipped)} record problems (exchange_files.last_error), e.g. {skipped[0]}")
    return "; ".join(parts) or None


# The exchange regenerates its application lists about once a day around 16:00 Hong Kong
# time; polling them more often than every few minutes gains nothing.
PUBLICATION = DailyPublication(at=time(16, 0), zone=ZoneInfo("Asia/Hong_Kong"), opens_before=timedelta(minutes=30),
                               closes_after=timedelta(minutes=90), interval_s=180.0,
                               label="the exchange's publication window")

KIND = SourceKind(name="hkexnews", config=HkexnewsSource, discovers=Discovers.APPLICATIONS, read=poll_list_files,
                  publication=PUBLICATION)
