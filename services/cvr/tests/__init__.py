"""cvr service tests (a package, so its test modules import their support relatively)."""
