"""The candidate index: people are compared only with those sharing a blocking key, and each comparison is
weighted by how common the names are among the people indexed."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable

from ddr_registration.domain.identity.normalise import consonant_skeleton, metaphone
from ddr_registration.domain.identity.reasons import Reason
from ddr_registration.domain.identity.records import Features, IdentityRecord, Match, Spelling, features_of
from ddr_registration.domain.identity.scoring import (
    DEFAULT_PARENT_TOKEN_SHARE,
    DEFAULT_PLACE_SHARE,
    DEFAULT_TOKEN_SHARE,
    DUPLICATE_SHARE,
    FAMILY_MAX_BITS,
    SUSPECT_THRESHOLD,
    Shares,
    best_name_bits,
    context_evidence,
    family_evidence,
    name_evidence,
    place_keys,
    posterior,
    score_pair,
)

__all__ = ["MAX_BLOCK_SIZE", "CandidateIndex", "blocking_keys"]

MAX_BLOCK_SIZE = 400
"""Blocks (people sharing one key) larger than this are not used to find candidates: a key that common says
nothing (every key of a true duplicate pair is shared, so the pair is still found through its rarer keys)."""
_TOKEN_SHARE_PRIOR = 500.0  # pseudo-people smoothing the index's token counts towards the default
_NAME_SHARE_PRIOR = 200.0  # pseudo-people smoothing whole-name counts towards the product of token shares
_PARENT_SHARE_PRIOR = 200.0  # pseudo-people smoothing parents' token counts towards the default
_PLACE_SHARE_PRIOR = 200.0  # pseudo-people smoothing cercle and commune counts towards the default
_DUPLICATE_SHARE_PRIOR = 500.0  # pseudo-people smoothing the duplicates found towards the default: one small
# list's worth, after which a programme's own lists speak as loud as the default


def _name_keys(spelling: Spelling) -> set[str]:
    tokens = sorted(set(spelling.tokens))  # "Ahmed Ag Ahmed" has one distinct token
    keys: set[str] = set()
    # a list, not a set: two tokens of one skeleton (Hamdi / Hamoud: md, md) still make a pair key
    skeletons = sorted(consonant_skeleton(t) for t in tokens if len(consonant_skeleton(t)) >= 2)
    if len(tokens) == 1:
        keys.add(f"t:{tokens[0]}")
        keys.add(f"m:{metaphone(tokens[0])}")
        keys.add(f"s:{consonant_skeleton(tokens[0])}")
    for first, second in itertools.combinations(tokens, 2):
        keys.add(f"t:{first}|{second}")
    codes = sorted({metaphone(t) for t in tokens})
    for first, second in itertools.combinations(codes, 2):
        keys.add(f"m:{first}|{second}")
    for first, second in itertools.combinations(skeletons, 2):
        keys.add(f"s:{first}|{second}")
    return keys


def _keys(features: Features) -> set[str]:
    record = features.record
    keys: set[str] = set()
    if record.biometric_hash:
        keys.add(f"b:{record.biometric_hash}")
    name_keys: set[str] = set()
    whole: set[str] = set()
    for spelling in features.spellings:
        name_keys |= _name_keys(spelling)
        whole |= {spelling.text, f"s:{spelling.skeleton}"}
    keys |= {f"f:{name}" for name in whole}  # the whole name, year-free: what a person of unknown year finds
    region, cercle, _ = features.origin
    if cercle:  # one token and the cercle: finds a name whose other token is spelt as no table knows
        name_keys |= {f"o:{token}#{region}/{cercle}" for token in features.tokens}
    if record.birth_year is None:
        keys |= {f"{key}@?" for key in name_keys}
        keys |= {f"u:{name}" for name in whole}  # ... and what finds a person of unknown year
    else:
        year = record.birth_year
        keys |= {f"{key}@{y}" for key in name_keys for y in (year - 1, year, year + 1)}
    return keys


def _query_keys(features: Features, keys: set[str]) -> set[str]:
    """The keys to look up for ``features``: a person of known year looks up the year-free whole name only
    among people of unknown year (``u:``), not among every namesake of every age (``f:``)."""
    if features.record.birth_year is None:
        return keys
    return {key for key in keys if not key.startswith("f:")} | {
        f"u:{key[2:]}" for key in keys if key.startswith("f:")
    }


def blocking_keys(record: IdentityRecord) -> set[str]:
    """The keys under which ``record`` is indexed; two people are compared only if one looks up a key the
    other is indexed under.

    Per spelling: each pair of canonical tokens (``t:``), of their metaphone codes (``m:``) and of their
    consonant skeletons (``s:``, so that Latin meets Arabic script), and each token with the cercle (``o:``),
    each with the birth year and the years
    either side (``@1990``; people born up to two years apart share a key), or ``@?`` when the year is
    unknown; the whole sorted name and its skeleton without a year (``f:``; people of unknown year are also
    under ``u:``, which people of known year look up instead of ``f:``); and the biometric hash (``b:``)."""
    return _keys(features_of(record))


class CandidateIndex:
    """Incremental in-memory blocking index: people are compared only with those sharing a key.

    ``add`` and ``remove`` keep it current as lists are imported and people leave; ``candidates`` returns the
    suspected duplicates of a record, best first. Keys shared by more than :data:`MAX_BLOCK_SIZE` people are
    not used for candidate search."""

    def __init__(self, *, threshold: float = SUSPECT_THRESHOLD, max_block_size: int = MAX_BLOCK_SIZE) -> None:
        self.threshold = threshold
        self.max_block_size = max_block_size
        self._features: dict[str, Features] = {}
        self._keys: dict[str, set[str]] = {}
        self._blocks: dict[str, set[str]] = {}
        self._token_counts: Counter[str] = Counter()  # people bearing each canonical token
        self._name_counts: Counter[str] = (
            Counter()
        )  # people bearing each whole name (sorted canonical tokens)
        # people whose father's / mother's name bears each canonical token, and how many give one
        self._parent_counts: dict[str, Counter[str]] = {"father": Counter(), "mother": Counter()}
        self._parents_given: Counter[str] = Counter()
        self._places: Counter[tuple[str, ...]] = Counter()  # people of each cercle and commune
        self.pairs_compared = 0
        self.duplicates_found = 0  # people who, when added, had a candidate scoring 0.5 or more

    def __len__(self) -> int:
        return len(self._features)

    def __contains__(self, person_id: object) -> bool:
        return person_id in self._features

    def add(self, record: IdentityRecord) -> None:
        """Index ``record`` (replacing any earlier version of the same person)."""
        if record.person_id in self._features:
            self.remove(record.person_id)
        features = features_of(record)
        keys = _keys(features)
        self._features[record.person_id] = features
        self._keys[record.person_id] = keys
        self._token_counts.update(features.tokens)
        self._name_counts.update({spelling.text for spelling in features.spellings})
        self._count_parents(features, 1)
        self._places.update(place_keys(features))
        for key in keys:
            self._blocks.setdefault(key, set()).add(record.person_id)

    def add_all(self, records: Iterable[IdentityRecord]) -> None:
        for record in records:
            self.add(record)

    def remove(self, person_id: str) -> None:
        """Forget ``person_id`` (no error if unknown)."""
        features = self._features.pop(person_id, None)
        if features is not None:
            self._token_counts.subtract(features.tokens)
            self._name_counts.subtract({spelling.text for spelling in features.spellings})
            self._count_parents(features, -1)
            self._places.subtract(place_keys(features))
        for key in self._keys.pop(person_id, ()):
            block = self._blocks.get(key)
            if block is not None:
                block.discard(person_id)
                if not block:
                    del self._blocks[key]

    def _count_parents(self, features: Features, sign: int) -> None:
        for role, parent in (("father", features.father), ("mother", features.mother)):
            if parent is not None:
                self._parents_given[role] += sign
                self._parent_counts[role].update(dict.fromkeys(set(parent.tokens), sign))

    def parent_share(self, role: str, token: str) -> float:
        """The share of indexed people giving a ``role`` ("father"/"mother") name whose parent's name bears
        ``token``, smoothed towards the default while counts are few."""
        given = self._parents_given[role]
        count = self._parent_counts[role].get(token, 0)
        return (count + _PARENT_SHARE_PRIOR * DEFAULT_PARENT_TOKEN_SHARE) / (given + _PARENT_SHARE_PRIOR)

    def candidates(self, record: IdentityRecord, limit: int = 10) -> list[Match]:
        """Indexed people (other than ``record`` itself) scoring at least the threshold, best first."""
        features = self._features.get(record.person_id)
        if features is None or features.record != record:
            features = features_of(record)
            keys = _keys(features)
        else:
            keys = self._keys[record.person_id]
        keys = _query_keys(features, keys)
        seen: set[str] = set()
        for key in keys:
            block = self._blocks.get(key)
            if block is None or (len(block) > self.max_block_size and not key.startswith("b:")):
                continue
            seen |= block
        seen.discard(record.person_id)
        # the prior: how many people a namesake could be among
        shares = Shares(
            self.name_share,
            self.token_share,
            self.parent_share,
            len(self._features),
            self.place_share,
            self.duplicate_share(),
        )
        prior = shares.prior
        needed = math.log2(self.threshold / (1.0 - self.threshold)) if 0.0 < self.threshold < 1.0 else -60.0
        best_name = best_name_bits(features, shares)
        biometric = record.biometric_hash
        matches: list[Match] = []
        for person_id in seen:
            other = self._features[person_id]
            self.pairs_compared += 1
            if biometric and other.record.biometric_hash == biometric:
                matches.append(Match(person_id, 1.0, True, (Reason("biometric_same"),)))
                continue
            # Weighed in steps, each bounded by the most the rest could add, so most pairs are left early.
            context = context_evidence(features, other, shares, explained=False)
            if prior + context.match + FAMILY_MAX_BITS + best_name < needed:
                continue
            family_evidence(features, other, context, shares)
            if prior + context.match + best_name < needed:
                continue  # even the best name agreement could not reach the threshold
            names = name_evidence(features, other, shares)
            if posterior(prior, context.match + names.match, context.kin + names.kin) < self.threshold:
                continue
            matches.append(score_pair(features, other, shares))
        matches.sort(key=lambda m: (not m.certain, -m.score, m.person_id))
        if record.person_id not in self._features and any(m.score >= 0.5 for m in matches):
            self.duplicates_found += 1
        return matches[:limit]

    def duplicate_share(self) -> float:
        """The share of people repeating someone: the default, moved towards what this index has found (each
        person added with a candidate more likely one person than two), as its counts grow. The prior odds of
        one pair depend on it: a list full of repeats makes each namesake likelier one."""
        people = len(self._features)
        found = self.duplicates_found + _DUPLICATE_SHARE_PRIOR * DUPLICATE_SHARE
        return found / (people + _DUPLICATE_SHARE_PRIOR)

    def place_share(self, place: tuple[str, ...]) -> float:
        """The share of indexed people of this cercle or commune (:func:`place_keys`), smoothed towards the
        default while counts are few: a commune most of a list comes from says little."""
        people = len(self._features)
        default = DEFAULT_PLACE_SHARE[place[0]]
        return (self._places.get(place, 0) + _PLACE_SHARE_PRIOR * default) / (people + _PLACE_SHARE_PRIOR)

    def token_share(self, token: str) -> float:
        """The share of indexed people bearing ``token``, smoothed towards the default while counts are few."""
        people = len(self._features)
        count = self._token_counts.get(token, 0)
        return (count + _TOKEN_SHARE_PRIOR * DEFAULT_TOKEN_SHARE) / (people + _TOKEN_SHARE_PRIOR)

    def name_share(self, spelling: Spelling) -> float:
        """The share of indexed people bearing this whole name, smoothed towards the product of its tokens'
        shares (names are not independent draws of tokens: *Ag* names go with Tamasheq fathers' names)."""
        people = len(self._features)
        independent = math.prod(self.token_share(t) for t in spelling.tokens)
        count = self._name_counts.get(spelling.text, 0)
        return (count + _NAME_SHARE_PRIOR * independent) / (people + _NAME_SHARE_PRIOR)

    def block_sizes(self) -> list[int]:
        """The size of every block (people sharing one key)."""
        return [len(block) for block in self._blocks.values()]
