"""Armed movements and coalitions; a movement's membership of a coalition is time-bound."""

from __future__ import annotations

from datetime import date, datetime

from ddr_registration.domain.events import CoalitionJoined, CoalitionLeft, MovementEvent, MovementRegistered
from ddr_registration.domain.values import MovementKind
from ddr_runtime.kernel import Aggregate, AlreadyDone, Recording, RuleViolated


def movement_stream(code: str) -> str:
    return f"movement-{code}"


class Movement(Aggregate[MovementEvent]):
    def __init__(self) -> None:
        super().__init__()
        self.code = ""
        self.display_name = ""
        self.kind: MovementKind = "movement"
        self.coalitions: dict[str, datetime | None] = {}  # coalition code -> member since (open memberships)

    @property
    def exists(self) -> bool:
        return self.version > 0 or bool(self.pending)

    @classmethod
    def register(cls, code: str, display_name: str, kind: MovementKind) -> Movement:
        if not code.strip() or not display_name.strip():
            raise RuleViolated("movement-needs-code-and-name", "a movement needs a code and a name")
        movement = cls()
        movement.record(MovementRegistered(code=code, display_name=display_name, kind=kind))
        return movement

    def join(self, coalition: Movement, since: date, *, recording: Recording | None = None) -> None:
        """Membership from ``since``, the business date of the fact: never in the future, and older than the
        back-recording window only with the authority to record the past."""
        if coalition.kind != "coalition":
            raise RuleViolated("join-a-coalition", f"{coalition.code} is not a coalition")
        if self.kind != "movement":
            raise RuleViolated("coalitions-hold-movements", "a coalition cannot join another coalition")
        if coalition.code in self.coalitions:
            raise AlreadyDone("already-member", f"{self.code} is already a member of {coalition.code}")
        at = (recording or Recording()).moment(since)
        self.record(CoalitionJoined(movement=self.code, coalition=coalition.code, since=since), at=at)

    def leave(self, coalition_code: str, until: date, *, recording: Recording | None = None) -> None:
        """Membership ends on ``until``: never before it began."""
        if coalition_code not in self.coalitions:
            raise RuleViolated("not-a-member", f"{self.code} is not a member of {coalition_code}")
        at = (recording or Recording()).moment(
            until, after=self.coalitions[coalition_code], after_what=f"joining {coalition_code}"
        )
        self.record(CoalitionLeft(movement=self.code, coalition=coalition_code, until=until), at=at)

    def apply(self, event: MovementEvent) -> None:
        if isinstance(event, MovementRegistered):
            self.code, self.display_name, self.kind = event.code, event.display_name, event.kind
        elif isinstance(event, CoalitionJoined):
            self.coalitions[event.coalition] = self.at
        elif isinstance(event, CoalitionLeft):
            self.coalitions.pop(event.coalition, None)
