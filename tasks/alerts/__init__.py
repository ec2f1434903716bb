"""Alerts for new listing events: channels and their secrets, the message, delivery (Apprise)."""
