"""Registration: movements, certified lists, pre-registration, registration, identity deduplication, weapons."""
