"""What an alert says: title and body for one listing event, whatever the channel."""

from __future__ import annotations

from schemas.records import ListingEvent

_STAGE_WORDS = {"filing": "listing application filed", "hearing": "listing hearing passed",
                "pricing": "offer priced / trading date set", "debut": "first day of trading"}
_CURRENCY_SIGNS = {"HKD": "HK$", "USD": "US$", "CNY": "RMB "}


def _amount_text(amount: float | None, currency: str | None) -> str | None:
    if amount is None:
        return None
    sign = _CURRENCY_SIGNS.get(currency or "", f"{currency} " if currency else "")
    for scale, word in ((1e9, "billion"), (1e6, "million")):
        if amount >= scale:
            return f"{sign}{amount / scale:.2f}".rstrip("0").rstrip(".") + f" {word}"
    return f"{sign}{amount:,.0f}"


def alert_message(event: ListingEvent, headline: str | None, article_url: str | None,
                  key: str) -> tuple[str, str]:
    """(title, body) of the alert for one listing event."""
    title = f"{event.exchange} listing: {event.company} \u2014 {event.stage}"
    lines = [
        f"Company: {event.company}",
        f"Stage: {event.stage} ({_STAGE_WORDS[event.stage]})",
        f"Stock code: {event.stock_code}" if event.stock_code else None,
        f"Exchange: {event.exchange}",
        f"Amount: {_amount_text(event.amount, event.currency)}" if event.amount is not None else None,
        f"Date: {event.event_date.date().isoformat()}" if event.event_date else None,
        f"Headline: {headline}" if headline else None,
        f"Article: {article_url}" if article_url else None,
        f"Evidence: {event.evidence}" if event.evidence else None,
        f"Alert ID: {key}",
    ]
    return title, "\n".join(line for line in lines if line)
