-- Why each failed source failed in a run (source name -> readable reason: a parse error,
-- an unreachable host, a bad WARC path). HTTP failures are also in `fetches`; a feed that
-- answers 200 with broken XML is only visible here.
ALTER TABLE runs ADD COLUMN source_errors JSON;
