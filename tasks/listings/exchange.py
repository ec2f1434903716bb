"""The exchange's records -> applications -> the stages they show.

Pure: takes the parsed list files of one poll (tasks/acquire/hkexnews.py) and the issuers
registry, returns the applications (English and Chinese records joined by the files'
`id`) and one sighting per stage each application shows:

| stage | shown by |
|---|---|
| filing | an Application Proof, or a place in `appactive_app`; implied by every later stage |
| hearing | `hasPhip`, or a Post Hearing Information Pack |
| debut | status LT in `applisted`, with its stock code |
| lapsed, withdrawn, rejected | status LP, W, RJ (in `appinactive`) |
| returned | status RT (in `appreturned`) |

Only the furthest stage an application shows is news; the earlier ones it implies are
recorded as history (stale), so an application first seen already listed alerts its
debut, not a filing and a hearing as well. Pricing is not in these files.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from schemas.exchange import (
    BOARD_NAMES, CLOSED_STATUSES, ApplicationRecord, DocumentKind, ExchangeApplication, ExchangeDocument,
    ExchangeFileResult, Issuer, Status,
)
from schemas.records import STAGE_RANK, ListingEvent, ListingStage, Origin, issuer_event_id
from tasks.listings.registry import Registry

STAGE_OF_STATUS = {
    Status.LISTED: ListingStage.DEBUT,
    Status.LAPSED: ListingStage.LAPSED,
    Status.WITHDRAWN: ListingStage.WITHDRAWN,
    Status.REJECTED: ListingStage.REJECTED,
    Status.RETURNED: ListingStage.RETURNED,
}
# Where an application stands, by list: a record in a list further along wins over one
# still in an active list (the files are regenerated together, but a poll may read some
# of them and get 304 or an error for others).
LIST_PRECEDENCE = {"appactive_app": 0, "appactive_appphip": 1, "applisted": 2, "appinactive": 2, "appreturned": 2}
LIST_STATUS = {"applisted": Status.LISTED, "appreturned": Status.RETURNED}
LIST_WORDS = {"applisted": "listed applications", "appinactive": "inactive applications",
              "appreturned": "returned applications"}
STATUS_WORDS = {Status.LAPSED: "lapsed", Status.WITHDRAWN: "withdrawn", Status.REJECTED: "rejected",
                Status.RETURNED: "returned"}


def _at(day: date | None) -> datetime | None:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc) if day else None


def join_records(results: list[ExchangeFileResult]) -> list[ExchangeApplication]:
    """One application per (board, id) across the files this poll read."""
    shown: dict[tuple[str, int], list[tuple[ApplicationRecord, ExchangeFileResult]]] = {}
    for result in results:
        for record in result.records:
            shown.setdefault((record.board, record.hkex_id), []).append((record, result))
    applications = []
    for (board, hkex_id), pairs in sorted(shown.items()):
        records = [r for r, _ in pairs]
        lead = max(records, key=lambda r: (LIST_PRECEDENCE.get(r.list_name, 0), r.updated_on or date.min))
        names = {r.language: r.name for r in sorted(records, key=lambda r: LIST_PRECEDENCE.get(r.list_name, 0))}
        documents: dict[tuple[str, str], ExchangeDocument] = {}
        for record in records:
            for document in record.documents:
                documents.setdefault((document.url, document.language), document)
        generated = [res.generated_at for _, res in pairs if res.generated_at]
        status = lead.status
        if status == Status.ACTIVE and lead.list_name in LIST_STATUS:
            # The list says more than a stale "A" would: a record in the listed (or returned)
            # list has listed (or been returned).
            status = LIST_STATUS[lead.list_name]
        applications.append(ExchangeApplication(
            hkex_id=hkex_id, board=board, name_en=names.get("e"), name_zh=names.get("c"), status=status,
            updated_on=max((r.updated_on for r in records if r.updated_on), default=None),
            stock_code=next((r.stock_code for r in records if r.stock_code), None),
            has_phip=any(r.has_phip for r in records),
            documents=sorted(documents.values(), key=lambda d: (d.doc_date or date.min, d.language != "e", d.url)),
            lists=sorted({r.list_name for r in records}),
            baseline=all(res.first_read for _, res in pairs),
            seen_on=max(generated).date() if generated else None,
        ))
    return applications


def _first(documents: list[ExchangeDocument], kind: DocumentKind) -> ExchangeDocument | None:
    found = [d for d in documents if d.kind == kind]
    return min(found, key=lambda d: (d.doc_date or date.max, d.language != "e")) if found else None


def _latest(documents: list[ExchangeDocument]) -> ExchangeDocument | None:
    english = [d for d in documents if d.language == "e"] or documents
    return max(english, key=lambda d: d.doc_date or date.min) if english else None


def _label(document: ExchangeDocument) -> str:
    day = document.doc_date.strftime("%d/%m/%Y") if document.doc_date else "undated"
    return f"{document.doc_type}" + (f" ({document.sub_type})" if document.sub_type else "") + f", {day}"


def stage_sightings(app: ExchangeApplication, issuer: Issuer, refiled_from: Issuer | None = None,
                    now: datetime | None = None) -> list[ListingEvent]:
    """The stages one application shows, the furthest as news and the others as history."""
    documents = app.documents
    proof, phip = _first(documents, DocumentKind.APPLICATION_PROOF), _first(documents, DocumentKind.PHIP)
    status = app.status
    moved_on = app.updated_on if app.baseline else (app.seen_on or (now.date() if now else None) or app.updated_on)
    board = BOARD_NAMES.get(app.board, app.board)
    shown: dict[ListingStage, tuple[date | None, ExchangeDocument | None, str]] = {}

    if status in STAGE_OF_STATUS:
        stage = STAGE_OF_STATUS[Status(status)]
        where = LIST_WORDS.get(next((name for name in app.lists if name in LIST_WORDS), ""), "records")
        if stage == ListingStage.DEBUT:
            text = f"In the exchange's {where} ({board}) with stock code {app.stock_code}"
        else:
            text = f"In the exchange's {where} ({board}), status {status} ({STATUS_WORDS[Status(status)]})"
        when = moved_on
        shown[stage] = (when, _latest(documents), text + (f", as of {when.isoformat()}" if when else ""))
    if app.has_phip or phip is not None or status == Status.LISTED:  # a listing needs a hearing passed
        shown[ListingStage.HEARING] = ((phip.doc_date if phip else None) or moved_on, phip,
                                       _label(phip) if phip else f"Post Hearing Information Pack posted ({board})")
    if proof is not None or "appactive_app" in app.lists or status in CLOSED_STATUSES or status == Status.LISTED \
            or ListingStage.HEARING in shown:
        text = _label(proof) if proof else f"Application to list on the {board}"
        if refiled_from is not None:
            text += f"; files again after application {refiled_from.hkex_id} ({refiled_from.status})"
        shown[ListingStage.FILING] = ((proof.doc_date if proof else None) or app.updated_on, proof, text)
    if status not in STAGE_OF_STATUS and status != Status.ACTIVE:
        # An unknown status code: the record is kept, but no stage is guessed from it.
        shown = {}

    furthest = max(shown, key=STAGE_RANK.__getitem__, default=None)
    return [
        ListingEvent(
            event_id=issuer_event_id(issuer.issuer_id, stage), company=issuer.name, stage=stage,
            stock_code=issuer.stock_code if stage == ListingStage.DEBUT else None,
            event_date=_at(day), evidence=text, known=app.baseline, issuer_id=issuer.issuer_id,
            origin=Origin.EXCHANGE, document_url=document.url if document else None,
            stale=stage != furthest,
        )
        for stage, (day, document, text) in sorted(shown.items(), key=lambda item: STAGE_RANK[item[0]])
    ]


def register_applications(registry: Registry, applications: list[ExchangeApplication],
                          now: datetime) -> list[ListingEvent]:
    """Every application into the registry (new issuers, changed ones, re-filings linked to
    their company), and the stages each shows."""
    sightings = []
    for app in applications:
        issuer, _ = registry.record_application(app, now)
        refiled_from = registry.issuers.get(issuer.refiled_from) if issuer.refiled_from else None
        sightings.extend(stage_sightings(app, issuer, refiled_from, now))
    return sightings
