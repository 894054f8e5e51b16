"""Contract events of the platform audit (published by the pathway service on ``ddr.pathway.events``):
signed checkpoints over every service's history. Defined here by the audit work."""

from __future__ import annotations
