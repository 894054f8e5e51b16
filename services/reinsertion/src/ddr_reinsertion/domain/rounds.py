"""A volunteer round: its regions and how many volunteers each region may list."""

from __future__ import annotations

from dataclasses import dataclass

from ddr_reinsertion.domain.errors import RuleViolated


@dataclass(frozen=True)
class Round:
    round_id: str
    regions: tuple[str, ...]
    size_per_region: int

    def check_listing(self, region: str, already_listed: int) -> None:
        if region not in self.regions:
            raise RuleViolated("region_not_in_round", f"the round does not cover {region}")
        if already_listed >= self.size_per_region:
            raise RuleViolated(
                "round_region_full",
                f"{region} already has its {self.size_per_region} volunteers in this round",
            )
