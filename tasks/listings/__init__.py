"""Listing events: stage rules, text parsers (dates, amounts, codes) and detection in news text."""
