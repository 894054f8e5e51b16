"""Who may read a path, and how much of it (the rules of ``service_layer.access``)."""

from __future__ import annotations

import pytest

from ddr_pathway.domain.path import PersonPath
from ddr_pathway.service_layer.access import decide
from ddr_runtime.auth.roles import Principal, Role


def path(
    stage: str = "registered", movement: str | None = "MNLA", region: str | None = "Kidal"
) -> PersonPath:
    return PersonPath(
        person_id="p-1", stage=stage, merged_into=None, absorbed=[], movement=movement, region=region,
        stages=[], overdue=[], steps=[],
    )  # fmt: skip


def who(*roles: Role, **claims: object) -> Principal:
    return Principal(subject="u-1", name="u", roles=frozenset(roles), **claims)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("principal", "outcome", "view"),
    [
        (who(Role.AUDITOR), "granted", "full"),
        (who(Role.CNDDR_OFFICER), "granted", "full"),
        (who(Role.CNDDR_OFFICER, regions=frozenset({"Kidal"})), "granted", "full"),
        (who(Role.CNDDR_OFFICER, regions=frozenset({"Gao"})), "not_found", "none"),
        (who(Role.MOVEMENT_LIAISON, movement="MNLA"), "granted", "stage_only"),
        (who(Role.MOVEMENT_LIAISON, movement="GATIA"), "not_found", "none"),
        (who(Role.MOVEMENT_LIAISON, Role.AUDITOR, movement="GATIA"), "not_found", "none"),
        (who(Role.DONOR), "refused", "none"),
        (who(Role.OPERATOR), "refused", "none"),
        (who(Role.CHILD_PROTECTION), "not_found", "none"),
    ],
)
def test_who_reads_an_adults_path(principal: Principal, outcome: str, view: str) -> None:
    decision = decide(principal, path(), child=False)

    assert (decision.outcome, decision.view) == (outcome, view)


@pytest.mark.parametrize(
    "principal",
    [
        who(Role.AUDITOR),
        who(Role.CNDDR_OFFICER),
        who(Role.MOVEMENT_LIAISON, movement="MNLA"),
        who(Role.CNDDR_OFFICER, regions=frozenset({"Kidal"})),
    ],
)
def test_a_childs_path_answers_like_a_missing_one_to_every_role_but_child_protection(
    principal: Principal,
) -> None:
    """Finding 5 (issue 14): the path showed a "restricted" stage with dates for a child."""
    child = decide(principal, path(stage="child_protection:separated"), child=True)
    missing = decide(principal, None, child=False)

    assert (child.outcome, child.view) == (missing.outcome, missing.view) == ("not_found", "none")


def test_child_protection_reads_a_childs_path_in_full() -> None:
    decision = decide(who(Role.CHILD_PROTECTION), path(stage="registered"), child=True)

    assert (decision.outcome, decision.view) == ("granted", "full")


def test_a_role_that_reads_no_path_is_refused_whether_the_person_exists_or_not() -> None:
    """Finding 15 (issue 14): 403 for an existing id and 404 for a missing one told who exists."""
    assert decide(who(Role.DONOR), path(), child=False) == decide(who(Role.DONOR), None, child=False)


def test_an_officer_scoped_to_regions_gets_not_found_for_a_path_with_no_region() -> None:
    assert decide(
        who(Role.CNDDR_OFFICER, regions=frozenset({"Gao"})), path(region=None), child=False
    ).outcome == ("not_found")
