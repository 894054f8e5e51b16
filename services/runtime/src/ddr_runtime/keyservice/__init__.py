"""The key service: the one process that holds the key-encryption key and opens the subject-key store.

Services reach it over HTTPS with credentials of their own (one per service and host), each with grants
(``create``, ``unwrap``, ``erase``); every call is recorded as counts. An operator revokes one credential,
a service's or a host's at once; the KEK is rotated by wrapping every subject key again. It also keeps the
list of revoked bearer tokens that every service checks. See docs/security.md.
"""
