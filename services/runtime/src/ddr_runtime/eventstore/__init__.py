"""The event store: append-only, optimistic concurrency, hash-chained streams, outbox in the same commit."""
