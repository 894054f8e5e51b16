"""Identity deduplication across every list and registration.

The same biometric hash is a certain duplicate; otherwise the matching engine's candidates above its
threshold are suspected. Each suspicion is a ``DuplicateSuspected`` event; a person resolves it. A pair
already on file is not raised again, but a suspicion that turns certain (the same biometric) upgrades its
case (``DuplicateMadeCertain``). Reasons are codes and scores: no name is ever stored in a case.
The engine's index lives in memory: it is built from the read model (names decrypted through the
runtime's cipher) and catches up before each use with people another process pre-registered, erased or
merged (those it learns from the erasure and merge events of the store's history).
"""

from __future__ import annotations

from ddr_registration.domain.duplicates import DuplicateCase, duplicate_stream
from ddr_registration.domain.identity import IdentityRecord, Reason
from ddr_registration.service_layer.desk import RegistrationDesk
from ddr_runtime.eventstore.ports import AggregateSession, Causation

BATCH = 1000


async def catch_up_index(reg: RegistrationDesk, session: AggregateSession) -> None:
    """Add to the index every person recorded since it last looked, and take out everyone erased or merged
    since (by this process or another: an erased person's names leave every process's memory)."""
    if reg.removals_seen is None:  # the index is built from the read model as it stands from here on
        reg.removals_seen = await reg.lookups.end_of_history(session)
    while True:
        left, point = await reg.lookups.left_after(session, reg.removals_seen, BATCH)
        if point is None:
            break
        for person_id in left:
            reg.index.remove(person_id)
        reg.removals_seen = point
    while True:
        # People this process indexed itself (an import just committed) are not opened again.
        records, reached = await reg.lookups.people_after(session, reg.index_high_water, BATCH, reg.index)
        if reached is None:
            return
        for record in records:
            reg.index.add(record)
        reg.index_high_water = reached


async def reindex_person(
    reg: RegistrationDesk, session: AggregateSession, person_id: str
) -> IdentityRecord | None:
    """Refresh one person's entry after a change (correction, registration); None once merged or erased."""
    record = await reg.lookups.identity_of(session, person_id)
    if record is None:
        reg.index.remove(person_id)
        return None
    reg.index.add(record)
    return record


async def suspect_duplicates(
    reg: RegistrationDesk,
    session: AggregateSession,
    record: IdentityRecord,
    causation: Causation,
    *,
    new_person: bool = False,
) -> list[str]:
    """Raise a suspected duplicate for each candidate not already paired with ``record``, and make a pair on
    file certain when the candidate is certain; the ids of the cases raised or upgraded.

    ``new_person``: ``record`` is someone just recorded in this transaction and not yet in the index, so no
    pair with them can be on file and none is looked up.
    """
    raised: list[str] = []
    matches = reg.index.candidates(record)
    if matches:
        # The index follows other processes' erasures and merges only once they are final in the store's
        # global order; the store itself is asked about these few, so none is matched a moment after.
        live = await reg.lookups.still_matchable(session, {match.person_id for match in matches})
        for gone in {match.person_id for match in matches} - live:
            reg.index.remove(gone)
        matches = [match for match in matches if match.person_id in live]
    for match in matches:
        known = (
            None if new_person else await reg.lookups.case_of_pair(session, record.person_id, match.person_id)
        )
        if known is not None:
            if match.certain and await _make_certain(session, known, match.reasons, causation):
                raised.append(known)
            continue
        case_id = reg.new_id()
        case = DuplicateCase.suspect(
            case_id,
            record.person_id,
            match.person_id,
            score=round(match.score, 4),
            certain=match.certain,
            reasons=match.reasons,
        )
        await session.save(case, duplicate_stream(case_id), record.person_id, causation)
        raised.append(case_id)
    return raised


async def certain_duplicate(
    reg: RegistrationDesk, session: AggregateSession, person_id: str, holder_id: str, causation: Causation
) -> str:
    """Record that ``person_id`` is ``holder_id`` (the same biometric): the pair's case made certain, or a
    certain case raised if none is on file; the case id."""
    reasons = (Reason("biometric_same"),)
    known = await reg.lookups.case_of_pair(session, person_id, holder_id)
    if known is not None:
        await _make_certain(session, known, reasons, causation)
        return known
    case_id = reg.new_id()
    case = DuplicateCase.suspect(case_id, person_id, holder_id, score=1.0, certain=True, reasons=reasons)
    await session.save(case, duplicate_stream(case_id), person_id, causation)
    return case_id


async def _make_certain(
    session: AggregateSession, case_id: str, reasons: tuple[Reason, ...], causation: Causation
) -> bool:
    case = await session.load_existing(duplicate_stream(case_id), DuplicateCase, "duplicate", case_id)
    if not case.make_certain(reasons):
        return False
    await session.save(case, duplicate_stream(case_id), case.person_id, causation)
    return True
