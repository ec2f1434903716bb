"""The DuckDB warehouse: migrations, the batch loader and the read-only query path."""
