"""Which participants are linked to a child, as CVR knows it: the one condition every read applies.

A participant whose linked registration id CVR noted as a child's, or a possible child's (``PersonChildNoted``
on the person's stream in CVR's store, projected into ``cvr_child_persons``: screening identified them, or registration's birth year makes them
one, after they were enrolled as an adult), answers every role but child protection exactly like a
participant that does not exist: in lists, counts, reports and direct reads.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, not_, or_, select, true

from ddr_cvr.adapters.tables import child_persons, participants
from ddr_runtime.auth.roles import Principal
from ddr_runtime.auth.visibility import sees_children

CHILD_NOTED = "%.PersonChildNoted.v%"


def linked_to_a_child() -> ColumnElement[bool]:
    """On ``cvr_participants`` rows: the linked person is noted as a child (``cvr_child_persons``, a few rows:
    the query starts from them and reaches participants through their ``person_id`` index)."""
    return participants.c.person_id.in_(select(child_persons.c.person_id))


def shown_participants(principal: Principal) -> ColumnElement[bool]:
    """On ``cvr_participants`` rows: those the caller may see (child protection: all)."""
    if sees_children(principal):
        return true()
    return or_(participants.c.person_id.is_(None), not_(linked_to_a_child()))  # NOT IN is NULL for NULL
