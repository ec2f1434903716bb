"""Getting documents: discovery (feeds, sitemaps), polite fetching, the WARC archive, seeds."""
