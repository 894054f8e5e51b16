"""Reinsertion, end to end: screening outcomes on Kafka to first-tranche disbursement events on Kafka.

The issue's benchmark: enrol 16,000 beneficiaries (the 2019 DDR share) with packages and a first tranche each,
in under 60 s on the 2-core machine, from screening events to disbursement events on Kafka.

One timed run, in a new PostgreSQL database and a topic namespace of its own:

1. (untimed) a package catalogue and a World Bank budget line; 16,000 ``ScreeningOutcomeDecided`` (track
   ``reinsertion``) appended by a screening publisher (the runtime's store and relay) and acknowledged by Kafka;
2. (timed from here) the reinsertion app starts (its Kafka consumers join and note each outcome as an event
   of the person's beneficiary stream, projected into the read model), and, as candidates arrive, they are
   enrolled in batches of 1,000 through the service layer (``enrol``: enrolment, counselling profile, package
   granted, funds committed on the line) and their first tranche paid (``disburse``: tranche paid in the
   beneficiary's stream, funds disbursed on the line);
3. the service's outbox relay drains every event to Kafka until acknowledged (the clock stops when the
   outbox is empty); the topic's end offsets are then checked against the events stored.
"""

from __future__ import annotations

import asyncio
import base64
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import func, select

from ddr_contracts.screening import ScreeningOutcomeDecided
from ddr_reinsertion.adapters.queries import Queries
from ddr_reinsertion.adapters.tables import beneficiaries, metadata
from ddr_reinsertion.bootstrap import build_app
from ddr_reinsertion.domain import commands as c
from ddr_reinsertion.domain.catalogue import PackageTerms
from ddr_reinsertion.domain.values import TrancheTerms
from ddr_reinsertion.service_layer import handlers
from ddr_reinsertion.service_layer.desk import Desk
from ddr_runtime.config import Settings
from ddr_runtime.eventstore.schema import events as events_table
from ddr_runtime.eventstore.store import Causation, NewEvent
from ddr_runtime.kernel import Recording
from ddr_runtime.service import ServiceRuntime
from ddr_testkit.upstream import UpstreamService, create_namespace_topics, new_namespace
from tests.bench import BenchEnv, Figure, machine_info, now_iso, package_versions

NAME = "reinsertion"
SIZE = 16_000
BATCH = 1_000
TARGET_SECONDS = 60.0
CAUSE = Causation(actor="bench")
MASTER_KEY = bytes(range(32))
REGIONS = ("Gao", "Kidal", "Ménaka", "Mopti", "Ségou", "Tombouctou")
ENROLLED_ON = datetime.now(UTC).date()  # business time: the outcomes are decided as the run starts
D = Decimal


@dataclass(frozen=True)
class ReinsertionRun:
    beneficiaries: int
    seconds: float
    consumed_seconds: float  # until every outcome was in the read model (checked between batches)
    enrolled_and_paid_seconds: float  # until the last first tranche was paid
    events_stored: int
    events_on_kafka: int
    committed: int  # whole XOF
    disbursed: int


def scaled_size(env: BenchEnv) -> int:
    return max(100, round(SIZE * env.scale))


def outcome(n: int) -> ScreeningOutcomeDecided:
    return ScreeningOutcomeDecided(
        person_id=f"P{n:06d}",
        decision_id=str(uuid.uuid4()),
        track="reinsertion",
        reason_code="unarmed_member",
        rule_version="2019.1",
        previous_track=None,
        supersedes_decision_id=None,
        by_appeal=False,
        movement=("CMA", "Plateforme", "CMI")[n % 3],
        category="associated_woman" if n % 10 == 0 else "combatant",
        sex="F" if n % 10 == 0 else "M",
        region=REGIONS[n % len(REGIONS)],
        birth_year=1980 + n % 20,
        rank="soldat",
        armed=False,
    )


def package(package_id: str, kind: str, caseload: str, base: int) -> PackageTerms:
    return PackageTerms(
        package_id=package_id,
        package_version=0,
        kind=kind,
        title=package_id,
        caseloads=(caseload,),
        currency="XOF",
        base_amount=D(base),
        category_supplements={},
        rank_supplements={"capitaine": D(100_000)},
        per_dependant_amount=D(10_000),
        max_dependants=4,
        tranches=(
            TrancheTerms(1, 0, share_percent=D(50)),
            TrancheTerms(2, 90, share_percent=D(30), condition="training_attended"),
            TrancheTerms(3, 180, share_percent=D(20), condition="follow_up_visit"),
        ),
        follow_up_after_days=(90, 180),
        effective_on=ENROLLED_ON,
    )


def settings_for(env: BenchEnv, database: str, var_dir: Path, namespace: str) -> Settings:
    url = env.database_url(database, driver=None)
    return Settings(
        service_name="reinsertion",
        database_url=url,
        keystore_url=url,
        master_key=base64.b64encode(MASTER_KEY).decode(),
        kafka_bootstrap_servers=env.kafka_bootstrap_servers,
        var_dir=var_dir,
        topic_namespace=namespace,
    )


async def waiting(runtime: ServiceRuntime, limit: int) -> list[str]:
    async with runtime.engine.connect() as conn:
        rows = await conn.execute(
            select(beneficiaries.c.person_id).where(beneficiaries.c.stage == "waiting").limit(limit)
        )
        return [row.person_id for row in rows]


async def arrived(runtime: ServiceRuntime) -> int:
    """How many outcomes the consumer has noted (people past stage ``none``)."""
    async with runtime.engine.connect() as conn:
        query = select(func.count()).select_from(beneficiaries).where(beneficiaries.c.stage != "none")
        return int((await conn.execute(query)).scalar_one())


def enrolment(person_id: str, n: int) -> c.Enrol:
    woman = person_id.endswith("0")
    return c.Enrol(
        person_id=person_id,
        package_id="faga-iga" if woman else ("livestock", "small-trade", "transport")[n % 3],
        package_version=None,
        line_id="wb-2019",
        skills=("commerce",),
        literacy="basic",
        area_of_return=f"commune {n % 40}",
        dependants=n % 5,
        enrolled_on=ENROLLED_ON,
    )


async def setup(desk: Desk) -> None:
    """Four packages of the catalogue and the World Bank line, with its first cash."""
    for terms in (
        package("livestock", "livestock", "ex_combatant", 500_000),
        package("small-trade", "small_trade", "ex_combatant", 400_000),
        package("transport", "transport", "ex_combatant", 600_000),
        package("faga-iga", "income_generating_activity", "faga", 450_000),
    ):
        await handlers.publish_package(desk, terms, CAUSE)
    line = c.OpenBudgetLine("wb-2019", "World Bank", "IDA grant", "XOF", D(20_000_000_000), ENROLLED_ON)
    await handlers.open_budget_line(desk, line, Recording(), CAUSE)
    receipt = c.ReceiveFunds("wb-2019", D(10_000_000_000), "DA-1", ENROLLED_ON)
    await handlers.receive_funds(desk, receipt, Recording(), CAUSE)


async def publish_outcomes(settings: Settings, size: int) -> None:
    """The screening outcomes, stored by a screening publisher and acknowledged by Kafka."""
    async with UpstreamService("screening", settings) as screening:
        store = screening.runtime.store
        for start in range(0, size, 2000):
            streams = [
                (f"screening-{n}", [NewEvent(outcome(n), f"P{n:06d}")])
                for n in range(start, min(size, start + 2000))
            ]
            await store.append_new_streams(streams, CAUSE)
        await screening.publish()


async def enrol_and_pay(desk: Desk, ready: list[str], done: int) -> tuple[Decimal, Decimal]:
    """One batch enrolled, then its first tranches paid; the amounts committed and disbursed."""
    recording = Recording()
    outcomes = await handlers.enrol(
        desk, [enrolment(p, done + i) for i, p in enumerate(ready)], recording, CAUSE
    )
    enrolled = [o.result for o in outcomes if o.result is not None]
    if len(enrolled) != len(ready):
        raise RuntimeError(f"refused enrolments: {[o for o in outcomes if o.status == 'refused'][:3]}")
    payments = [c.Disburse(f"pay-{r.commitment_id}", r.person_id, 1, "Gao", ENROLLED_ON) for r in enrolled]
    paid = await handlers.disburse(desk, payments, recording, CAUSE)
    if any(p.status == "refused" for p in paid):
        raise RuntimeError(f"refused payments: {[p for p in paid if p.status == 'refused'][:3]}")
    committed = sum((r.amount for r in enrolled), D(0))
    return committed, sum((p.result.amount for p in paid if p.result is not None), D(0))


def kafka_end_offsets(bootstrap: str, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum(consumer.end_offsets(partitions).values())
    finally:
        consumer.close()


async def reinsertion_run(env: BenchEnv, size: int) -> ReinsertionRun:
    with tempfile.TemporaryDirectory(prefix="ddr-bench-reinsertion-") as tmp:
        folder = Path(tmp)
        namespace = new_namespace()
        create_namespace_topics(env.kafka_bootstrap_servers, namespace, partitions=6)
        database = await env.create_database("reinsertion")
        settings = settings_for(env, database, folder, namespace)
        try:
            app = build_app(settings)
            desk: Desk = app.state.desk
            runtime: ServiceRuntime = app.state.runtime
            # Untimed: the catalogue, the budget line, and the screening outcomes on Kafka.
            await runtime.keystore.create_schema()
            await runtime.store.create_schema()
            async with runtime.engine.begin() as conn:
                await conn.run_sync(metadata.create_all)
            await setup(desk)
            await publish_outcomes(settings, size)
            task = env.progress.add_task(f"enrolling and paying {size:,}", total=size)
            began = time.perf_counter()
            consumed_at: float | None = None
            async with app.router.lifespan_context(app):
                done = 0
                committed = disbursed = D(0)
                while done < size:
                    if consumed_at is None and await arrived(runtime) >= size:
                        consumed_at = time.perf_counter()
                    ready = await waiting(runtime, BATCH)
                    if len(ready) < min(BATCH, size - done):
                        await _pause()
                        continue
                    enrolled_amount, paid_amount = await enrol_and_pay(desk, ready, done)
                    committed += enrolled_amount
                    disbursed += paid_amount
                    done += len(ready)
                    env.progress.update(task, completed=done)
                paid_at = time.perf_counter()
                while await app.state.runtime.relay.backlog():
                    await _pause()
                finished = time.perf_counter()
            env.progress.remove_task(task)
            async with runtime.engine.connect() as conn:
                stored = (await conn.execute(select(func.count()).select_from(events_table))).scalar_one()
            line = await Queries(runtime.engine, runtime.store).budget_line("wb-2019")
            if (line["committed"], line["disbursed"]) != (committed, disbursed):
                raise RuntimeError(f"the ledger does not reconcile: {line} against {committed}, {disbursed}")
            on_kafka = kafka_end_offsets(env.kafka_bootstrap_servers, settings.events_topic("reinsertion"))
        finally:
            await env.drop_database(database)
    return ReinsertionRun(
        beneficiaries=size,
        seconds=finished - began,
        consumed_seconds=(consumed_at or paid_at) - began,
        enrolled_and_paid_seconds=paid_at - began,
        events_stored=stored,
        events_on_kafka=on_kafka,
        committed=int(committed),
        disbursed=int(disbursed),
    )


async def _pause() -> None:
    await asyncio.sleep(0.05)


def render(document: dict[str, Any], figures: list[Figure]) -> str:
    m = document["machine"]
    p = document["parameters"]
    seconds = figures[0].median
    met = "met" if seconds < TARGET_SECONDS else "missed"
    run = document["runs_detail"][0]
    lines = [
        "## Reinsertion: screening outcomes to first-tranche disbursements on Kafka",
        "",
        f"{document['date']} on {m['nproc']} cores ({m['cpu_model']}, {m['memory_gib']} GiB; load average "
        f"{m['load_average_at_start'][0]} at the start, {m['load_average_at_end'][0]} at the end: the machine is "
        "shared, figures drop with the load), "
        f"PostgreSQL {document['versions'].get('postgresql')}, Kafka {document['versions'].get('kafka')}; "
        f"median of {document['runs']} run(s), (min-max).",
        "",
        f"{p['size']:,} `ScreeningOutcomeDecided` (track reinsertion) already on Kafka; the clock starts as the "
        "reinsertion app starts (consumers join and note each outcome in the person's beneficiary stream), "
        f"candidates are enrolled as they arrive, in batches of {BATCH:,}, through the service layer "
        "(beneficiaries and the budget line are aggregates loaded from their events: enrolment, counselling "
        "profile, package granted, funds committed on one World Bank line) and their first tranche paid (in the "
        "beneficiary's stream, funds disbursed on the line); it stops when the outbox relay has had every event "
        "acknowledged by Kafka. "
        f"Target: under {TARGET_SECONDS:.0f} s — **{met}** ({seconds:,.1f} s).",
        "",
        "| Figure | Median (min-max) | Unit |",
        "|---|---|---|",
    ]
    lines += [f"| {f.label} | {f.median:,.1f} ({f.low:,.1f}-{f.high:,.1f}) | {f.unit} |" for f in figures]
    lines += [
        "",
        f"Events stored and on Kafka: {run['events_stored']:,} / {run['events_on_kafka']:,} (the topic's end "
        f"offsets; at-least-once, so Kafka may hold more). Committed {run['committed']:,} XOF, disbursed "
        f"{run['disbursed']:,} XOF, checked equal to the budget line's ledger after the run.",
    ]
    if p["scale"] != 1.0:
        lines += ["", f"**Scaled run (scale {p['scale']}): not comparable with full runs.**"]
    return "\n".join(lines)


async def run(env: BenchEnv) -> None:
    started = now_iso()
    machine = machine_info()
    size = scaled_size(env)
    runs: list[ReinsertionRun] = []
    for _ in range(env.runs):
        runs.append(await reinsertion_run(env, size))
        env.console.log(f"{size:,} beneficiaries: {runs[-1]}")
    machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    figures = [
        Figure("seconds", f"{size:,} beneficiaries: seconds, outcomes on Kafka to disbursements on Kafka", "s",
               tuple(r.seconds for r in runs)),
        Figure("consumed_seconds", "seconds until every outcome was in the read model (seen between batches)", "s",
               tuple(r.consumed_seconds for r in runs)),
        Figure("enrolled_and_paid_seconds", "seconds until the last first tranche was paid", "s",
               tuple(r.enrolled_and_paid_seconds for r in runs)),
        Figure("beneficiaries_per_second", "beneficiaries/s, end to end", "1/s",
               tuple(r.beneficiaries / r.seconds for r in runs)),
    ]  # fmt: skip
    document: dict[str, Any] = {
        "benchmark": NAME,
        "date": started,
        "finished": now_iso(),
        "runs": env.runs,
        "machine": machine,
        "versions": {**env.versions, **package_versions()},
        "parameters": {"size": size, "batch": BATCH, "scale": env.scale},
        "figures": [f.as_json() for f in figures],
        "runs_detail": [r.__dict__ for r in runs],
        "target": {"seconds": TARGET_SECONDS, "met": figures[0].median < TARGET_SECONDS},
    }
    json_path = env.write_json(NAME, document)
    docs_path = env.write_section(NAME, render(document, figures))
    status = "[green]met[/]" if document["target"]["met"] else "[red]missed[/]"
    env.console.print(
        f"{size:,} beneficiaries: {figures[0].median:,.1f} s; target {TARGET_SECONDS:.0f} s: {status}"
    )
    env.console.log(f"wrote {json_path} and the {NAME} section of {docs_path}")
