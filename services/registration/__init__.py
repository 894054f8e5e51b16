"""Makes this service's tests a package named after the service, distinct from the other services' tests."""
