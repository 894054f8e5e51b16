"""The configurable parts of screening (set per deployment, see ``ScreeningConfig``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ScreeningPolicy:
    handover_hours: int = 48  # IDDRS 5.20: a separated child is with child protection within 48 hours
    suspect_document_days: int = 30  # an age document issued this close before registration is suspect
    max_re_examinations: int = 2  # medical re-examinations a person may request
