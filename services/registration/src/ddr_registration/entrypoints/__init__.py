"""Registration service."""
