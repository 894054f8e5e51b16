"""Running the platform on this machine: Kafka, PostgreSQL and the services as local processes."""
