"""What an alert says: title and body for one listing event, whatever the channel."""

from __future__ import annotations

from schemas.exchange import BOARD_NAMES
from schemas.records import ListingEvent, Origin
from tasks.names import chinese_name
from tasks.understand.chinese import HAN

_STAGE_WORDS = {"filing": "listing application filed", "hearing": "listing hearing passed",
                "pricing": "offer priced / trading date set", "debut": "first day of trading",
                "lapsed": "application lapsed", "withdrawn": "application withdrawn",
                "rejected": "application rejected by the exchange", "returned": "application returned by the exchange"}
_CURRENCY_SIGNS = {"HKD": "HK$", "USD": "US$", "CNY": "RMB "}


def _amount_text(amount: float | None, currency: str | None) -> str | None:
    if amount is None:
        return None
    sign = _CURRENCY_SIGNS.get(currency or "", f"{currency} " if currency else "")
    for scale, word in ((1e9, "billion"), (1e6, "million")):
        if amount >= scale:
            return f"{sign}{amount / scale:.2f}".rstrip("0").rstrip(".") + f" {word}"
    return f"{sign}{amount:,.0f}"


def company_names(event: ListingEvent, name_en: str | None = None, name_zh: str | None = None) -> str:
    """"English name (中文名)": the issuer's names from the exchange's record, else the
    event's name with the Chinese name a Chinese story wrote ("UBTech Robotics (優必選)") or
    the known-organisation table gives; a company named only in Chinese, by that name."""
    english = name_en or event.company
    chinese = name_zh or next((alias for alias in event.aliases if HAN.search(alias)), None)
    if chinese is None and not HAN.search(english):
        chinese = chinese_name(english)
    return f"{english} ({chinese})" if chinese and chinese != english and not HAN.search(english) else english


def alert_message(event: ListingEvent, headline: str | None, article_url: str | None, key: str, *,
                  name_en: str | None = None, name_zh: str | None = None, aliases: tuple[str, ...] = (),
                  board: str | None = None) -> tuple[str, str]:
    """(title, body) of the alert for one listing event. The issuer's names, aliases and
    board come from the registry when the event is resolved to an issuer."""
    names = company_names(event, name_en, name_zh)
    shown = {name_en, name_zh, event.company, names.partition(" (")[2].removesuffix(")")}
    also = [a for a in dict.fromkeys((*aliases, *event.aliases)) if a not in shown]
    source = {Origin.EXCHANGE: "the exchange's application lists", Origin.NEWS: "the news"}[event.origin]
    title = f"{event.exchange} listing: {names} \u2014 {event.stage}"
    lines = [
        f"Company: {names}",
        f"Also known as: {', '.join(also)}" if also else None,
        f"Stage: {event.stage} ({_STAGE_WORDS[event.stage]})",
        f"Stock code: {event.stock_code}" if event.stock_code else None,
        f"Exchange: {event.exchange}" + (f" ({BOARD_NAMES.get(board, board)})" if board else ""),
        f"Amount: {_amount_text(event.amount, event.currency)}" if event.amount is not None else None,
        f"Date: {event.event_date.date().isoformat()}" if event.event_date else None,
        f"First shown by: {source}",
        f"Exchange document: {event.document_url}" if event.document_url else None,
        f"Headline: {headline}" if headline else None,
        f"Article: {article_url}" if article_url else None,
        f"Evidence: {event.evidence}" if event.evidence else None,
        f"Alert ID: {key}",
    ]
    return title, "\n".join(line for line in lines if line)
