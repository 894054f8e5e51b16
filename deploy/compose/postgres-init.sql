-- Runs once, on the first start of an empty postgres volume (docker-entrypoint-initdb.d), as POSTGRES_USER.
-- One database per bounded context: a service's event store and read models are its own, shared with nobody.
-- Plus ddr_keys: the single key store of per-person keys that every service reaches (crypto-shredding).
-- Adding a service: one line here, and its DDR_<SERVICE>_DATABASE_URL in docker-compose.yml.
-- An existing volume is not re-initialised: create the new database by hand or `docker compose down -v`.

CREATE DATABASE ddr_registration;
CREATE DATABASE ddr_screening;
CREATE DATABASE ddr_integration;
CREATE DATABASE ddr_reinsertion;
CREATE DATABASE ddr_cvr;
CREATE DATABASE ddr_pathway;
CREATE DATABASE ddr_keys;
