"""Which integration path a candidate takes, from the category screening gave them."""

from __future__ import annotations

from typing import Literal

Path = Literal["reconstituted_forces", "armed_forces_recall", "civil_service"]


def path_for(category: str) -> Path:
    """Former members of the armed forces go back to their corps; civilian cadres to the civil service;
    every other combatant to the reconstituted forces (rank, training, unit under the rule of thirds)."""
    if category == "former_armed_forces":
        return "armed_forces_recall"
    if category == "civilian_cadre":
        return "civil_service"
    return "reconstituted_forces"
