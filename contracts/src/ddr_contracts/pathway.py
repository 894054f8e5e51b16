"""Contract events of the pathway service (topic ``ddr.pathway.events``): what pathway itself decides, e.g.
signed audit checkpoints and the record of who read whose path. Defined here by the pathway service."""

from __future__ import annotations
