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
        (who(Role.CNDDR_OFFICER, regions=frozenset({"Gao"})), "refused", "none"),
        (who(Role.MOVEMENT_LIAISON, movement="MNLA"), "granted", "stage_only"),
        (who(Role.MOVEMENT_LIAISON, movement="GATIA"), "not_found", "none"),
        (who(Role.MOVEMENT_LIAISON, Role.AUDITOR, movement="GATIA"), "not_found", "none"),
        (who(Role.DONOR), "refused", "none"),
        (who(Role.OPERATOR), "refused", "none"),
        (who(Role.CHILD_PROTECTION), "refused", "none"),
    ],
)
def test_who_reads_an_adults_path(principal: Principal, outcome: str, view: str) -> None:
    decision = decide(principal, path())

    assert (decision.outcome, decision.view) == (outcome, view)


def test_a_childs_path_is_full_for_child_protection_and_stage_only_for_an_officer() -> None:
    child = path("child_protection:separated")

    assert decide(who(Role.CHILD_PROTECTION), child).view == "full"
    assert decide(who(Role.CNDDR_OFFICER), child).view == "stage_only"


def test_a_path_nobody_has_is_not_found_for_everyone() -> None:
    assert decide(who(Role.AUDITOR), None).outcome == "not_found"


def test_a_region_scoped_officer_is_refused_a_path_whose_region_is_unknown() -> None:
    assert decide(who(Role.CNDDR_OFFICER, regions=frozenset({"Gao"})), path(region=None)).outcome == "refused"
