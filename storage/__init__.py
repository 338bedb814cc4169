"""DuckDB storage: the schema, connections with retry, bulk keyed writes and lookups. All SQL lives here."""
