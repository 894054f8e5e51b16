"""Contract events of the CVR service (topic ``ddr.cvr.events``); a project's events carry the project id as
subject. The CVR service defines them here (partners, projects, appraisal, participants, tranches, visits).

An ex-combatant participant's link to their path is ``person_id`` (the registration person id) on the
participant event, so ``pathway`` can show CVR participation in the person's path.
"""

from __future__ import annotations
