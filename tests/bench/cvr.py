"""CVR programme report over 5,000 projects and 2 million participants (issue #7).

The issue's benchmark: report generation over 5,000 projects and 2 million participants, under 1 s per report
on the 2-core machine.

Loading (timed apart, in a new PostgreSQL database of the benchmark server, keys in the same database), all of
it through the service layer so that every figure comes from the events' own projection:

1. 100 NGOs registered (``register_ngo``);
2. 5,000 projects, each submitted, cleared by the local review, regional and national appraisal committees
   and given beneficiary counts (``submit_project``, ``decide`` x3, ``record_counts``: five commands, five
   transactions, each appending to the project's stream and projecting in the same transaction);
3. 400 named participants per project (2,000,000 in all) enrolled with ``enrol_participants`` in two batches
   of 200 on two dates: one transaction per batch, one new stream per participant (subject: the participant,
   whose name is sealed under a key of their own, so 2 million subject keys), one bulk insert of events, keys
   and read-model rows.

Commands run from a few concurrent workers (different projects, so no conflicts). The outbox is not drained
to Kafka here (the registration benchmark measures the relay). Then each report of ``programme_report`` (by
year, region, cercle, type, report-style periods, and an earlier ``as_of``) is timed ``REPEATS`` times,
answer encoded to JSON as the API does.
``python -m tests.bench.run --only cvr --runs 1 --scale 0.02`` is a quick smoke run.
"""

from __future__ import annotations

import asyncio
import base64
import os
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from fastapi.encoders import jsonable_encoder
from sqlalchemy import func, select

from ddr_contracts.catalog import REGISTRY
from ddr_contracts.cvr import Committee, VettingOutcome
from ddr_cvr.adapters.tables import figures, participants
from ddr_cvr.domain.participants import Enrolment
from ddr_cvr.domain.policy import CvrPolicy
from ddr_cvr.domain.projects import Counts, Decision, ProjectDraft
from ddr_cvr.service_layer import handlers
from ddr_cvr.service_layer.reports import ReportFilter, parse_periods, programme_report
from ddr_cvr.service_layer.startup import prepare
from ddr_cvr.service_layer.unit import Cvr
from ddr_runtime.config import Settings
from ddr_runtime.eventstore.store import Causation
from ddr_runtime.service import build_runtime
from tests.bench import BenchEnv, Figure, machine_info, now_iso, package_versions

NAME = "cvr"
PROJECTS = 5_000
PARTICIPANTS_PER_PROJECT = 400
NGOS = 100
WORKERS = 6
REPEATS = 5
TARGET_SECONDS = 1.0
SEED = 7
CAUSE = Causation(actor="bench")
MASTER_KEY = bytes(range(32))
MEMBERS = ("chair", "member-2", "member-3")
STAGES: tuple[tuple[Committee, VettingOutcome, int], ...] = (
    ("local_review", "cleared", 30),
    ("regional_appraisal", "not_applicable", 15),
    ("national_appraisal", "not_applicable", 0),
)
PLACES = {
    "Gao": ("Gao", "Ansongo", "Bourem"),
    "Tombouctou": ("Tombouctou", "Goundam", "Diré"),
    "Kidal": ("Kidal", "Tessalit"),
    "Ménaka": ("Ménaka",),
    "Mopti": ("Mopti", "Bandiagara", "Douentza", "Bankass"),
    "Ségou": ("Ségou", "San", "Niono"),
}
TYPES = (
    "vocational_training",
    "infrastructure_rehabilitation",
    "income_generating_activity",
    "lighting_and_security",
    "agriculture_and_gardening",
    "solar_water",
    "animal_husbandry",
    "sensitization",
    "labour_intensive_work",
    "weapons_and_ammunition_management",
)
ASSESSED = ("solar_water", "infrastructure_rehabilitation")  # a technical assessment first: one more command
REPORTS: dict[str, dict[str, Any]] = {
    "by year": {"group_by": "year"},
    "by region": {"group_by": "region"},
    "by cercle (Mopti, Ségou)": {"group_by": "cercle", "regions": ("Mopti", "Ségou")},
    "by type": {"group_by": "project_type"},
    "in the report's periods": {"group_by": "year", "periods": "2013-2015,2015-2021,2021-2022,2022-2023"},
    "by region as of 2018-06-30": {"group_by": "region", "as_of": date(2018, 6, 30)},
}


async def in_workers(
    items: list[Any], work: Callable[[Any], Awaitable[None]], on_done: Callable[[], None]
) -> None:
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)

    async def worker() -> None:
        while not queue.empty():
            await work(queue.get_nowait())
            on_done()

    await asyncio.gather(*(worker() for _ in range(WORKERS)))


def project_plan(count: int) -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    plan = []
    for k in range(count):
        region = rng.choice(list(PLACES))
        year = rng.randint(2013, 2023)
        approved = date(year, rng.randint(1, 10), rng.randint(1, 28))
        plan.append(
            {
                "id": f"p{k:05d}",
                "partner": f"ngo-{rng.randrange(NGOS):03d}",
                "region": region,
                "cercle": rng.choice(PLACES[region]),
                "type": TYPES[k % len(TYPES)],
                "budget": Decimal(rng.randrange(20_000, 100_000)),
                "approved": approved,
                "direct": rng.randrange(400, 2_000),
                "seed": rng.randrange(1 << 30),
            }
        )
    return plan


async def load_project(cvr: Cvr, item: dict[str, Any]) -> None:
    submitted = item["approved"] - timedelta(days=60)
    draft = ProjectDraft(
        title=f"Projet {item['id']}",
        project_type=item["type"],
        region=item["region"],
        cercle=item["cercle"],
        commune=item["cercle"],
        location=item["cercle"],
        budget=item["budget"],
        currency="USD",
        duration_months=12,
        planned_start=item["approved"],
        armed_groups_active=False,
        direct_beneficiaries_target=item["direct"],
    )
    await handlers.submit_project(cvr, item["id"], item["partner"], draft, submitted, CAUSE)
    if item["type"] in ASSESSED:
        await handlers.record_technical_assessment(
            cvr, item["id"], "DNH", f"TA-{item['id']}", submitted, True, (), None, CAUSE
        )
    for committee, vetting, days_before in STAGES:
        on = item["approved"] - timedelta(days=days_before)
        decision = Decision(committee, on, MEMBERS, "cleared", human_rights_vetting=vetting)
        await handlers.decide(cvr, item["id"], decision, None, CAUSE)
    women = item["direct"] // 2
    counts = Counts(
        item["approved"] + timedelta(days=200),
        item["direct"],
        women,
        item["direct"] * 3,
        women * 3,
        "partner_report",
    )
    await handlers.record_counts(cvr, item["id"], counts, None, CAUSE)


async def enrol_batch(cvr: Cvr, item: tuple[dict[str, Any], int]) -> None:
    project, batch = item
    rng = random.Random(project["seed"] + batch)
    size = PARTICIPANTS_PER_PROJECT // 2
    on = project["approved"] + timedelta(days=10 + 60 * batch)
    enrolments = [
        Enrolment(
            category="community",
            sex="F" if rng.random() < 0.52 else "M",
            enrolled_on=on,
            birth_year=rng.randint(1970, 2006),
            full_name=f"Participant {project['id']}-{batch}-{n}",
        )
        for n in range(size)
    ]
    await handlers.enrol_participants(cvr, project["id"], enrolments, CAUSE)


async def run(env: BenchEnv) -> None:
    started = now_iso()
    machine = machine_info()
    project_count = max(50, round(PROJECTS * env.scale))
    database = await env.create_database("cvr")
    url = env.database_url(database, driver=None)
    with tempfile.TemporaryDirectory(prefix="ddr-bench-cvr-") as tmp:
        settings = Settings(
            service_name="cvr",
            database_url=url,
            keystore_url=url,
            master_key=base64.b64encode(MASTER_KEY).decode(),
            kafka_bootstrap_servers=env.kafka_bootstrap_servers,
            var_dir=Path(tmp),
        )
        runtime = build_runtime("cvr", REGISTRY, settings)
        cvr = Cvr(store=runtime.store, policy=CvrPolicy())
        try:
            await runtime.keystore.create_schema()
            await prepare(cvr)
            load = await load_all(env, cvr, project_plan(project_count))
            timings = await time_reports(cvr)
            async with cvr.engine.connect() as conn:
                participant_rows = (
                    await conn.execute(select(func.count()).select_from(participants))
                ).scalar_one()
                figure_rows = (await conn.execute(select(func.count()).select_from(figures))).scalar_one()
        finally:
            await runtime.engine.dispose()
            await runtime.keys_engine.dispose()
            await env.drop_database(database)
    machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    report_figures = [
        Figure(f"report.{key}", f"report {label}", "ms", tuple(ms))
        for key, (label, ms) in enumerate(timings.items())
    ]
    worst = max(max(f.values) for f in report_figures) / 1000
    document: dict[str, Any] = {
        "benchmark": NAME,
        "date": started,
        "finished": now_iso(),
        "runs": env.runs,
        "machine": machine,
        "versions": {**env.versions, **package_versions()},
        "parameters": {
            "projects": project_count,
            "participants": participant_rows,
            "figure_rows": figure_rows,
            "workers": WORKERS,
            "repeats": REPEATS,
            "scale": env.scale,
        },
        "load": load,
        "figures": [f.as_json() for f in report_figures],
        "target": {"seconds": TARGET_SECONDS, "met": worst < TARGET_SECONDS, "worst_seconds": worst},
    }
    json_path = env.write_json(NAME, document)
    docs_path = env.write_section(NAME, render(document, report_figures))
    status = "[green]met[/]" if document["target"]["met"] else "[red]missed[/]"
    env.console.print(
        f"CVR reports over {project_count:,} projects / {participant_rows:,} participants: worst {worst * 1000:,.0f} ms; target 1 s: {status}"
    )
    env.console.log(f"wrote {json_path} and the {NAME} section of {docs_path}")


async def load_all(env: BenchEnv, cvr: Cvr, plan: list[dict[str, Any]]) -> dict[str, Any]:
    began = time.perf_counter()
    for n in range(NGOS):
        await handlers.register_ngo(cvr, f"ngo-{n:03d}", f"ONG {n}", ("Mopti",), date(2012, 1, 1), CAUSE)
    task = env.progress.add_task(f"{len(plan):,} projects through the workflow", total=len(plan))
    await in_workers(plan, lambda item: load_project(cvr, item), lambda: env.progress.advance(task))
    env.progress.remove_task(task)
    projects_done = time.perf_counter()
    batches = [(item, batch) for batch in (0, 1) for item in plan]
    task = env.progress.add_task(f"{len(plan) * PARTICIPANTS_PER_PROJECT:,} participants", total=len(batches))
    await in_workers(batches, lambda item: enrol_batch(cvr, item), lambda: env.progress.advance(task))
    env.progress.remove_task(task)
    participants_done = time.perf_counter()
    participant_count = len(plan) * PARTICIPANTS_PER_PROJECT
    commands = sum(6 if item["type"] in ASSESSED else 5 for item in plan)
    return {
        "projects_seconds": round(projects_done - began, 1),
        "project_commands": commands,
        "project_commands_per_second": round(commands / (projects_done - began), 1),
        "participants_seconds": round(participants_done - projects_done, 1),
        "participants_per_second": round(participant_count / (participants_done - projects_done), 1),
    }


async def time_reports(cvr: Cvr) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    for label, spec in REPORTS.items():
        periods = parse_periods(spec["periods"]) if "periods" in spec else None
        report_filter = ReportFilter(regions=spec.get("regions", ()))
        ms = []
        for _ in range(REPEATS):
            began = time.perf_counter()
            answer = await programme_report(
                cvr, spec["group_by"], spec.get("as_of", date(2024, 1, 1)), report_filter, periods
            )
            orjson.dumps(jsonable_encoder(answer))
            ms.append((time.perf_counter() - began) * 1000)
        timings[label] = ms
    return timings


def render(document: dict[str, Any], report_figures: list[Figure]) -> str:
    p, load, m = document["parameters"], document["load"], document["machine"]
    worst = document["target"]["worst_seconds"]
    met = "met" if document["target"]["met"] else "missed"
    lines = [
        "## CVR: programme report over 5,000 projects and 2 million participants",
        "",
        f"{document['date']} on {m['nproc']} cores ({m['cpu_model']}, {m['memory_gib']} GiB), "
        f"PostgreSQL {document['versions'].get('postgresql')}; load average {m['load_average_at_start'][0]:.1f} at "
        f"start, {m['load_average_at_end'][0]:.1f} at end (the machine was shared with other sessions' test runs); "
        f"each report timed {p['repeats']} times (median, min-max).",
        "",
        f"{p['projects']:,} projects and {p['participants']:,} named participants loaded through the service layer "
        f"({p['workers']} concurrent workers): every project submitted, cleared by the three committees and counted "
        f"(5 commands each, 6 for water and construction, which need a technical assessment: "
        f"{load['project_commands']:,} commands, {load['projects_seconds']:,.0f} s, "
        f"{load['project_commands_per_second']:,.0f} commands/s); "
        f"participants enrolled 200 per transaction, one stream and one subject key each "
        f"({load['participants_seconds']:,.0f} s, {load['participants_per_second']:,.0f} participants/s). "
        f"The report reads the projected figures ({p['figure_rows']:,} dated rows), never the events or participants. "
        f"Target: under {TARGET_SECONDS:.0f} s per report — **{met}** (worst single run {worst * 1000:,.0f} ms).",
        "",
        "| Report | Median (min-max) | Unit |",
        "|---|---|---|",
    ]
    lines += [
        f"| {f.label} | {f.median:,.1f} ({f.low:,.1f}-{f.high:,.1f}) | {f.unit} |" for f in report_figures
    ]
    if p["scale"] != 1.0:
        lines += ["", f"**Scaled run (scale {p['scale']}): not comparable with full runs.**"]
    return "\n".join(lines)
