"""The one rule of who sees children, medical and vetting detail, and how protected counts are shown."""

from __future__ import annotations

import itertools

import pytest

from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.auth.visibility import (
    disclose_count,
    sees_children,
    sees_medical_detail,
    sees_vetting_detail,
)


def holder(*roles: Role) -> Principal:
    return Principal(subject="s", name="S", roles=frozenset(roles), movement="MNLA", partner="ngo")


@pytest.mark.parametrize("role", list(Role))
def test_only_child_protection_sees_children(role: Role) -> None:
    assert sees_children(holder(role)) is (role == Role.CHILD_PROTECTION)


@pytest.mark.parametrize("role", list(Role))
def test_medical_detail_is_seen_by_examiners_and_auditors_only(role: Role) -> None:
    assert sees_medical_detail(holder(role)) is (role in (Role.EXAMINER, Role.AUDITOR))


@pytest.mark.parametrize("role", list(Role))
def test_vetting_detail_is_seen_by_vetting_officers_and_auditors_only(role: Role) -> None:
    assert sees_vetting_detail(holder(role)) is (role in (Role.VETTING_OFFICER, Role.AUDITOR))


@pytest.mark.parametrize(
    ("count", "shown"), [(0, None), (1, None), (4, None), (5, 5), (9, 5), (10, 10), (23, 20)]
)
def test_a_protected_count_is_suppressed_below_five_and_rounded_down_to_five(
    count: int, shown: int | None
) -> None:
    assert disclose_count(count) == shown


def test_stepping_a_protected_count_one_by_one_never_shows_a_difference_below_five() -> None:
    shown = [disclose_count(n) for n in range(40)]
    steps = {b - a for a, b in itertools.pairwise(shown) if a is not None and b is not None and a != b}

    assert steps == {5}
