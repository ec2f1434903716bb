"""Making sense of a page: extraction, language, normalisation, relevance, dedup, entities."""
