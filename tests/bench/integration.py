"""Integration placement, end to end: 10,000 screening outcomes to members assigned in thirds, on Kafka.

The issue's benchmark: place 10,000 candidates through quota, rank, cohort and unit assignment from screening
events, in under 60 s on the 2-core machine.

One timed run, in a new database of the benchmark server and a topic namespace of its own:

1. untimed: the screening service (``UpstreamService``: its own store and relay) publishes 10,000
   ``ScreeningOutcomeDecided`` (integration track; half of CMA movements, half of Platform movements) to
   Kafka; registration publishes the coalition memberships; the NIC sets the 2022 quotas (13,000 a year
   within the 26,000 offer), publishes the rank rules (the 2019 decree model), opens 40 cohorts of 250 at Kati
   and establishes 20 units with the armed forces' contingent of 250 each;
2. timed: the integration service's consumer takes the outcomes off Kafka and accepts each candidate under
   the quotas; then, through the service layer, ranks are allocated (orders of 500), cohorts enrolled and
   completed (250 each) and members assigned to units (500 per unit, CMA and Platform alternating, each checked
   against the rule of thirds with the figures as of the date); finally the outbox relay drains every event
   of the service to Kafka until acknowledged.

``python -m tests.bench.run --only integration --runs 1 --scale 0.1`` is a quick smoke run.
"""

from __future__ import annotations

import asyncio
import base64
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as clock
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from ddr_contracts.catalog import REGISTRY
from ddr_contracts.registration import CoalitionJoined
from ddr_contracts.screening import ScreeningOutcomeDecided
from ddr_integration.adapters.tables import READ_MODEL, people
from ddr_integration.bootstrap import build_integration
from ddr_integration.domain.cohorts import THREE_MONTHS, CohortPlan
from ddr_integration.domain.events import QuotaSet, UnitEstablished
from ddr_integration.domain.ranks import DECREE_2019
from ddr_integration.service_layer import cohorts, quotas, ranks, units
from ddr_integration.service_layer.context import Integration
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.config import Settings
from ddr_runtime.eventstore.ports import Causation, CommandContext, ItemOutcome
from ddr_runtime.eventstore.rebuild import ReadModel, create_read_model
from ddr_runtime.eventstore.schema import events as store_events
from ddr_runtime.kernel import BackRecording, Recording
from ddr_runtime.service import ServiceRuntime, build_runtime
from ddr_testkit.upstream import UpstreamService, create_namespace_topics, new_namespace
from tests.bench import BenchEnv, Figure, machine_info, now_iso, package_versions

NAME = "integration"
SERVICE = "integration"
SIZE = 10_000
TARGET_SECONDS = 60.0
COHORT_SIZE = 250
UNIT_MEMBERS = 500  # plus 250 of the armed forces: thirds of 250
RANK_ORDER = 500
WAIT_SECONDS = 600.0
AUTHORITY = BackRecording("records_officer", "the 2022 programme migrated from the NIC's registers")
MASTER_KEY = bytes(range(32))
MOVEMENTS = {"MNLA": "CMA", "HCUA": "CMA", "GATIA": "Platform", "CMFPR": "Platform"}
OUTCOME_DAY = date(2022, 3, 1)
RANKED_ON = date(2022, 3, 15)
TRAINING_START = date(2022, 4, 1)
TRAINING_ENDS = CohortPlan("", "", 1, TRAINING_START, THREE_MONTHS).ends_on
ASSIGNED_ON = date(2022, 7, 4)
MOVEMENT_RANKS = (
    "combattant",
    "combattant",
    "combattant",
    "chef_de_groupe",
    "sergent",
    "lieutenant",
    "capitaine",
)


@dataclass(frozen=True)
class PlacementRun:
    candidates: int
    accept_seconds: float
    rank_seconds: float
    training_seconds: float
    assign_seconds: float
    relay_seconds: float
    events: int
    units: int
    command_posts: int

    @property
    def seconds(self) -> float:
        return (
            self.accept_seconds
            + self.rank_seconds
            + self.training_seconds
            + self.assign_seconds
            + self.relay_seconds
        )

    @property
    def per_second(self) -> float:
        return self.candidates / self.seconds


def _at(day: date) -> datetime:
    return datetime.combine(day, clock(9), tzinfo=UTC)


def _outcome(person_id: str, movement: str, index: int) -> ScreeningOutcomeDecided:
    return ScreeningOutcomeDecided(
        person_id=person_id,
        decision_id=str(uuid.uuid4()),
        track="integration",
        reason_code="eligible_armed_member",
        rule_version="2022-1",
        previous_track=None,
        supersedes_decision_id=None,
        by_appeal=False,
        movement=movement,
        category="combatant",
        sex="M" if index % 10 else "F",
        region=("Gao", "Timbuktu", "Kidal", "Ménaka")[index % 4],
        birth_year=1975 + index % 25,
        rank=MOVEMENT_RANKS[index % len(MOVEMENT_RANKS)],
        armed=True,
    )


def settings_for(env: BenchEnv, database: str, var_dir: Path, namespace: str) -> Settings:
    url = env.database_url(database, driver=None)
    return Settings(
        service_name=SERVICE,
        database_url=url,
        keystore_url=url,
        master_key=base64.b64encode(MASTER_KEY).decode(),
        kafka_bootstrap_servers=env.kafka_bootstrap_servers,
        var_dir=var_dir,
        topic_namespace=namespace,
    )


async def _prepare_upstream(settings: Settings, ids: dict[str, list[str]]) -> None:
    async with UpstreamService("registration", settings) as registration:
        for movement, coalition in MOVEMENTS.items():
            joined = CoalitionJoined(movement=movement, coalition=coalition, since=date(2015, 6, 20))
            await registration.emit(movement, joined, occurred_at=_at(date(2015, 6, 20)), publish=False)
        await registration.publish()
    async with UpstreamService("screening", settings) as screening:
        index = 0
        for movement, members in ids.items():
            for pid in members:
                await screening.emit(
                    pid, _outcome(pid, movement, index), occurred_at=_at(OUTCOME_DAY), publish=False
                )
                index += 1
        await screening.publish()


def command() -> CommandContext:
    """The NIC officer's commands: the 2022 programme is back-recorded, by a records officer with a reason."""
    principal = Principal("bench-nic", "NIC officer", frozenset({Role.NIC_OFFICER, Role.RECORDS_OFFICER}))
    return CommandContext(
        principal, Recording(authority=AUTHORITY), Causation("bench-nic", back_recording=AUTHORITY)
    )


def _all_recorded(outcomes: list[ItemOutcome[Any]]) -> None:
    refused = [o for o in outcomes if o.status == "refused"]
    if refused:
        raise RuntimeError(
            f"{len(refused)} item(s) refused, the first: {refused[0].rule} {refused[0].detail}"
        )


async def _prepare_programme(integ: Integration, size: int, unit_count: int) -> None:
    for quota_id, start, end, limit in (
        ("2022-2023-offer", date(2022, 1, 1), date(2023, 12, 31), 26_000),
        ("2022", date(2022, 1, 1), date(2022, 12, 31), 13_000),
    ):
        decision = QuotaSet(quota_id, None, start, end, limit, "offer-2022", "government offer")
        await quotas.set_quota(integ, decision, date(2021, 12, 15), command())
    await ranks.publish_rules(integ, DECREE_2019, DECREE_2019.effective_from, command())
    for n in range((size + COHORT_SIZE - 1) // COHORT_SIZE):
        plan = CohortPlan(f"kati-{n:03d}", "Kati", COHORT_SIZE, TRAINING_START, THREE_MONTHS)
        await cohorts.open_cohort(integ, plan, date(2022, 3, 1), command())
    for n in range(unit_count):
        unit = UnitEstablished(f"batfar-{n:02d}", f"BATFAR {n}", "battalion", "Gao", 800, True, 0.02)
        await units.establish_unit(integ, unit, date(2022, 6, 1), command())
        await units.record_contingent(integ, unit.unit_id, UNIT_MEMBERS // 2, 12, date(2022, 7, 1), command())


async def _wait_accepted(runtime: ServiceRuntime, size: int) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        async with runtime.engine.connect() as conn:
            accepted = await conn.scalar(
                select(func.count()).select_from(people).where(people.c.status == "accepted")
            )
        if accepted == size:
            return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"only {accepted} of {size} candidates accepted in {WAIT_SECONDS:.0f} s")


async def _wait_relayed(runtime: ServiceRuntime) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while await runtime.relay.backlog():
        if time.monotonic() > deadline:
            raise RuntimeError("the outbox did not drain")
        await asyncio.sleep(0.05)


def _interleaved(cma: list[str], platform: list[str]) -> list[str]:
    return [p for pair in zip(cma, platform, strict=True) for p in pair]


async def placement_run(env: BenchEnv, size: int) -> PlacementRun:
    quarter = size // 4
    ids = {m: [f"{m.lower()}-{uuid.uuid4().hex[:12]}" for _ in range(quarter)] for m in MOVEMENTS}
    size = 4 * quarter
    unit_count = size // UNIT_MEMBERS
    with tempfile.TemporaryDirectory(prefix="ddr-bench-integration-") as tmp:
        namespace = new_namespace()
        create_namespace_topics(env.kafka_bootstrap_servers, namespace, partitions=6)
        database = await env.create_database("integration")
        settings = settings_for(env, database, Path(tmp), namespace)
        runtime = build_runtime(SERVICE, REGISTRY, settings)
        integ, unit_of_work = build_integration(runtime)
        try:
            await runtime.keystore.create_schema()
            await runtime.store.create_schema()
            await create_read_model(ReadModel(unit_of_work, READ_MODEL))
            await _prepare_programme(integ, size, unit_count)
            await _prepare_upstream(settings, ids)
            task = env.progress.add_task(f"placing {size:,} candidates", total=5)

            began = time.perf_counter()
            relay_task = await runtime.start()  # consumers start reading the outcomes off Kafka
            await _wait_accepted(runtime, size)
            accepted = time.perf_counter()
            env.progress.update(task, advance=1)

            everyone = [p for members in ids.values() for p in members]
            for start in range(0, size, RANK_ORDER):
                order = [
                    ranks.RankRequest(p, 2 + (i % 12), ("none", "basic_military", "nco_course")[i % 3])
                    for i, p in enumerate(everyone[start : start + RANK_ORDER], start)
                ]
                _all_recorded(await ranks.allocate_ranks(integ, order, RANKED_ON, command()))
            ranked = time.perf_counter()
            env.progress.update(task, advance=1)

            for n, start in enumerate(range(0, size, COHORT_SIZE)):
                trainees = everyone[start : start + COHORT_SIZE]
                cohort_id = f"kati-{n:03d}"
                _all_recorded(await cohorts.enrol(integ, cohort_id, trainees, TRAINING_START, command()))
                done = [(p, "completed") for p in trainees]
                _all_recorded(await cohorts.record_outcomes(integ, cohort_id, done, TRAINING_ENDS, command()))
            trained = time.perf_counter()
            env.progress.update(task, advance=1)

            cma = ids["MNLA"] + ids["HCUA"]
            platform = ids["GATIA"] + ids["CMFPR"]
            per_party = UNIT_MEMBERS // 2
            for n in range(unit_count):
                members = _interleaved(
                    cma[n * per_party : (n + 1) * per_party], platform[n * per_party : (n + 1) * per_party]
                )
                posts = set(members[:24])  # twelve command posts each, as the armed forces'
                entries = [units.Assignment(p, p in posts) for p in members]
                outcomes, _ = await units.assign(integ, f"batfar-{n:02d}", entries, ASSIGNED_ON, command())
                _all_recorded(outcomes)
            assigned = time.perf_counter()
            env.progress.update(task, advance=1)

            await _wait_relayed(runtime)  # the relay has been publishing all along: wait for the rest
            relayed = time.perf_counter()
            async with runtime.engine.connect() as conn:
                events = int(await conn.scalar(select(func.count()).select_from(store_events)) or 0)
            env.progress.remove_task(task)
            async with runtime.engine.connect() as conn:
                placed = await conn.scalar(
                    select(func.count()).select_from(people).where(people.c.placed.is_(True))
                )
            if placed != size:
                raise RuntimeError(f"placed {placed} of {size}")
            await runtime.stop(relay_task)
        finally:
            await runtime.engine.dispose()
            await runtime.keys_engine.dispose()
            await env.drop_database(database)
    return PlacementRun(
        candidates=size,
        accept_seconds=accepted - began,
        rank_seconds=ranked - accepted,
        training_seconds=trained - ranked,
        assign_seconds=assigned - trained,
        relay_seconds=relayed - assigned,
        events=events,
        units=unit_count,
        command_posts=24 * unit_count,
    )


def figures_of(runs: list[PlacementRun]) -> list[Figure]:
    return [
        Figure("seconds", "seconds, outcomes on Kafka to members assigned and events acknowledged", "s", tuple(r.seconds for r in runs)),
        Figure("per_second", "candidates placed per second", "candidates/s", tuple(r.per_second for r in runs)),
        Figure("accept_seconds", "consuming outcomes, accepting under quota", "s", tuple(r.accept_seconds for r in runs)),
        Figure("rank_seconds", "allocating ranks (orders of 500)", "s", tuple(r.rank_seconds for r in runs)),
        Figure("training_seconds", "enrolling and completing cohorts of 250", "s", tuple(r.training_seconds for r in runs)),
        Figure("assign_seconds", "assigning under the rule of thirds", "s", tuple(r.assign_seconds for r in runs)),
        Figure("relay_seconds", "waiting for the relay to acknowledge the last events", "s", tuple(r.relay_seconds for r in runs)),
    ]  # fmt: skip


def render(document: dict[str, Any], figures: list[Figure]) -> str:
    p = document["parameters"]
    run = document["runs_detail"][0]
    total = next(f for f in figures if f.key == "seconds").median
    met = "met" if total < TARGET_SECONDS else "missed"
    m = document["machine"]
    lines = [
        "## Integration: screening outcomes to members assigned in thirds",
        "",
        f"{document['date']} on {m['nproc']} cores ({m['cpu_model']}, {m['memory_gib']} GiB), "
        f"PostgreSQL {document['versions'].get('postgresql')}, Kafka {document['versions'].get('kafka')}; "
        f"median of {document['runs']} run(s), (min-max).",
        "",
        f"{p['size']:,} `ScreeningOutcomeDecided` on Kafka (integration track, half CMA, half Platform movements) "
        "consumed and accepted under the 2022 quotas, ranks allocated by the 2019 decree model, "
        f"{p['size'] // COHORT_SIZE} cohorts of {COHORT_SIZE} at Kati enrolled and completed, members assigned to "
        f"{run['units']} units of {UNIT_MEMBERS} plus the armed forces' 250 with every assignment checked against "
        "the rule of thirds (strength and command posts), and the service's outbox drained to Kafka. Time starts "
        f"when the consumer starts. Target: under {TARGET_SECONDS:.0f} s — **{met}** ({total:,.1f} s).",
        "",
        "| Figure | Median (min-max) | Unit |",
        "|---|---|---|",
    ]
    for figure in figures:
        lines.append(
            f"| {figure.label} | {figure.median:,.1f} ({figure.low:,.1f}-{figure.high:,.1f}) | {figure.unit} |"
        )
    lines += ["", f"Events stored and published by the integration service: {run['events']:,}."]
    if p["scale"] != 1.0:
        lines += ["", f"**Scaled run (scale {p['scale']}): not comparable with full runs.**"]
    return "\n".join(lines)


async def run(env: BenchEnv) -> None:
    started = now_iso()
    machine = machine_info()
    size = max(UNIT_MEMBERS, round(SIZE * env.scale) // UNIT_MEMBERS * UNIT_MEMBERS)
    runs: list[PlacementRun] = []
    for _ in range(env.runs):
        runs.append(await placement_run(env, size))
        env.console.log(f"{size:,} candidates: {runs[-1]}")
    figures = figures_of(runs)
    total = figures[0].median
    document: dict[str, Any] = {
        "benchmark": NAME,
        "date": started,
        "finished": now_iso(),
        "runs": env.runs,
        "machine": machine,
        "versions": {**env.versions, **package_versions()},
        "parameters": {"size": size, "scale": env.scale},
        "figures": [f.as_json() for f in figures],
        "runs_detail": [{**r.__dict__, "seconds": r.seconds, "per_second": r.per_second} for r in runs],
        "target": {"seconds": TARGET_SECONDS, "met": total < TARGET_SECONDS},
    }
    json_path = env.write_json(NAME, document)
    docs_path = env.write_section(NAME, render(document, figures))
    status = "[green]met[/]" if document["target"]["met"] else "[red]missed[/]"
    env.console.print(f"{size:,} candidates placed: {total:,.1f} s; target {TARGET_SECONDS:.0f} s: {status}")
    env.console.log(f"wrote {json_path} and the {NAME} section of {docs_path}")
