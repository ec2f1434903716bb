"""Listing events: stage rules, text parsers (dates, amounts, codes) and detection in news
text; the exchange's records, the issuers registry, and the lifecycle that fuses the two."""
