"""Who sees whom in registration (issue 14): liaisons learn nothing of other movements, a child's record
answers like a missing one to all but child protection, a caller's regions bound every read and write,
names never travel in URLs, every read of a person is in the read ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from ddr_registration.domain.members import BirthDate, Category, WeaponHandedOver
from ddr_runtime.auth.roles import Role
from ddr_testkit.ledger import ledger_rows
from ddr_testkit.services import Api, Caller

from .support import liaison, list_file, member, movement, persons_of, upload

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

CHILD: dict[str, Any] = {
    "category": Category.CHILD,
    "birth": BirthDate.year_only(2012),
    "armed": False,
    "weapons": (),
}


def person_by_ref(people: list[dict[str, Any]], ref: str) -> dict[str, Any]:
    return next(p for p in people if p["movement_ref"] == ref)


async def test_a_liaisons_one_row_upload_says_nothing_of_a_person_another_movement_listed(
    officer: Api, caller: Caller, tmp_path: Path
) -> None:
    """Finding 3: a one-row upload answered ``duplicates_suspected: 1`` for anyone listed by any movement."""
    await movement(officer, "MNLA")
    await movement(officer, "GATIA")
    await upload(officer, list_file(tmp_path, [member("M-1", "Bilal Ag Acherif")]), "MNLA")

    probe = await upload(
        liaison(caller, "GATIA"), list_file(tmp_path, [member("G-1", "Bilal Ag Acherif")]), "GATIA"
    )

    assert probe.status_code == 201, probe.text
    assert probe.json()["duplicates_suspected"] is None
    assert len((await officer.get("/duplicates")).json()) == 1  # the CNDDR still has the case to resolve


async def test_a_liaison_is_told_of_no_serial_another_movement_declared(
    officer: Api, caller: Caller, tmp_path: Path
) -> None:
    """Finding 3: a liaison's upload answer and list report named another movement's row for a serial."""
    await movement(officer, "MNLA")
    await movement(officer, "GATIA")
    serial = {"weapons": (WeaponHandedOver(kind="AK-47", serial="KA-77"),)}
    await upload(officer, list_file(tmp_path, [member("M-1", "Ibrahim Ag Assaleh", **serial)]), "MNLA")
    gatia_liaison = liaison(caller, "GATIA")

    answer = (
        await upload(
            gatia_liaison, list_file(tmp_path, [member("G-1", "Hama Ag Mahmoud", **serial)]), "GATIA"
        )
    ).json()
    (row,) = (await gatia_liaison.get(f"/lists/{answer['list_id']}/versions/1/report")).json()

    assert answer["serial_repeats"] == []
    assert (row["flags"], row["serial_declared_also"]) == ([], [])


async def test_a_liaisons_small_uploads_are_refused_once_their_allowance_is_spent_and_the_cnddr_sees_them(
    officer: Api, caller: Caller, tmp_path: Path
) -> None:
    """Finding 3: repeated tiny uploads are rate-limited per liaison and visible to the CNDDR."""
    await movement(officer, "MNLA")
    mnla_liaison = liaison(caller, "MNLA")
    answers = [
        await upload(mnla_liaison, list_file(tmp_path, [member(f"M-{n}", "Ali Ag Ali")]), "MNLA")
        for n in range(6)
    ]

    activity = (await officer.get("/lists/upload-activity")).json()

    assert [a.status_code for a in answers] == [201, 201, 201, 201, 201, 429]
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert [(a["subject"], a["small_uploads"], a["refused_uploads"]) for a in activity] == [
        ("liaison-MNLA", 5, 1)
    ]


async def test_a_childs_record_answers_like_a_missing_one_to_everyone_but_child_protection(
    officer: Api, caller: Caller, tmp_path: Path
) -> None:
    """Findings 5 and 10: registration showed children's names, birth dates and parents to the CNDDR and
    auditors."""
    await movement(officer, "MNLA")
    await upload(
        officer,
        list_file(tmp_path, [member("M-1", "Ali Ag Ali"), member("M-2", "Ag Moussa", **CHILD)]),
        "MNLA",
    )
    protector = caller(Role.CHILD_PROTECTION, subject="cp-1")
    (child,) = await persons_of(protector)
    unknown = "00000000-0000-0000-0000-000000000000"

    for reader in (officer, caller(Role.AUDITOR, subject="auditor-1"), liaison(caller, "MNLA")):
        hidden, missing = (
            await reader.get(f"/persons/{child['person_id']}"),
            await reader.get(f"/persons/{unknown}"),
        )
        assert (hidden.status_code, hidden.json()["type"], hidden.json()["title"]) == (
            missing.status_code,
            missing.json()["type"],
            missing.json()["title"],
        )
        assert hidden.status_code == 404
        assert [p["movement_ref"] for p in await persons_of(reader)] == ["M-1"]
    assert (await protector.get(f"/persons/{child['person_id']}")).json()["full_name"] == "Ag Moussa"


async def test_someone_under_18_by_birth_year_is_a_child_whatever_category_the_list_gave(
    officer: Api, caller: Caller, tmp_path: Path
) -> None:
    """Finding 10: a child is anyone under 18 at registration, not only those a movement listed as one."""
    await movement(officer, "MNLA")
    young = member("M-1", "Ag Moussa", birth=BirthDate.year_only(2015))
    await upload(officer, list_file(tmp_path, [young]), "MNLA")

    assert await persons_of(officer) == []
    assert [p["movement_ref"] for p in await persons_of(caller(Role.CHILD_PROTECTION))] == ["M-1"]


async def test_the_list_report_leaves_a_childs_row_out_instead_of_marking_it(
    officer: Api, tmp_path: Path
) -> None:
    """Finding 5: a list report row with ``person_id: null`` marked a child."""
    await movement(officer, "MNLA")
    answer = await upload(
        officer,
        list_file(tmp_path, [member("M-1", "Ali Ag Ali"), member("M-2", "Ag Moussa", **CHILD)]),
        "MNLA",
    )

    rows = (await officer.get(f"/lists/{answer.json()['list_id']}/versions/1/report")).json()

    assert [(r["line"], r["status"], r["person_id"] is not None) for r in rows] == [
        (2, "pre-registered", True)
    ]


async def test_figures_count_no_child_and_suppress_a_count_of_children_below_five(
    officer: Api, caller: Caller, tmp_path: Path
) -> None:
    """Finding 5: child counts stepped through dates reached a count of 1 for donors."""
    await movement(officer, "MNLA")
    await upload(
        officer,
        list_file(tmp_path, [member("M-1", "Ali Ag Ali"), member("M-2", "Ag Moussa", **CHILD)]),
        "MNLA",
    )

    figures = (await caller(Role.DONOR).get("/figures")).json()

    assert (figures["listed"], figures["children"]) == (1, {"listed": None, "registered": None})


async def test_a_cnddr_officer_scoped_to_gao_reads_and_finds_no_kidal_person(
    officer: Api, caller: Caller, tmp_path: Path
) -> None:
    """Finding 9: a CNDDR officer scoped to Gao listed Kidal people by name."""
    await movement(officer, "MNLA")
    people = [
        member(f"K-{n}", f"Bilal Ag {family}", region="Kidal")
        for n, family in enumerate(("Intalla", "Acherif", "Ahmed"))
    ]
    people.append(member("G-1", "Bilal Ag Gao", region="Gao", cercle="Gao"))
    await upload(officer, list_file(tmp_path, people), "MNLA")
    kidal = person_by_ref(await persons_of(officer), "K-0")
    gao_officer = caller(Role.CNDDR_OFFICER, subject="cnddr-gao", regions=["Gao"])

    first_page = await persons_of(gao_officer, limit=1)
    by_name = await persons_of(gao_officer, name="Bilal")
    direct = await gao_officer.get(f"/persons/{kidal['person_id']}")

    assert [p["movement_ref"] for p in first_page] == ["G-1"]  # filtered in the query, not after paging
    assert [p["movement_ref"] for p in by_name] == ["G-1"]
    assert direct.status_code == 404


async def test_a_cnddr_officer_scoped_to_gao_cannot_correct_a_kidal_person_nor_move_one_to_kidal(
    officer: Api, caller: Caller, tmp_path: Path
) -> None:
    """Finding 9: the regions claim bounds writes too."""
    await movement(officer, "MNLA")
    await upload(
        officer,
        list_file(
            tmp_path,
            [member("K-1", "Ali Ag Kidal", region="Kidal"), member("G-1", "Ali Ag Gao", region="Gao")],
        ),
        "MNLA",
    )
    people = await persons_of(officer)
    kidal, gao = person_by_ref(people, "K-1"), person_by_ref(people, "G-1")
    gao_officer = caller(Role.CNDDR_OFFICER, subject="cnddr-gao", regions=["Gao"])

    into_kidal = await gao_officer.post(
        f"/persons/{kidal['person_id']}/corrections",
        {"full_name": "Ali Ag Kidali", "reason": "spelling"},
        if_match=f'"{kidal["version"]}"',
    )
    moved = await gao_officer.post(
        f"/persons/{gao['person_id']}/corrections",
        {"region": "Kidal", "reason": "moved"},
        if_match=f'"{gao["version"]}"',
    )

    assert into_kidal.status_code == 404
    assert moved.status_code == 422
    assert [p["region"] for p in await persons_of(officer, region="Kidal")] == ["Kidal"]


async def test_a_name_is_searched_for_in_a_body_and_never_accepted_in_a_url(
    officer: Api, tmp_path: Path
) -> None:
    """Finding 8: ``GET /persons?name=`` put the name in URLs, spans and access logs."""
    await movement(officer, "MNLA")
    await upload(officer, list_file(tmp_path, [member("M-1", "Bilal Ag Acherif")]), "MNLA")

    in_url = await officer.get("/persons", name="Bilal")
    in_body = await officer.post("/persons/search", {"name": "Bilal"})

    assert in_url.status_code == 422
    assert [p["full_name"] for p in in_body.json()] == ["Bilal Ag Acherif"]


async def test_a_name_search_finds_any_spelling_and_pages_in_the_query(officer: Api, tmp_path: Path) -> None:
    """Finding 13: name search opened up to 5,000 identities per call and never found anyone past them; the
    blind index finds every holder of the name's tokens in SQL."""
    await movement(officer, "MNLA")
    people = [member(f"M-{n}", f"Ali Ag {family}") for n, family in enumerate(("Ali", "Bilal", "Ahmed"))]
    people += [member("M-8", "Mohamed Ag Intalla"), member("M-9", "Muhammad Ould Intallah")]
    await upload(officer, list_file(tmp_path, people), "MNLA")

    first = (await officer.post("/persons/search", {"name": "Mohammed Intalla", "limit": 1})).json()
    second = (
        await officer.post("/persons/search", {"name": "Mohammed Intalla", "limit": 1, "offset": 1})
    ).json()

    assert [p["movement_ref"] for p in first + second] == ["M-8", "M-9"]


async def test_every_read_of_a_person_and_every_refused_one_is_in_the_read_ledger(
    officer: Api, caller: Caller, tmp_path: Path
) -> None:
    """Finding 15: reads were recorded only for pathway's paths."""
    await movement(officer, "MNLA")
    await upload(officer, list_file(tmp_path, [member("M-1", "Ali Ag Ali")]), "MNLA")
    (person,) = await persons_of(officer)
    await officer.get(
        f"/persons/{person['person_id']}",
    )
    await liaison(caller, "GATIA").get(f"/persons/{person['person_id']}")

    reads = (await caller(Role.AUDITOR).get(f"/reads/{person['person_id']}")).json()

    assert [(r["reader"], r["route"], r["outcome"]) for r in reads] == [
        ("cnddr-officer-1", "GET /persons", "shown"),
        ("cnddr-officer-1", "GET /persons/{person_id}", "shown"),
        ("liaison-GATIA", "GET /persons/{person_id}", "not_visible"),
    ]


async def test_an_offset_past_its_bound_is_refused_with_422_on_every_list_route(officer: Api) -> None:
    """Finding 15: ``offset=1e20`` gave a 500 on every list route."""
    answers = [
        await officer.get(path, offset="100000000000000000000")
        for path in ("/persons", "/weapons", "/duplicates", "/lists/x/versions/1/report")
    ]

    assert [a.status_code for a in answers] == [422, 422, 422, 422]


async def test_the_read_ledger_is_told_which_persons_read_are_children_and_hides_only_a_childs_reads(
    app: FastAPI, officer: Api, caller: Caller, tmp_path: Path
) -> None:
    """Issue 14 review item 4: registration recorded reads without saying which person is a child, so the
    ledger guessed from the reader's roles: a focal point (CNDDR officer holding child protection) reading an
    adult was hidden from auditors like a child's read. Now every read says: an auditor sees the focal
    point's read of the adult, never its read of the child (only the refusals any unknown id gets)."""
    await movement(officer, "MNLA")
    child_member = member(
        "M-1", "Ag Moussa", weapons=(), category=Category.CHILD, birth=BirthDate.year_only(2012)
    )
    await upload(officer, list_file(tmp_path, [child_member, member("M-2", "Ag Intalla")]), "MNLA")
    focal_point = caller(Role.CNDDR_OFFICER, Role.CHILD_PROTECTION, subject="focal-point-1")
    people = {p["movement_ref"]: p["person_id"] for p in await persons_of(focal_point)}
    child, adult = people["M-1"], people["M-2"]
    for person in (child, adult):
        await focal_point.get(f"/persons/{person}")
        await officer.get(f"/persons/{person}")
    auditor = caller(Role.AUDITOR, subject="auditor-1")

    seen = {person: (await auditor.get(f"/reads/{person}")).json() for person in (child, adult)}

    assert [(r["reader"], r["outcome"]) for r in seen[child]] == [("cnddr-officer-1", "not_visible")]
    assert ("focal-point-1", "GET /persons/{person_id}", "shown") in [
        (r["reader"], r["route"], r["outcome"]) for r in seen[adult]
    ]
    engine = app.state.read_ledger.engine
    assert {told for _, _, told in await ledger_rows(engine, child)} == {True}
    assert {told for _, _, told in await ledger_rows(engine, adult)} == {False}
