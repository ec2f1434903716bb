"""A listing's lifecycle: one row per issuer (application) and stage, fused from the
exchange's record and the news, and which sightings alert.

- Stage order is ListingStage's (schemas/records.py): filing, hearing, pricing, debut,
  then the outcomes lapsed, withdrawn, rejected, returned, which close an application.
- A sighting is first resolved to an issuer (tasks/listings/registry.py). Its row is the
  one of the same issuer and stage, else (unresolved) the one of the same company and stage.
- The first source to show a stage writes the row (`origin`) and, if the row is news,
  alerts. A later sighting from the other source completes the row: the exchange fills
  `confirmed_at` and `document_url`, the news fills `article_id`, a code or an amount;
  it never alerts again.
- A new row does not alert when it is known (seeds; an exchange source's first poll),
  stale (its application had reached this stage or a later one, or it is history implied
  by a later stage), or unwatched (`listings.watch`). A row stored unwatched alerts once
  if a later sighting shows the company to be watched (the news reveals an AI company).
- A news event no issuer resolves to alerts like any other when watched: with `watch:
  ai`, the article it comes from is relevant (about AI in and around Hong Kong), and that
  is the evidence; with a list, when one of its names matches. When the exchange later
  lists the company, the row is linked to the issuer (`link_unresolved`) before the
  exchange's sightings are fused, so the stage is confirmed, not alerted twice.

Pure functions of sightings and the rows stored: the flow's transaction reads those rows,
asks these functions, and has the warehouse write what they decide (flows/transactions.py,
warehouse/listings.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

from schemas.exchange import Issuer
from schemas.records import STAGE_RANK, ListingEvent, Origin, StageChange, Suppressed, issuer_event_id
from tasks.listings.registry import NameIndex, Registry


class Watch:
    """`listings.watch`: whose events alert."""

    def __init__(self, setting: str | list[str]):
        self.setting = setting
        self.names: NameIndex | None = None
        if isinstance(setting, list):
            self.names = NameIndex()
            for name in setting:
                self.names.add(name, name)

    def covers(self, names: Iterable[str], issuer: Issuer | None) -> bool:
        """Whether a company with these names (and this issuer, when resolved) is watched.
        Unresolved companies come from relevant articles, so `ai` covers them."""
        if self.setting == "all":
            return True
        if self.setting == "ai":
            return issuer.is_ai if issuer is not None else True
        assert self.names is not None
        return any(self.names.match(name) is not None for name in names if name)


def first_sightings(events: list[ListingEvent]) -> list[ListingEvent]:
    """One event per id (company and stage): the earliest by date, then stage order, then
    as given, with a stock code or an amount it lacks taken from the next that has one."""
    far_future = datetime.max.replace(tzinfo=timezone.utc)
    ordered = sorted(events, key=lambda e: (e.event_date or far_future, STAGE_RANK[e.stage]))
    kept: dict[str, ListingEvent] = {}
    for event in ordered:
        first = kept.setdefault(event.event_id, event)
        if first is not event:
            update = {}
            if first.stock_code is None and event.stock_code:
                update["stock_code"] = event.stock_code
            if first.amount is None and event.amount is not None:
                update.update(amount=event.amount, currency=event.currency)
            if update:
                kept[event.event_id] = first.model_copy(update=update)
    return list(kept.values())


# -- resolution ------------------------------------------------------------------------------

def resolve_news_events(registry: Registry, events: list[ListingEvent], watch: Watch,
                        now: datetime | None = None) -> list[ListingEvent]:
    """News sightings tied to the application they are about, where the registry knows
    it: the issuer's id and name, an id shared with the exchange's sightings of the stage,
    and the article's names kept as aliases. Each is marked watched or not."""
    resolved = []
    for event in events:
        issuer = None
        if event.exchange == "HKEX" and len(registry):
            company = registry.resolve(event.company, event.aliases)
            if company is not None:
                issuer = registry.application_for(company, event.stage, event.event_date)
        names = [event.company, *event.aliases]
        if issuer is not None:
            issuer = registry.note_news(issuer.issuer_id, names, event.article_id, now)
            event = event.model_copy(update={
                "issuer_id": issuer.issuer_id, "event_id": issuer_event_id(issuer.issuer_id, event.stage),
                "company": issuer.name, "aliases": list(dict.fromkeys(names)),
            })
            names = registry.names_of(issuer)
        resolved.append(event.model_copy(update={"watched": watch.covers(names, issuer)}))
    return resolved


def watch_exchange_events(registry: Registry, events: list[ListingEvent], watch: Watch) -> list[ListingEvent]:
    """The exchange's sightings, each marked watched or not by its issuer."""
    marked = []
    for event in events:
        issuer = registry.issuers.get(event.issuer_id or "")
        names = registry.names_of(issuer) if issuer else [event.company]
        marked.append(event.model_copy(update={"watched": watch.covers(names, issuer)}))
    return marked


def link_unresolved(registry: Registry, rows: list[ListingEvent], taken: set[tuple[str, str]],
                    now: datetime | None = None) -> list[ListingEvent]:
    """Stored rows no issuer resolved to when they were recorded that the registry now
    knows: each tied to its application, unless that application already has a row for
    the stage. `taken` is every (issuer_id, stage) stored; it is updated."""
    linked = []
    for row in rows:
        company = registry.resolve(row.company, row.aliases)
        issuer = registry.application_for(company, row.stage, row.event_date) if company else None
        if issuer is None or (issuer.issuer_id, str(row.stage)) in taken:
            continue
        taken.add((issuer.issuer_id, str(row.stage)))
        registry.note_news(issuer.issuer_id, [row.company, *row.aliases], row.article_id, now)
        linked.append(row.model_copy(update={"issuer_id": issuer.issuer_id}))
    return linked


# -- fusion ---------------------------------------------------------------------------------

def _why_silent(event: ListingEvent, stale: bool) -> Suppressed | None:
    if event.known:
        return Suppressed.KNOWN
    if stale:
        return Suppressed.STALE
    if not event.watched:
        return Suppressed.UNWATCHED
    return None


def _merge(row: ListingEvent, sighting: ListingEvent, now: datetime) -> tuple[ListingEvent, bool]:
    """A stored row completed by a later sighting of the same stage, and whether that
    sighting alerts (only a never-alerted row of a company it shows to be watched)."""
    update: dict = {}
    for field in ("issuer_id", "stock_code", "document_url", "article_id", "event_date", "evidence"):
        if getattr(row, field) is None and getattr(sighting, field) is not None:
            update[field] = getattr(sighting, field)
    if row.amount is None and sighting.amount is not None:
        update["amount"], update["currency"] = sighting.amount, sighting.currency
    if sighting.origin == Origin.EXCHANGE and row.origin == Origin.NEWS and row.confirmed_at is None:
        update["confirmed_at"] = now
    aliases = list(dict.fromkeys([*row.aliases, *sighting.aliases]))
    if aliases != row.aliases:
        update["aliases"] = aliases
    alert = (row.suppressed == Suppressed.UNWATCHED and sighting.watched and not sighting.known
             and not sighting.stale)
    if alert:
        update["suppressed"] = None
    return (row.model_copy(update=update) if update else row), alert


def fuse(events: list[ListingEvent], stored: list[ListingEvent], now: datetime) -> list[StageChange]:
    """What to write for a batch of sightings, given the rows already stored for their
    issuers and companies (warehouse/listings.stored_stages): one change per row touched."""
    rows = {r.event_id: r for r in stored}
    by_issuer_stage = {(r.issuer_id, r.stage): r.event_id for r in stored if r.issuer_id}
    # How far each application, and each company by name, has got: a stage at or before it is stale.
    reached_by_issuer: dict[str, int] = {}
    reached_by_company: dict[str, int] = {}

    def reach(row: ListingEvent) -> None:
        rank = STAGE_RANK[row.stage]
        if row.issuer_id:
            reached_by_issuer[row.issuer_id] = max(rank, reached_by_issuer.get(row.issuer_id, -1))
        company = row.company.lower()
        reached_by_company[company] = max(rank, reached_by_company.get(company, -1))

    for row in stored:
        reach(row)
    inserted: set[str] = set()
    changes: dict[str, StageChange] = {}
    # Earlier stages first, so a batch that shows a filing and a debut alerts both, in order.
    for event in sorted(events, key=lambda e: (STAGE_RANK[e.stage], e.event_date or now)):
        target = by_issuer_stage.get((event.issuer_id, event.stage)) if event.issuer_id else None
        target = target or (event.event_id if event.event_id in rows else None)
        if target is not None:
            merged, alert = _merge(rows[target], event, now)
            if merged is rows[target] and not alert:
                continue
            rows[target] = merged
            earlier = changes.get(target)
            changes[target] = StageChange(row=merged, insert=target in inserted,
                                          alert=alert or bool(earlier and earlier.alert))
            continue
        if event.issuer_id:
            reached = reached_by_issuer.get(event.issuer_id, -1)
        else:
            reached = reached_by_company.get(event.company.lower(), -1)
        stale = event.stale or (not event.known and reached >= STAGE_RANK[event.stage])
        silent = _why_silent(event, stale)
        row = event.model_copy(update={"stale": stale, "suppressed": silent, "first_seen_at": now})
        rows[row.event_id] = row
        reach(row)
        if row.issuer_id:
            by_issuer_stage[(row.issuer_id, row.stage)] = row.event_id
        inserted.add(row.event_id)
        changes[row.event_id] = StageChange(row=row, insert=True, alert=silent is None)
    return list(changes.values())
