"""What the tests and the benchmarks both run against, in one place neither imports the
other for: the loopback news site, the exchange's replica, an alert webhook receiver, a
PostgreSQL server, WARC files, the extraction corpus and its F1, the labelled relevance
examples and listing passages with their scores, the memory sampler and py-spy's stacks
read back. The labelled data itself is in tests/data."""
