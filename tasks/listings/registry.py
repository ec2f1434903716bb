"""Issuers and their names: which application a company named in the news or in the
exchange's files is, in English or Chinese, with or without its legal form.

A name is compared by its key: HKEX's markers (`- W`, `- P`, ...), legal forms (`Co.,
Ltd.`, `Joint Stock Company Limited`, `股份有限公司`), a leading city or province
(`Shanghai`, `北京`) and punctuation removed, Chinese in simplified characters (OpenCC),
lower case. Its core also drops generic trailing words (`Technology`, `AI`, `科技`), so
"Zhipu AI" and "Zhipu" meet, and "智譜" meets "北京智譜華章科技股份有限公司" as the start
of its core. Fuzzy matching (rapidfuzz) takes only a near-identical core with no close
second. A name that could be two companies resolves to neither: a wrong link would hide
an alert as a duplicate, a missing one at worst repeats it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta

from rapidfuzz import fuzz, process

from schemas.exchange import DocumentKind, ExchangeApplication, Issuer, Status
from schemas.records import Article, ListingStage
from tasks.understand.chinese import to_simplified
from tasks.names import NOT_DISTINCTIVE, is_chinese, is_distinctive, name_core, name_key, strip_markers

MIN_PREFIX_CHARS = 4  # "Biren" for "Biren Technology"; shorter prefixes are too common
MIN_PREFIX_CHARS_ZH = 2  # "智谱" for "智谱华章科技"
# Two cores this similar (rapidfuzz ratio, 0-100) are one name misspelt ("Knowledge Atlass");
# tests/test_registry.py pins the pairs that must and must not meet.
FUZZY_SCORE = 90
FUZZY_MARGIN = 4  # the best must beat any other company by this much

def _known_canonical(name: str) -> str | None:
    """The canonical name the news detection uses for a known organisation, if any."""
    from tasks.names import canonical_name

    canonical = canonical_name(strip_markers(name)[0])
    return canonical if canonical != strip_markers(name)[0] else None


class NameIndex:
    """Names -> the ids they stand for (companies, or the names of a watch list), matched
    by key, core, a distinctive prefix of the core, then a near-identical core."""

    def __init__(self):
        self._exact: dict[str, set[str]] = {}  # key or core -> ids
        self._cores: dict[str, dict[str, set[str]]] = {"en": {}, "zh": {}}  # language -> core -> ids

    def add(self, name: str | None, ident: str) -> None:
        if not name or not name.strip():
            return
        names = [name]
        canonical = _known_canonical(name)
        if canonical:
            names.append(canonical)
        for text in names:
            key, core, chinese = name_key(text), name_core(text), is_chinese(text)
            if key:
                self._exact.setdefault(key, set()).add(ident)
            if core and is_distinctive(core, chinese):
                self._exact.setdefault(core, set()).add(ident)
                self._cores["zh" if chinese else "en"].setdefault(core, set()).add(ident)

    def copy(self) -> "NameIndex":
        twin = NameIndex()
        twin._exact = {key: set(ids) for key, ids in self._exact.items()}
        twin._cores = {language: {core: set(ids) for core, ids in cores.items()}
                       for language, cores in self._cores.items()}
        return twin

    def match(self, name: str) -> str | None:
        """The one id the name stands for; None when none or several."""
        found = self.candidates(name)
        return next(iter(found)) if len(found) == 1 else None

    def candidates(self, name: str) -> set[str]:
        if not name or not name.strip():
            return set()
        forms = [name]
        canonical = _known_canonical(name)
        if canonical:
            forms.append(canonical)
        for text in forms:
            key, core = name_key(text), name_core(text)
            if key in self._exact:
                return set(self._exact[key])
            if is_distinctive(core, is_chinese(text)) and core in self._exact:
                return set(self._exact[core])
        for text in forms:
            found = self._by_prefix(text) or self._by_similarity(text)
            if found:
                return found
        return set()

    def _by_prefix(self, name: str) -> set[str]:
        core = name_core(name)
        if is_chinese(name):
            if len(core) < MIN_PREFIX_CHARS_ZH:
                return set()
            return {i for other, ids in self._cores["zh"].items()
                    if (other.startswith(core) or core.startswith(other)) and len(other) >= MIN_PREFIX_CHARS_ZH
                    for i in ids}
        tokens = core.split()
        if not tokens or tokens[0] in NOT_DISTINCTIVE or len(core) < MIN_PREFIX_CHARS:
            return set()
        found: set[str] = set()
        for other, ids in self._cores["en"].items():
            other_tokens = other.split()
            shorter, longer = sorted((tokens, other_tokens), key=len)
            # "Iluvatar" for "Iluvatar CoreX", not "Harbour" for "Harbour Dumpling House".
            if longer[: len(shorter)] == shorter and 2 * len(shorter) >= len(longer):
                found |= ids
        return found

    def _by_similarity(self, name: str) -> set[str]:
        core = name_core(name)
        cores = self._cores["zh" if is_chinese(name) else "en"]
        if len(core) < 4 or not cores:
            return set()
        scored = process.extract(core, list(cores), scorer=fuzz.ratio, score_cutoff=FUZZY_SCORE - FUZZY_MARGIN,
                                 limit=8)
        if not scored or scored[0][1] < FUZZY_SCORE:
            return set()
        best = cores[scored[0][0]]
        rivals = {i for other, score, _ in scored[1:] if score > scored[0][1] - FUZZY_MARGIN for i in cores[other]}
        return set(best) if not rivals - best else set()



# -- is it AI? --------------------------------------------------------------------------------

_AI_NAME_EN = re.compile(
    r"\b(ai|artificial intelligence|intelligen(?:t|ce)|robot\w*|semiconductors?|chips?|microelectronics?|"
    r"lidar|autonomous|self[- ]driving|autopilot|computing|gpus?|neural|cognitive|machine learning|"
    r"deep learning|algorithms?|smart driving|quantum)\b", re.IGNORECASE)
_AI_NAME_ZH = re.compile(r"人工智能|智能|机器人|半导体|芯|晶片|自动驾驶|智驾|激光雷达|算力|计算|大模型|视觉|语音")
_AI_TEXT = re.compile(
    r"\bA\.?I\b|artificial intelligence|\blarge(?:[ -]language)? models?\b|\bLLMs?\b|\bGPUs?\b|\bchips?\b|"
    r"chipmaker|semiconductor|\brobot\w*|autonomous driving|self-driving|\blidar\b|machine learning|"
    r"computing power|人工智能|大模型|芯片|机器人|機器人|自动驾驶|自動駕駛|激光雷达|激光雷達|算力",
    re.IGNORECASE)


def ai_signals(name_en: str | None, name_zh: str | None, markers: Iterable[str]) -> list[str]:
    """Why the record itself says an issuer is AI or AI-adjacent: words of its names, and
    HKEX's `- P` marker (Chapter 18C specialist technology)."""
    found = []
    if name_en and (m := _AI_NAME_EN.search(name_en)):
        found.append(f"name: {m.group(0).lower()}")
    if name_zh and (m := _AI_NAME_ZH.search(to_simplified(name_zh))):
        found.append(f"name: {m.group(0)}")
    if "P" in markers:
        found.append("marker: P (Chapter 18C specialist technology)")
    return found


def _sentences_around(text: str, start: int, end: int) -> str:
    """The sentence holding text[start:end] (a cheap split on sentence ends)."""
    left = max(text.rfind(". ", 0, start), text.rfind("\n", 0, start), text.rfind("。", 0, start))
    right_candidates = [i for i in (text.find(". ", end), text.find("\n", end), text.find("。", end)) if i >= 0]
    return text[left + 1: min(right_candidates) if right_candidates else len(text)]


# -- the registry ---------------------------------------------------------------------------

def issuer_id_of(board: str, hkex_id: int) -> str:
    return f"{board}-{hkex_id}"


def _day(value: datetime | date | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value


# Lists an issuer gathers from both sources: a merge keeps every writer's entries.
_GATHERED = ("markers", "ai_evidence", "aliases")


def merge_issuer(base: Issuer | None, ours: Issuer, theirs: Issuer | None) -> Issuer:
    """Our change to an issuer applied to its row as stored now, which another writer of a
    shared warehouse may have saved since we read `base` (a three-way merge): a field we
    changed takes our value and one we did not keeps theirs; the lists keep both sides'
    entries; `first_seen_at` is the earlier. Without another writer, `theirs` is `base`."""
    if theirs is None or theirs == base:
        return ours
    values = {}
    for field in Issuer.model_fields:
        mine, stored = getattr(ours, field), getattr(theirs, field)
        if field in _GATHERED:
            values[field] = list(dict.fromkeys([*stored, *mine]))
        elif base is not None and getattr(base, field) == mine:
            values[field] = stored
        else:
            values[field] = mine
    values["is_ai"] = bool(values["ai_evidence"])
    values["has_phip"] = ours.has_phip or theirs.has_phip
    values["first_seen_at"] = min((t for t in (ours.first_seen_at, theirs.first_seen_at) if t), default=None)
    values["updated_at"] = max((t for t in (ours.updated_at, theirs.updated_at) if t), default=None)
    return Issuer(**values)


class Registry:
    """Every application the exchange's files have shown, by company, with an index of
    their names. Held for a run; `changes()` are the issuers to save in the next batch,
    with each as it was before (to merge with what other writers saved meanwhile)."""

    def __init__(self, issuers: Iterable[Issuer] = ()):
        self.issuers: dict[str, Issuer] = {}
        self.companies: dict[str, list[str]] = {}  # company_id -> issuer_ids, oldest application first
        # The name indexes are built the first time a name is looked up (~0.2 s for a
        # thousand issuers), so a poll in which nothing changed costs nothing here.
        self._names: NameIndex | None = None
        self._exact_names: dict[str, str] | None = None  # name key -> company_id: re-filings match strictly
        self._changed: set[str] = set()
        self._base: dict[str, Issuer | None] = {}  # changed issuer -> as last loaded or saved
        for issuer in issuers:
            self._put(issuer)

    def copy(self) -> "Registry":
        """An independent registry with the same issuers and pending changes: a write that
        may run again works on a copy, adopted once it commits."""
        twin = Registry()
        twin.issuers = dict(self.issuers)
        twin.companies = {company: list(apps) for company, apps in self.companies.items()}
        twin._names = self._names.copy() if self._names is not None else None
        twin._exact_names = dict(self._exact_names) if self._exact_names is not None else None
        twin._changed = set(self._changed)
        twin._base = dict(self._base)
        return twin

    def __len__(self) -> int:
        return len(self.issuers)

    @property
    def names(self) -> NameIndex:
        if self._names is None:
            self._names = NameIndex()
            for issuer in self.issuers.values():
                self._index(issuer)
        return self._names

    def _index(self, issuer: Issuer) -> None:
        assert self._names is not None
        for name in (issuer.name_en, issuer.name_zh, *issuer.aliases):
            self._names.add(name, issuer.company_id)

    def _put(self, issuer: Issuer) -> None:
        self.issuers[issuer.issuer_id] = issuer
        apps = self.companies.setdefault(issuer.company_id, [])
        if issuer.issuer_id not in apps:
            apps.append(issuer.issuer_id)
            apps.sort(key=lambda i: self.issuers[i].hkex_id)
        if self._names is not None:
            self._index(issuer)
        if self._exact_names is not None:
            self._remember_names(issuer)

    def _remember_names(self, issuer: Issuer) -> None:
        assert self._exact_names is not None
        for name in (issuer.name_en, issuer.name_zh):
            if name and name_key(name):
                self._exact_names.setdefault(name_key(name), issuer.company_id)

    def _update(self, issuer: Issuer, now: datetime | None) -> Issuer:
        old = self.issuers.get(issuer.issuer_id)
        if old is not None and old.model_dump(exclude={"updated_at"}) == issuer.model_dump(exclude={"updated_at"}):
            return old
        issuer = issuer.model_copy(update={"updated_at": now or issuer.updated_at})
        if issuer.issuer_id not in self._changed:
            self._base[issuer.issuer_id] = old
        self._put(issuer)
        self._changed.add(issuer.issuer_id)
        return issuer

    # -- what to save -------------------------------------------------------------------
    def changed(self) -> list[Issuer]:
        return [self.issuers[i] for i in sorted(self._changed)]

    def changes(self) -> list[tuple[Issuer | None, Issuer]]:
        """(as last loaded or saved, None when new; as now) for each changed issuer."""
        return [(self._base.get(i), self.issuers[i]) for i in sorted(self._changed)]

    def mark_saved(self, saved: Iterable[Issuer] = ()) -> None:
        """After the commit: nothing is pending, and the rows as written (`saved`, merged
        with other writers' changes) are the registry's."""
        for issuer in saved:
            self._put(issuer)
        self._changed.clear()
        self._base.clear()

    # -- the exchange's record ------------------------------------------------------------
    def record_application(self, app: ExchangeApplication, now: datetime) -> tuple[Issuer, Issuer | None]:
        """The issuer as this application's records show it, and as it was before (None
        when new). A new application whose name is exactly that of an earlier one is the
        same company filing again."""
        issuer_id = issuer_id_of(app.board, app.hkex_id)
        old = self.issuers.get(issuer_id)
        name_en, markers_en = strip_markers(app.name_en) if app.name_en else (None, [])
        name_zh, markers_zh = strip_markers(app.name_zh) if app.name_zh else (None, [])
        name_en = name_en or (old.name_en if old else None)
        name_zh = name_zh or (old.name_zh if old else None)
        markers = list(dict.fromkeys([*(old.markers if old else []), *markers_en, *markers_zh]))
        proofs = [d.doc_date for d in app.documents if d.kind == DocumentKind.APPLICATION_PROOF and d.doc_date]
        first_filed = min([*proofs, *([old.first_filed_on] if old and old.first_filed_on else [])], default=None)
        if first_filed is None and app.status != Status.ACTIVE:
            first_filed = app.updated_on
        closed_on = old.closed_on if old else None
        if app.status in (Status.LAPSED, Status.WITHDRAWN, Status.REJECTED, Status.RETURNED):
            if old is None or old.status != app.status or closed_on is None:
                closed_on = (app.updated_on if app.baseline else app.seen_on) or app.updated_on
        else:
            closed_on = None
        if old is None:
            company_id, refiled_from = issuer_id, None
            earlier = self._same_company(name_en, name_zh)
            if earlier is not None:
                company_id = earlier
                refiled_from = self.companies[earlier][-1]
        else:
            company_id, refiled_from = old.company_id, old.refiled_from
        evidence = list(dict.fromkeys([*ai_signals(name_en, name_zh, markers), *(old.ai_evidence if old else [])]))
        issuer = Issuer(
            issuer_id=issuer_id, hkex_id=app.hkex_id, board=app.board, name_en=name_en, name_zh=name_zh,
            markers=markers, status=app.status, stock_code=app.stock_code or (old.stock_code if old else None),
            first_filed_on=first_filed, closed_on=closed_on,
            has_phip=app.has_phip or any(d.kind == DocumentKind.PHIP for d in app.documents)
            or bool(old and old.has_phip),
            is_ai=bool(evidence), ai_evidence=evidence, aliases=old.aliases if old else [],
            company_id=company_id, refiled_from=refiled_from,
            first_seen_at=old.first_seen_at if old else now, updated_at=now,
        )
        return self._update(issuer, now), old

    def _same_company(self, name_en: str | None, name_zh: str | None) -> str | None:
        if self._exact_names is None:
            self._exact_names = {}
            for issuer in self.issuers.values():
                self._remember_names(issuer)
        for name in (name_en, name_zh):
            if name and name_key(name) in self._exact_names:
                return self._exact_names[name_key(name)]
        return None

    # -- resolution ------------------------------------------------------------------------
    def resolve(self, name: str, aliases: Iterable[str] = ()) -> str | None:
        """The company (company_id) a name, or else one of its aliases, stands for."""
        for candidate in (name, *aliases):
            company = self.names.match(candidate)
            if company is not None:
                return company
        return None

    def applications(self, company_id: str) -> list[Issuer]:
        return [self.issuers[i] for i in self.companies.get(company_id, [])]

    def application_for(self, company_id: str, stage: ListingStage, when: datetime | None) -> Issuer | None:
        """Which of a company's applications a sighting of `stage` at `when` is about: the
        listed one for a debut, else the latest filed by then. None for a filing reported
        after the latest application had closed: a re-filing the record does not show yet."""
        apps = sorted(self.applications(company_id),
                      key=lambda i: (i.first_filed_on or date.min, i.hkex_id))
        if not apps:
            return None
        if stage == ListingStage.DEBUT:
            listed = [a for a in apps if a.stock_code or a.status == Status.LISTED]
            if listed:
                return listed[-1]
        day = _day(when)
        filed = [a for a in apps if day is None or a.first_filed_on is None
                 or a.first_filed_on <= day + timedelta(days=7)]
        chosen = filed[-1] if filed else apps[0]
        if (stage == ListingStage.FILING and chosen.is_closed and day is not None and chosen.closed_on is not None
                and day > chosen.closed_on):
            return None
        return chosen

    def names_of(self, issuer: Issuer) -> list[str]:
        """Every name the company goes by, across its applications."""
        names: list[str] = []
        for app in self.applications(issuer.company_id):
            names.extend(n for n in (app.name_en, app.name_zh, *app.aliases) if n)
        return list(dict.fromkeys(names))

    # -- what the news says about an issuer ---------------------------------------------------
    def note_news(self, issuer_id: str, names: Iterable[str], article_id: str | None,
                  now: datetime | None = None) -> Issuer:
        """Names the news used for the issuer become its aliases; a relevant article
        reporting its listing is evidence that it is an AI company."""
        issuer = self.issuers[issuer_id]
        own = {name_key(n) for n in (issuer.name_en, issuer.name_zh) if n}
        aliases = list(issuer.aliases)
        for name in names:
            name = " ".join(name.split())
            if name and name_key(name) not in own and name not in aliases:
                aliases.append(name)
        evidence = list(issuer.ai_evidence)
        if article_id and f"news: {article_id}" not in evidence:
            evidence.append(f"news: {article_id}")
        return self._update(issuer.model_copy(update={"aliases": aliases, "ai_evidence": evidence,
                                                      "is_ai": bool(evidence)}), now)

    def note_mentions(self, articles: Iterable[Article], now: datetime | None = None) -> list[str]:
        """Issuers named in a sentence of a relevant article that is about AI, chips,
        robotics or autonomous driving become AI; returns their ids."""
        if not self.issuers:
            return []
        marked = []
        for article in articles:
            if article.is_relevant is not True or article.duplicate_of is not None:
                continue
            for company_id, sentence in self._mentions(article):
                if not _AI_TEXT.search(sentence):
                    continue
                for issuer in self.applications(company_id):
                    if not issuer.is_ai or f"news: {article.article_id}" not in issuer.ai_evidence:
                        self.note_news(issuer.issuer_id, (), article.article_id, now)
                        marked.append(issuer.issuer_id)
        return marked

    def _mentions(self, article: Article) -> Iterator[tuple[str, str]]:
        text = article.text
        for entity in article.entities:
            if entity.label not in ("ORG", "PERSON", "PRODUCT", "GPE", "NORP", "FAC"):
                continue
            company = self.names.match(entity.normalized or entity.text)
            if company is not None:
                yield company, _sentences_around(text, entity.start_char, entity.end_char)
        if is_chinese(text[:2000]):
            simplified = to_simplified(text)
            for issuer in self.issuers.values():
                core = name_core(issuer.name_zh) if issuer.name_zh else ""
                if len(core) >= 3 and (at := simplified.find(core)) >= 0:
                    yield issuer.company_id, _sentences_around(simplified, at, at + len(core))
