"""The compose stack's contract: a valid Compose file, one container per service, data stores kept local.

Nothing here starts Docker; the file is read as YAML (anchors and ``<<`` merges resolved, as Compose does).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
SCHEMA_FILE = Path(__file__).with_name("compose-spec.schema.json")
POSTGRES_INIT = ROOT / "deploy" / "compose" / "postgres-init.sql"

# The bounded contexts of ARCHITECTURE.md. Listed here so the contract holds before their packages exist.
EXPECTED_SERVICES = ("registration", "screening", "integration", "reinsertion", "cvr", "pathway")
# services/ folders that are not services.
NOT_SERVICES = frozenset({"runtime"})
API_PORT = "8000"
# Stores and brokers holding personal data: reachable from the Docker host's loopback only.
DATA_STORES = ("kafka", "postgres")
INFRASTRUCTURE = ("kafka", "postgres", "otel-collector", "jaeger")
# The collector's image is distroless (no shell, no HTTP client), so it cannot run a healthcheck.
INFRASTRUCTURE_WITH_HEALTHCHECK = ("kafka", "postgres", "jaeger")
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})

Services = dict[str, dict[str, Any]]


def service_packages() -> list[str]:
    """Folders under services/ holding a package, i.e. a service that has landed."""
    return sorted(
        path.parent.name
        for path in (ROOT / "services").glob("*/pyproject.toml")
        if path.parent.name not in NOT_SERVICES
    )


SERVICES = sorted(set(EXPECTED_SERVICES) | set(service_packages()))


class DuplicateKeyRefusingLoader(yaml.SafeLoader):
    """Refuses a key written twice in one mapping, as Compose does (PyYAML silently keeps the last)."""


def _construct_mapping_once(loader: DuplicateKeyRefusingLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor`, overridden on purpose
            continue
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"key {key!r} written twice",
                key_node.start_mark,
            )
        seen.add(key)
    return dict(loader.construct_mapping(node))


DuplicateKeyRefusingLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping_once,
)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(document, dict), f"{COMPOSE_FILE} is not a YAML mapping"
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> Services:
    entries = compose.get("services")
    assert isinstance(entries, dict), "docker-compose.yml has no services mapping"
    return entries


def service_entry(services: Services, name: str) -> dict[str, Any]:
    assert name in services, f"docker-compose.yml has no service {name!r}; it has {sorted(services)}"
    return services[name]


def environment(entry: dict[str, Any]) -> dict[str, str | None]:
    """A service's environment as a mapping, whether written as a mapping or as a KEY=VALUE list."""
    raw = entry.get("environment") or {}
    if isinstance(raw, dict):
        return {str(key): None if value is None else str(value) for key, value in raw.items()}
    pairs = (str(item).split("=", 1) for item in raw)
    return {pair[0]: pair[1] if len(pair) == 2 else None for pair in pairs}


def depends_on(entry: dict[str, Any]) -> dict[str, str]:
    """Dependency name -> condition (the short list form means service_started)."""
    raw = entry.get("depends_on") or {}
    if isinstance(raw, list):
        return {str(name): "service_started" for name in raw}
    return {str(name): str((spec or {}).get("condition", "service_started")) for name, spec in raw.items()}


def created_databases() -> list[str]:
    sql = POSTGRES_INIT.read_text(encoding="utf-8")
    return re.findall(r"CREATE\s+DATABASE\s+(\w+)", sql, re.IGNORECASE)


@dataclass(frozen=True)
class Published:
    host_ip: str  # "" means every interface
    host_port: str  # "" means an ephemeral port
    target: str


def published_ports(entry: dict[str, Any]) -> list[Published]:
    """Parse both port syntaxes: ``[HOST_IP:][HOST_PORT:]CONTAINER[/PROTO]`` and the long mapping."""
    ports: list[Published] = []
    for item in entry.get("ports") or []:
        if isinstance(item, dict):
            ports.append(
                Published(str(item.get("host_ip", "")), str(item.get("published", "")), str(item["target"]))
            )
            continue
        text = str(item).split("/", 1)[0]
        host_ip = ""
        bracketed = re.fullmatch(r"\[([^\]]*)\]:(.*)", text)  # IPv6 host address, e.g. [::1]:5432:5432
        if bracketed:
            host_ip, text = bracketed.group(1), bracketed.group(2)
        parts = text.split(":")
        if len(parts) == 3:
            host_ip, parts = parts[0], parts[1:]
        host_port, target = (parts[0], parts[1]) if len(parts) == 2 else ("", parts[0])
        ports.append(Published(host_ip, host_port, target))
    return ports


# ---------------------------------------------------------------- (a) the Compose specification


def test_vendored_compose_schema_is_a_valid_draft7_schema() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)
    assert "draft-07" in schema["$schema"]


def test_compose_file_validates_against_the_compose_specification(compose: dict[str, Any]) -> None:
    validator = Draft7Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
    errors = sorted(validator.iter_errors(compose), key=lambda error: [str(p) for p in error.absolute_path])
    report = "\n".join(
        f"  {'/'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}" for error in errors
    )
    assert not errors, f"docker-compose.yml breaks the Compose specification:\n{report}"


def test_compose_file_writes_no_key_twice_in_one_mapping() -> None:
    yaml.load(COMPOSE_FILE.read_text(encoding="utf-8"), Loader=DuplicateKeyRefusingLoader)


def test_compose_file_has_no_obsolete_top_level_version(compose: dict[str, Any]) -> None:
    assert "version" not in compose, "`version:` is obsolete in the Compose specification; remove it"


# ---------------------------------------------------------------- (b) one container per service


def test_every_expected_service_has_a_compose_entry(services: Services) -> None:
    missing = sorted(set(EXPECTED_SERVICES) - set(services))
    assert not missing, f"services without a compose entry: {missing}"


def test_every_service_package_has_a_compose_entry(services: Services) -> None:
    missing = sorted(set(service_packages()) - set(services))
    assert not missing, f"folders under services/ with a pyproject.toml but no compose entry: {missing}"


@pytest.mark.parametrize("name", SERVICES)
def test_service_reads_its_own_postgres_database(services: Services, name: str) -> None:
    env = environment(service_entry(services, name))
    variable = f"DDR_{name.upper()}_DATABASE_URL"
    url = env.get(variable)
    assert url, f"{name}: environment lacks {variable}"
    assert url.startswith("postgresql://"), f"{name}: {variable} is not a postgresql:// URL: {url}"
    assert url.rsplit("/", 1)[-1] == f"ddr_{name}", f"{name}: {variable} names another database: {url}"
    others = sorted(key for key in env if key.endswith("_DATABASE_URL") and key != variable)
    assert not others, f"{name}: also configured with another service's database: {others}"


@pytest.mark.parametrize("name", SERVICES)
def test_service_gets_the_shared_platform_settings(services: Services, name: str) -> None:
    env = environment(service_entry(services, name))
    required = (
        "DDR_ENVIRONMENT",
        "DDR_KEY_SERVICE_URL",
        "DDR_KEY_SERVICE_CREDENTIAL_FILE",
        "DDR_JWT_PUBLIC_KEY",
        "DDR_AUDIT_SIGNING_KEY",
        "KAFKA_BOOTSTRAP_SERVERS",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    )
    missing = [key for key in required if key not in env]
    assert not missing, f"{name}: environment lacks {missing}"


def test_registration_gets_its_hmac_keys_from_the_host_and_none_written_here(services: Services) -> None:
    """Production refuses to start registration without them; no value may be printed in the file."""
    env = environment(service_entry(services, "registration"))

    assert {
        key: env.get(key, "absent")
        for key in ("DDR_REGISTRATION_BIOMETRIC_KEY", "DDR_REGISTRATION_NAME_INDEX_KEY")
    } == {
        "DDR_REGISTRATION_BIOMETRIC_KEY": None,
        "DDR_REGISTRATION_NAME_INDEX_KEY": None,
    }


@pytest.mark.parametrize("name", SERVICES)
def test_a_service_holds_neither_the_kek_nor_the_key_store(services: Services, name: str) -> None:
    env = environment(service_entry(services, name))
    held = sorted(
        key
        for key in env
        if key in ("DDR_MASTER_KEY", "DDR_KEYSTORE_URL", "DDR_KEYS_KEK", "DDR_KEYS_DATABASE_URL")
    )
    assert not held, f"{name}: holds {held}; only the key service may"


@pytest.mark.parametrize("name", SERVICES)
def test_a_service_mounts_only_its_own_key_credential(services: Services, name: str) -> None:
    volumes = [str(volume) for volume in service_entry(services, name).get("volumes") or []]
    credentials = [volume for volume in volumes if volume.startswith("credentials-")]
    assert credentials == [f"credentials-{name}:/run/ddr-keys:ro"], (
        f"{name}: credential volumes {credentials}"
    )


def test_the_environment_defaults_to_production_everywhere() -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    defaults = re.findall(r"\$\{DDR_ENVIRONMENT:-(\w+)\}", text)
    assert defaults, "no service sets DDR_ENVIRONMENT"
    assert set(defaults) == {"production"}, f"DDR_ENVIRONMENT defaults to {sorted(set(defaults))}"


def test_no_key_encryption_key_is_written_in_the_compose_file(services: Services) -> None:
    from ddr_runtime.config import COMPOSE_DEVELOPMENT_MASTER_KEY

    env = environment(service_entry(services, "keys"))
    assert COMPOSE_DEVELOPMENT_MASTER_KEY not in COMPOSE_FILE.read_text(encoding="utf-8")
    assert env["DDR_KEYS_KEK"] == "${DDR_KEYS_KEK:-}", "the KEK comes from the environment, never this file"


def test_the_key_service_alone_reaches_the_key_store_and_is_not_published(services: Services) -> None:
    keys = service_entry(services, "keys")
    env = environment(keys)
    assert str(env["DDR_KEYS_DATABASE_URL"]).endswith("/ddr_keys")
    assert not published_ports(keys), "keys: the key service is reached on the Compose network only"
    reaching = sorted(
        name
        for name, entry in services.items()
        if any("/ddr_keys" in str(value) for value in environment(entry).values())
    )
    assert reaching == ["key-credentials", "keys"], f"services reaching ddr_keys: {reaching}"


@pytest.mark.parametrize("name", SERVICES)
def test_postgres_init_script_creates_the_service_database(name: str) -> None:
    created = created_databases()
    assert f"ddr_{name}" in created, f"{POSTGRES_INIT.name} does not create ddr_{name}; it creates {created}"


def test_postgres_init_script_creates_the_key_store_database() -> None:
    created = created_databases()
    assert "ddr_keys" in created, f"{POSTGRES_INIT.name} does not create ddr_keys"


@pytest.mark.parametrize("name", SERVICES)
def test_service_has_a_readiness_healthcheck(services: Services, name: str) -> None:
    healthcheck = service_entry(services, name).get("healthcheck") or {}
    assert healthcheck, f"{name}: no healthcheck"
    assert not healthcheck.get("disable"), f"{name}: healthcheck disabled"
    test = healthcheck.get("test")
    command = " ".join(test) if isinstance(test, list) else str(test)
    assert "/readyz" in command, f"{name}: healthcheck does not probe /readyz: {command}"


@pytest.mark.parametrize("name", SERVICES)
def test_service_starts_after_healthy_kafka_and_postgres_and_created_topics(
    services: Services, name: str
) -> None:
    conditions = depends_on(service_entry(services, name))
    expected = {
        "kafka": "service_healthy",
        "postgres": "service_healthy",
        "kafka-topics": "service_completed_successfully",
        "keys": "service_healthy",
        "key-credentials": "service_completed_successfully",
    }
    wrong = {dep: conditions.get(dep) for dep, want in expected.items() if conditions.get(dep) != want}
    assert not wrong, f"{name}: depends_on should be {expected}; found {wrong}"


@pytest.mark.parametrize("name", SERVICES)
def test_service_image_is_built_for_that_service_and_runs_its_app_factory(
    services: Services, name: str
) -> None:
    entry = service_entry(services, name)
    build = entry.get("build") or {}
    assert isinstance(build, dict), f"{name}: build should name deploy/docker/Dockerfile and SERVICE"
    dockerfile = build.get("dockerfile")
    assert dockerfile == "deploy/docker/Dockerfile", f"{name}: built from {dockerfile!r}"
    args = build.get("args") or {}
    service_arg = args.get("SERVICE") if isinstance(args, dict) else None
    assert service_arg == name, f"{name}: build arg SERVICE is {service_arg!r}"
    command = entry.get("command")
    command_text = " ".join(command) if isinstance(command, list) else str(command)
    assert f"ddr_{name}.bootstrap:create_app" in command_text, f"{name}: command is {command_text!r}"
    assert "--factory" in command_text, f"{name}: create_app is a factory; uvicorn needs --factory"


def test_service_api_host_ports_are_distinct(services: Services) -> None:
    owners: dict[str, list[str]] = {}
    for name, entry in services.items():
        for port in published_ports(entry):
            owners.setdefault(port.host_port, []).append(name)
    clashes = {port: names for port, names in owners.items() if port and len(names) > 1}
    assert not clashes, f"host ports published twice: {clashes}"


# ---------------------------------------------------------------- (c) infrastructure


@pytest.mark.parametrize("name", INFRASTRUCTURE)
def test_infrastructure_service_is_defined_from_a_pinned_image(services: Services, name: str) -> None:
    image = str(service_entry(services, name).get("image", ""))
    repository, _, tag = image.rpartition(":")
    assert repository, f"{name}: image has no version tag: {image!r}"
    assert tag not in {"", "latest"}, f"{name}: image not pinned to a version: {image!r}"
    assert "/" not in tag, f"{name}: image has no version tag (':' belongs to a registry port): {image!r}"


@pytest.mark.parametrize("name", INFRASTRUCTURE_WITH_HEALTHCHECK)
def test_infrastructure_service_has_a_healthcheck(services: Services, name: str) -> None:
    healthcheck = service_entry(services, name).get("healthcheck") or {}
    assert healthcheck.get("test"), f"{name}: no healthcheck test"
    assert not healthcheck.get("disable"), f"{name}: healthcheck disabled"


def test_kafka_is_a_single_kraft_node_that_never_creates_topics_by_itself(
    services: Services,
) -> None:
    env = environment(service_entry(services, "kafka"))
    roles = {role.strip() for role in str(env.get("KAFKA_PROCESS_ROLES")).split(",")}
    assert roles == {"broker", "controller"}, f"kafka: process roles {roles}, expected combined mode"
    assert env.get("KAFKA_CONTROLLER_QUORUM_VOTERS"), "kafka: no controller quorum"
    assert str(env.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE")).lower() == "false", "kafka: auto topic creation on"
    assert env.get("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR") == "1", "kafka: offsets topic needs 1 replica"
    assert "kafka:" in str(env.get("KAFKA_ADVERTISED_LISTENERS")), "kafka: no listener for other containers"


def test_topics_job_runs_once_after_kafka_is_healthy(services: Services) -> None:
    entry = service_entry(services, "kafka-topics")
    command = entry.get("command")
    command_text = " ".join(command) if isinstance(command, list) else str(command)
    assert command_text.split()[:3] == ["ddr", "topics", "create"], f"kafka-topics: command {command_text!r}"
    assert str(entry.get("restart")) == "no", "kafka-topics: a one-shot job must not restart"
    assert depends_on(entry).get("kafka") == "service_healthy", "kafka-topics: must wait for a healthy kafka"


# ---------------------------------------------------------------- (d) nothing personal on 0.0.0.0


@pytest.mark.parametrize("name", DATA_STORES)
def test_data_store_publishes_host_ports_on_loopback_only(services: Services, name: str) -> None:
    entry = service_entry(services, name)
    assert entry.get("network_mode") != "host", f"{name}: host networking exposes every port"
    exposed = [port for port in published_ports(entry) if port.host_ip not in LOOPBACK]
    assert not exposed, f"{name}: published beyond 127.0.0.1: {exposed} (write e.g. '127.0.0.1:5432:5432')"


def test_only_service_api_ports_are_published_beyond_loopback(services: Services) -> None:
    exposed = {
        name: [port for port in published_ports(entry) if port.host_ip not in LOOPBACK]
        for name, entry in services.items()
    }
    offending = {
        name: [port for port in ports if not (name in SERVICES and port.target == API_PORT)]
        for name, ports in exposed.items()
    }
    offending = {name: ports for name, ports in offending.items() if ports}
    host_network = sorted(name for name, entry in services.items() if entry.get("network_mode") == "host")
    assert not offending, f"published on every interface, but not a service's API port: {offending}"
    assert not host_network, f"host networking publishes every port: {host_network}"
