"""Identity matching for pre-registration: who on the lists is the same person under another spelling.

The same combatant can appear on two movements' lists, or twice on one, as *Mohamed Ag Intalla*,
*Muhammad Ould Intalla*, *INTALLA Mohammed* or *محمد أغ إنتالا*. This package, pure Python, turns names into
comparable tokens, indexes people by blocking keys so that each new person is compared with a handful of
others instead of everyone (74,000 people make 2.7 billion pairs), and scores the pairs it does compare.

- :mod:`.names`: the name data, every language-specific table (spelling families, Arabic-script forms,
  particles, articles) and nothing else.
- :mod:`.normalise`: :func:`normalise_name`, Arabic script folded and looked up in :data:`ARABIC_NAMES`,
  Latin folded; every token mapped to its canonical form by :data:`NAME_VARIANTS`, or, for a spelling no
  table lists, through its transliteration key; and the phonetic forms (consonant skeleton, metaphone).
- :mod:`.reasons`: why a pair was flagged, as codes and scores that name nobody (:class:`Reason`), and the
  readable text built from them for a reader allowed to see both people (:func:`explain`).
- :mod:`.records`: what is compared (:class:`IdentityRecord`), what is answered (:class:`Match`), and the
  prepared features both the scoring and the index use.
- :mod:`.comparison`: two written names compared token by token within their roles (given name, the
  father's name after *Ag* / *Ould*, the family name): which tokens agree, which clearly differ.
- :mod:`.scoring`: :func:`match_score`, a Fellegi-Sunter posterior probability with three hypotheses (one
  person, two unrelated people, two relatives listed side by side): names worth more the rarer they are, birth
  year and day, sex, origin (worth more the fewer people come from there), parents' names and place of birth;
  the same biometric hash is a certain duplicate.
- :mod:`.index`: :func:`blocking_keys` (pairs of canonical tokens, of their metaphone codes and of their
  consonant skeletons, and single tokens within a cercle, each with the birth year and the years either
  side) and :class:`CandidateIndex`, the incremental in-memory index the import feeds (``add``, ``remove``,
  ``candidates``), which counts how common names, places and repeats are among the people it holds.
"""

from ddr_registration.domain.identity.index import MAX_BLOCK_SIZE, CandidateIndex, blocking_keys
from ddr_registration.domain.identity.names import ARABIC_NAMES, NAME_VARIANTS, PARTICLES
from ddr_registration.domain.identity.normalise import normalise_name
from ddr_registration.domain.identity.reasons import KINDS as REASON_KINDS
from ddr_registration.domain.identity.reasons import Reason, explain
from ddr_registration.domain.identity.records import IdentityRecord, Match
from ddr_registration.domain.identity.scoring import LIKELY_THRESHOLD, SUSPECT_THRESHOLD, match_score

__all__ = [
    "ARABIC_NAMES",
    "LIKELY_THRESHOLD",
    "MAX_BLOCK_SIZE",
    "NAME_VARIANTS",
    "PARTICLES",
    "REASON_KINDS",
    "SUSPECT_THRESHOLD",
    "CandidateIndex",
    "IdentityRecord",
    "Match",
    "Reason",
    "blocking_keys",
    "explain",
    "match_score",
    "normalise_name",
]
