"""A volunteer round: its regions and how many volunteers each region may list (the 2020 roadmap: 300)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from ddr_reinsertion.domain.events import RoundEvent, RoundPlacesTaken, VolunteerRoundOpened
from ddr_runtime.kernel import Aggregate, AlreadyDone, RuleViolated


class Round(Aggregate[RoundEvent]):
    def __init__(self) -> None:
        super().__init__()
        self.round_id = ""
        self.regions: tuple[str, ...] = ()
        self.size_per_region = 0
        self.opened_at: datetime | None = None
        self.listed: Counter[str] = Counter()

    @classmethod
    def open(cls, opened: VolunteerRoundOpened, at: datetime) -> Round:
        if not opened.regions or len(set(opened.regions)) != len(opened.regions):
            raise RuleViolated(
                "regions", "a round names one or more distinct regions", figures={"field": "regions"}
            )
        if opened.size_per_region <= 0:
            raise RuleViolated(
                "size_per_region",
                "a round lists at least one volunteer per region",
                figures={"field": "size_per_region"},
            )
        the_round = cls()
        the_round.record(opened, at=at)
        return the_round

    def check_new(self) -> None:
        if self.version:
            raise AlreadyDone("round_exists", f"round {self.round_id} is already open")

    def check_place(self, region: str, taking: Counter[str]) -> None:
        """A place for one more volunteer of ``region``, beside ``taking`` already taken by this listing."""
        if region not in self.regions:
            raise RuleViolated(
                "region_not_in_round", f"the round does not cover {region}", figures={"region": region}
            )
        if self.listed[region] + taking[region] >= self.size_per_region:
            raise RuleViolated(
                "round_region_full",
                f"{region} already has its {self.size_per_region} volunteers in this round",
                figures={"region": region, "size_per_region": self.size_per_region},
            )

    def take(self, taking: Counter[str], listed_on: date, at: datetime) -> None:
        for region in sorted(taking):
            if taking[region]:
                self.record(RoundPlacesTaken(self.round_id, region, taking[region], listed_on), at=at)

    def apply(self, event: RoundEvent) -> None:
        if isinstance(event, VolunteerRoundOpened):
            self.round_id, self.regions = event.round_id, tuple(event.regions)
            self.size_per_region, self.opened_at = event.size_per_region, self.at
        else:
            self.listed[event.region] += event.places
