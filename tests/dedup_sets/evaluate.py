"""Precision and recall of the matcher on a labelled set, overall, per kind of variant and on relatives.

The rows are fed to a :class:`~ddr_registration.domain.identity.CandidateIndex` in import order, as the
import does (``candidates`` then ``add``, one row at a time); a pair is flagged when the index lists it.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from ddr_registration.domain.identity import CandidateIndex, IdentityRecord
from tests.dedup_sets.sahel import VARIANTS, Row, SahelSet, variants


def identity_record(row: Row) -> IdentityRecord:
    """What the import gives the index for a listed row (``service_layer.importing``)."""
    return IdentityRecord(
        person_id=row.ref,
        names=tuple(n for n in (row.full_name, row.full_name_arabic) if n),
        birth_year=row.birth_year,
        region=row.region,
        cercle=row.cercle,
        commune=row.commune,
        birth_date=row.birth_date,
        sex=row.sex,
        father_name=row.father_name,
        mother_name=row.mother_name,
        birth_place=row.birth_place,
    )


@dataclass
class Evaluation:
    rows: int
    true_pairs: int
    flagged: dict[frozenset[str], float]
    hits: int
    seconds: float
    by_variant: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # true, true flagged, flagged
    relatives: dict[str, tuple[int, int]] = field(default_factory=dict)  # relation -> pairs, flagged
    false_pairs: list[frozenset[str]] = field(default_factory=list)
    missed_pairs: list[frozenset[str]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.hits / len(self.flagged) if self.flagged else 1.0

    @property
    def recall(self) -> float:
        return self.hits / self.true_pairs if self.true_pairs else 1.0

    @property
    def relatives_flagged(self) -> int:
        return sum(flagged for _, flagged in self.relatives.values())

    @property
    def relative_pairs(self) -> int:
        return sum(pairs for pairs, _ in self.relatives.values())


def evaluate(labelled: SahelSet, index: CandidateIndex | None = None) -> Evaluation:
    index = index if index is not None else CandidateIndex()
    records = [identity_record(row) for row in labelled.rows]
    flagged: dict[frozenset[str], float] = {}
    began = time.perf_counter()
    for record in records:
        for match in index.candidates(record, limit=50):
            flagged[frozenset((record.person_id, match.person_id))] = match.score
        index.add(record)
    seconds = time.perf_counter() - began
    truth = labelled.duplicates
    hits = sum(1 for pair in flagged if pair in truth)
    result = Evaluation(len(records), len(truth), flagged, hits, seconds)
    true_by: Counter[str] = Counter()
    hit_by: Counter[str] = Counter()
    flagged_by: Counter[str] = Counter()
    for pair in truth:
        kinds = _variants(labelled, pair)
        true_by.update(kinds)
        if pair in flagged:
            hit_by.update(kinds)
        else:
            result.missed_pairs.append(pair)
    for pair in flagged:
        flagged_by.update(_variants(labelled, pair))
        if pair not in truth:
            result.false_pairs.append(pair)
    result.by_variant = {v: (true_by[v], hit_by[v], flagged_by[v]) for v in VARIANTS}
    relation_pairs: Counter[str] = Counter(labelled.relatives.values())
    relation_flagged: Counter[str] = Counter(r for pair, r in labelled.relatives.items() if pair in flagged)
    result.relatives = {r: (relation_pairs[r], relation_flagged[r]) for r in sorted(relation_pairs)}
    return result


def _variants(labelled: SahelSet, pair: frozenset[str]) -> frozenset[str]:
    a, b = sorted(pair)
    return variants(labelled.row(a), labelled.row(b))
