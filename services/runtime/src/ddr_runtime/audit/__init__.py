"""The platform audit: hash-chain checks, RFC 9162 checkpoints each service signs over its own store, the
operator's verification of stores against topics and checkpoints, and handover bundles."""
