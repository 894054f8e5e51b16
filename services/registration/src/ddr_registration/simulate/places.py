"""Movements and places of northern and central Mali for synthetic lists.

Movement weights are invented for demos; the coalitions are the report's (CMA, Platform, CMI). Regions,
cercles and communes are real, a few of each, spelt as on Malian administrative lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ddr_registration.simulate.names import Ethnicity


@dataclass(frozen=True, slots=True)
class Movement:
    code: str
    coalition: str
    weight: float
    ethnicities: tuple[tuple[Ethnicity, float], ...]
    regions: tuple[tuple[str, float], ...]


MOVEMENTS: Final[tuple[Movement, ...]] = (
    Movement(
        "MNLA",
        "CMA",
        0.17,
        (("tamasheq", 0.85), ("arab", 0.05), ("songhai", 0.05), ("fulfulde", 0.05)),
        (("Kidal", 0.45), ("Tombouctou", 0.2), ("Gao", 0.15), ("Ménaka", 0.15), ("Taoudéni", 0.05)),
    ),
    Movement(
        "HCUA",
        "CMA",
        0.16,
        (("tamasheq", 0.9), ("arab", 0.05), ("songhai", 0.05)),
        (("Kidal", 0.55), ("Tombouctou", 0.2), ("Gao", 0.1), ("Ménaka", 0.1), ("Taoudéni", 0.05)),
    ),
    Movement(
        "MAA-CMA",
        "CMA",
        0.07,
        (("arab", 0.85), ("tamasheq", 0.1), ("songhai", 0.05)),
        (("Tombouctou", 0.45), ("Taoudéni", 0.3), ("Gao", 0.2), ("Kidal", 0.05)),
    ),
    Movement(
        "MAA-Platform",
        "Platform",
        0.07,
        (("arab", 0.8), ("songhai", 0.1), ("tamasheq", 0.1)),
        (("Gao", 0.45), ("Tombouctou", 0.35), ("Taoudéni", 0.2)),
    ),
    Movement(
        "CMFPR",
        "Platform",
        0.09,
        (("songhai", 0.55), ("fulfulde", 0.3), ("bambara", 0.08), ("dogon", 0.07)),
        (("Gao", 0.45), ("Tombouctou", 0.25), ("Mopti", 0.25), ("Ségou", 0.05)),
    ),
    Movement(
        "CPA",
        "Platform",
        0.05,
        (("tamasheq", 0.6), ("arab", 0.2), ("songhai", 0.2)),
        (("Gao", 0.4), ("Kidal", 0.3), ("Tombouctou", 0.3)),
    ),
    Movement(
        "GATIA",
        "Platform",
        0.14,
        (("tamasheq", 0.85), ("arab", 0.05), ("songhai", 0.1)),
        (("Gao", 0.35), ("Ménaka", 0.35), ("Kidal", 0.15), ("Tombouctou", 0.15)),
    ),
    Movement(
        "CMI",
        "CMI",
        0.25,
        (
            ("tamasheq", 0.35),
            ("songhai", 0.22),
            ("fulfulde", 0.18),
            ("arab", 0.1),
            ("bambara", 0.08),
            ("dogon", 0.07),
        ),
        (("Gao", 0.3), ("Tombouctou", 0.25), ("Ménaka", 0.15), ("Mopti", 0.2), ("Ségou", 0.1)),
    ),
)
MOVEMENT_CODES: Final = tuple(movement.code for movement in MOVEMENTS)

# region -> cercle -> communes (empty: the lists seldom name one)
REGIONS: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "Kidal": {
        "Kidal": ("Kidal", "Anéfis", "Essouk"),
        "Tessalit": ("Tessalit", "Aguelhok", "Adjelhoc"),
        "Abeïbara": ("Abeïbara", "Boghassa", "Tinzawatène"),
        "Tin-Essako": ("Tin-Essako", "Intadjedite"),
    },
    "Gao": {
        "Gao": ("Gao", "Soni Aly Ber", "Anchawadi", "Gounzoureye", "Tilemsi"),
        "Ansongo": ("Ansongo", "Bara", "Ouattagouna", "Talataye"),
        "Bourem": ("Bourem", "Bamba", "Témera", "Taboye"),
    },
    "Tombouctou": {
        "Tombouctou": ("Tombouctou", "Ber", "Alafia", "Lafia"),
        "Goundam": ("Goundam", "Tonka", "Tilemsi"),
        "Diré": ("Diré", "Haïbongo"),
        "Niafunké": ("Niafunké", "Léré", "Soumpi"),
        "Gourma-Rharous": ("Gourma-Rharous", "Bambara-Maoudé", "Gossi"),
    },
    "Ménaka": {
        "Ménaka": ("Ménaka", "Alata", "Inékar"),
        "Andéramboukane": ("Andéramboukane",),
        "Tidermène": ("Tidermène",),
        "Inékar": ("Inékar",),
    },
    "Taoudéni": {
        "Taoudéni": (),
        "Achouratt": (),
        "Arawane": (),
        "Boujbeha": (),
    },
    "Mopti": {
        "Mopti": ("Mopti", "Sio", "Socoura"),
        "Douentza": ("Douentza", "Boni", "Hombori"),
        "Bandiagara": ("Bandiagara", "Sangha"),
        "Bankass": ("Bankass", "Diallassagou"),
        "Koro": ("Koro", "Dinangourou"),
        "Ténenkou": ("Ténenkou", "Togoré-Kotia"),
        "Youwarou": ("Youwarou", "Dirma"),
    },
    "Ségou": {
        "Niono": ("Niono", "Diabaly", "Dogofry"),
        "Macina": ("Macina", "Monimpébougou"),
        "San": ("San",),
        "Ségou": ("Ségou",),
    },
}
