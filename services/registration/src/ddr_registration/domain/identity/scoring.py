"""Scoring: how likely two records are one person, as a posterior probability with its reasons.

A Fellegi-Sunter model with three hypotheses rather than two. Every piece of evidence is weighed by how likely
it is for one person listed twice (m), for two unrelated people (u) and for two relatives listed side by side
(s): brothers, twins, cousins of one family, who share a father's name, a mother's name, a commune and a place
of birth as surely as one person does, and differ where one person does not, on the given name and the birth
year. Two parents' names agreeing are strong evidence against strangers, and none against a brother; a
given name that clearly differs is strong evidence against one person, and what a brother is expected to
show. So the posterior odds are

    P(one) / (P(unrelated) + P(relatives)) = 2^(prior + match) / (1 + 2^(prior + relatives + kin))

with ``match`` = Σ log2(m/u) and ``kin`` = Σ log2(s/u) over the evidence (bits), ``prior`` the log odds that
two people taken at random are one, and ``relatives`` how much likelier two listed people are relatives than
one person listed twice (:data:`RELATIVES_PER_DUPLICATE`).

Weights marked "seed 11" were measured on the registration simulator's tuning caseload (never on a set this
benchmark reports): the simulator is the set tuned on. The relatives' weights (s) come from what a family is
(brothers share both parents; twins are born the same day), not from any measurement.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from rapidfuzz import fuzz

from ddr_registration.domain.identity.comparison import NameComparison, compare_names
from ddr_registration.domain.identity.normalise import consonant_skeleton, translit_key
from ddr_registration.domain.identity.reasons import Reason
from ddr_registration.domain.identity.records import Features, IdentityRecord, Match, Spelling, features_of

__all__ = [
    "DEFAULT_POPULATION",
    "DUPLICATE_SHARE",
    "LIKELY_THRESHOLD",
    "RELATIVES_PER_DUPLICATE",
    "SUSPECT_THRESHOLD",
    "Shares",
    "match_score",
    "place_keys",
]

SUSPECT_THRESHOLD = 0.3
"""Scores (posterior probabilities) at or above this make a pair a suspected duplicate, listed by
:meth:`CandidateIndex.candidates` for a reviewer. Set on the registration simulator's tuning caseload (seed 11,
40,000 rows, with its field noise and relatives), where it gave the largest smaller-of-precision-and-recall
(0.949 / 0.949; 0.956 / 0.944 at 0.35): never on a set that is reported."""

LIKELY_THRESHOLD = 0.9
"""Scores at or above this make a pair a likely duplicate (a reviewer still decides, unless ``certain``)."""

DUPLICATE_SHARE = 0.03
"""The share of listed rows expected to repeat someone before any list is seen: with the population, the prior
odds of a pair. :class:`CandidateIndex` moves it towards the share it finds (lists differ: the simulator repeats
3% of rows, independently built lists 6.6%)."""
RELATIVES_PER_DUPLICATE = 2.0
"""How many pairs of listed relatives (brothers, twins, cousins of one household) to expect for each person
listed twice: families join a movement together."""
DEFAULT_POPULATION = 74_000
"""The population :func:`match_score` assumes (the index uses its own size)."""
DEFAULT_TOKEN_SHARE = 0.02  # share of people bearing a token, before the index has counted any
DEFAULT_PARENT_TOKEN_SHARE = 0.05  # share of parents bearing a token, before the index has counted any

# --- names (m, s: chances of the comparison's outcome for one person, for two relatives) ------------------
NAME_M = 0.9  # one person's two spellings agree token for token (seed 11: 0.985)
_BITS_PER_POINT = 0.4  # bits lost per point (of 100) of a token pair in doubt
_M_DIFFERENT_TOKEN = 0.001  # one person listed under another given name or father's name: a slip
_M_SWAPPED = 0.002  # *Intalla Ag Moussa* for *Moussa Ag Intalla*
_M_EXTRA_TOKEN = 0.35  # one spelling has a token more: a second given name, *Sidi*, a family name
_S_EXTRA_TOKEN = 0.5
# two relatives' names: (given names differ, surnames differ) -> s; brothers share a father's or family
# name and never a given name (but for a namesake cousin or a half-brother)
_S_ROLES = {(False, False): 0.03, (True, False): 0.9, (False, True): 0.03, (True, True): 0.04}
_S_UNKNOWN_ROLES = {0: 0.03, 1: 0.5}  # by differing tokens, when the writing does not tell roles
# Given names only alike (no token clearly different): relatives' names are often of one root (Hamid and
# Ahmed, Hassane and Housseini), so this is likelier in brothers than in one person's two listings
_S_CLOSE = {True: 0.3, False: 0.2}  # roles told / untold
_S_SWAPPED = 0.01

# --- birth: (match bits, kin bits); kin = match - log2(m / s), s the relatives' chance of the same outcome ---
# seed 11: same year m 0.77 / u 0.025, one apart m 0.17 / u 0.05, two apart m ~0; relatives: a brother born
# the same year 0.06 (half of them twins), one apart 0.12, two 0.15, further 0.67.
_YEAR = {0: (4.9, 1.2), 1: (1.8, 1.3), 2: (-4.0, 1.6)}
# Neither side gives a real date: ages guessed ("vers 1985") drift by a year or two between listings.
_YEAR_ESTIMATED = {1: (2.6, 1.3), 2: (-1.0, 1.6)}  # one apart m 0.3; two apart m 0.03
_YEAR_FAR = (-12.0, -0.3)
_YEAR_UNKNOWN = (-1.3, 0.0)  # seed 11 with field noise: m 0.059 (a person of unknown age stays so), u 0.149
_SAME_DAY = (10.0, 9.1)  # both real dates: m ~0.95, u 1/365 (seed 11: worth more); a relative born the same
# year shares the day half the time (twins)
_OTHER_DAY = (-6.0, -2.7)  # m 0.05 (a slip); relatives 0.5
# Years one apart and two real days that differ: one listing's date was guessed again, not a slip of the
# year's digit, so the day says little (seed 11 with field noise: m 0.018, u 0.022 for the year and day
# together; was -6 as for one year, which lost every re-guessed age)
_OTHER_DAY_YEAR_APART = (-2.3, -1.7)
_PLACEHOLDER_DAYS = ((1, 1), (12, 31))  # a clerk's date for "born in that year": says nothing of the day
_OTHER_SEX = (-10.0, -1.0)  # m 0.001; a brother and a sister: s 0.5
_BIOMETRIC_MISMATCH = (-20.0, 0.0)  # two people, relatives or not

# --- origin and family: relatives share them as one person does (kin bits = match bits) -------------------
# Agreement on a commune or cercle is worth log2(m / u), u the share of people from there (the index counts
# them: a commune half a list comes from says little); the constants are the fixed u of one pair alone.
# seed 11 with field noise (a commune left blank on one list): same commune; same cercle, a commune unknown
_PLACE_M = {"commune": 0.44, "cercle": 0.56}
DEFAULT_PLACE_SHARE = {"commune": 0.0064, "cercle": 0.035}  # seed 11
_ORIGIN_BITS = {
    "different_communes": -3.0,
    "different_cercles": -5.0,
    "same_region": 1.5,  # cercles unknown
    "different_regions": -7.0,
    "unknown": 0.0,
}
_PLACE_SKELETON_MIN = 3
_PLACE_LONG, _PLACE_ALIKE = 8, 90.0  # long place names this alike are one place
_PARENT_M = 0.9
_PARENT_MAX_BITS = 7.0  # seed 11: 9 or 12 let common-enough parents outweigh the rest
_PARENT_IMPLIED_BITS = 0.5  # the parent's name repeats the person's own (nothing new, but consistent)
_PARENT_PART_PENALTY = 1.0
_PARENT_CLOSE_BITS = -1.0
_PARENT_DIFFERENT_BITS = -7.0  # seed 11: m 0.02 (a slip, a stepmother), u ~0.9
_BIRTH_PLACE_BITS = {"same": 1.5, "different": -5.0}


def _default_name_share(spelling: Spelling) -> float:
    return float(DEFAULT_TOKEN_SHARE ** len(spelling.tokens))


def _default_token_share(_token: str) -> float:
    return DEFAULT_TOKEN_SHARE


def _default_parent_share(_role: str, _token: str) -> float:
    return DEFAULT_PARENT_TOKEN_SHARE


def _default_place_share(place: tuple[str, ...]) -> float:
    return DEFAULT_PLACE_SHARE[place[0]]


@dataclass(frozen=True)
class Shares:
    """How common what is compared is among the people indexed: a whole name, a token, a parent's token, a
    place; how many people there are, and how many of them repeat someone. Standalone, fixed shares (every
    token borne by 2%, :data:`DUPLICATE_SHARE`)."""

    name: Callable[[Spelling], float] = _default_name_share
    token: Callable[[str], float] = _default_token_share
    parent: Callable[[str, str], float] = _default_parent_share
    population: int = DEFAULT_POPULATION
    place: Callable[[tuple[str, ...]], float] = _default_place_share
    duplicates: float = DUPLICATE_SHARE  # the share of listed rows repeating someone, as far as seen

    @property
    def prior(self) -> float:
        return prior_bits(self.population, self.duplicates)


@dataclass
class Evidence:
    """Bits for one person against unrelated people (``match``) and relatives against unrelated (``kin``),
    with the reasons when ``explained`` (the index weighs many pairs it then leaves: it skips them)."""

    explained: bool = True
    match: float = 0.0
    kin: float = 0.0
    reasons: list[Reason] = field(default_factory=list)

    def add(self, kind: str | None, bits: tuple[float, float], score: float | None = None) -> None:
        self.match += bits[0]
        self.kin += bits[1]
        if kind is not None:
            self.note(kind, score)

    def note(self, kind: str, score: float | None = None) -> None:
        if self.explained:
            self.reasons.append(Reason(kind, score))


def prior_bits(population: int, duplicate_share: float = DUPLICATE_SHARE) -> float:
    """log2 prior odds that two people taken at random are one: duplicate pairs / all pairs."""
    population = max(population, 1_000)
    return math.log2(duplicate_share * population / (population * (population - 1) / 2))


def best_name_bits(features: Features, shares: Shares) -> float:
    """The most a name can add: a perfect agreement on the rarest of this record's spellings."""
    return max((math.log2(NAME_M / max(shares.name(s), 1e-9)) for s in features.spellings), default=0.0)


# --- names ------------------------------------------------------------------------------------------------


def _name_bits(comparison: NameComparison, a: Spelling, b: Spelling, shares: Shares) -> tuple[float, float]:
    if not comparison.agreeing:
        u = 1.0
    elif comparison.whole:
        u = max(shares.name(a), shares.name(b))
    else:
        u = math.prod(shares.token(t) for t in comparison.agreeing)
    if comparison.swapped:
        m, s = _M_SWAPPED, _S_SWAPPED
    elif comparison.given_differs is None:
        m = NAME_M if not comparison.differing else _M_DIFFERENT_TOKEN**comparison.differing
        s = _S_UNKNOWN_ROLES.get(comparison.differing, 0.02)
    else:
        m = NAME_M if not comparison.differing else _M_DIFFERENT_TOKEN**comparison.differing
        s = _S_ROLES[(comparison.given_differs, bool(comparison.surname_differs))]
    if comparison.close and not comparison.swapped and not comparison.surname_differs:
        s = _S_CLOSE[comparison.given_differs is not None]
    m *= _M_EXTRA_TOKEN**comparison.extra
    s *= _S_EXTRA_TOKEN**comparison.extra
    doubt = _BITS_PER_POINT * comparison.doubtful
    u = max(u, 1e-9)
    return math.log2(m / u) - doubt, math.log2(s / u) - doubt


def name_evidence(a: Features, b: Features, shares: Shares) -> Evidence:
    """The best-agreeing pair of spellings, weighed (no comparable name: strong evidence against). Spellings
    in one script are compared when both records have one: across scripts only the consonants compare, which
    says less, so it decides only for a record written in one script alone."""
    pairs = [(sa, sb) for sa in a.spellings for sb in b.spellings]
    same_script = [(sa, sb) for sa, sb in pairs if sa.arabic == sb.arabic]
    best: tuple[float, float, NameComparison] | None = None
    for sa, sb in same_script or pairs:
        comparison = compare_names(sa, sb)
        bits = _name_bits(comparison, sa, sb, shares)
        if best is None or bits[0] > best[0]:
            best = (*bits, comparison)
    evidence = Evidence()
    if best is None:
        evidence.add("no_comparable_name", (-10.0, 0.0))
        return evidence
    match_bits, kin_bits, comparison = best
    evidence.add("name_similarity", (match_bits, kin_bits), round(min(comparison.similarity, 1.0), 2))
    if comparison.across_scripts:
        evidence.reasons.append(Reason("across_scripts"))
    if comparison.swapped:
        evidence.reasons.append(Reason("given_and_father_swapped"))
    else:
        if comparison.given_differs:
            evidence.reasons.append(Reason("given_name_different"))
        if comparison.surname_differs:
            evidence.reasons.append(Reason("surname_different"))
    return evidence


# --- everything but the name ------------------------------------------------------------------------------


def _exact_day(value: date | None) -> date | None:
    """A full date that tells a day (1 January and 31 December stand for "born that year" on many lists)."""
    if value is None or (value.month, value.day) in _PLACEHOLDER_DAYS:
        return None
    return value


def _birth(a: IdentityRecord, b: IdentityRecord, evidence: Evidence) -> None:
    if a.birth_year is None or b.birth_year is None:
        evidence.add("birth_year_unknown", _YEAR_UNKNOWN)
        return
    gap = abs(a.birth_year - b.birth_year)
    day_a, day_b = _exact_day(a.birth_date), _exact_day(b.birth_date)
    kinds = {0: "birth_year_same", 1: "birth_year_one_apart", 2: "birth_year_two_apart"}
    year = _YEAR.get(gap, _YEAR_FAR)
    if day_a is None and day_b is None:  # neither gives a real date: ages guessed
        year = _YEAR_ESTIMATED.get(gap, year)
    evidence.add(kinds.get(gap, "birth_years_far_apart"), year)
    if gap <= 1 and day_a is not None and day_b is not None:
        same = (day_a.month, day_a.day) == (day_b.month, day_b.day)
        other_day = _OTHER_DAY if gap == 0 else _OTHER_DAY_YEAR_APART
        evidence.add("birth_day_same" if same else "birth_day_different", _SAME_DAY if same else other_day)
    elif (a.birth_date is not None and day_a is None) or (b.birth_date is not None and day_b is None):
        evidence.note("birth_day_placeholder")


def _same_place(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return False
    return a == b or _alike_places(a, b)


@lru_cache(maxsize=100_000)
def _alike_places(a: str, b: str) -> bool:
    """Two spellings of one place: the same once transliteration is folded (*Tarkint* / *Tarkinte*), or the
    same consonants (*Boghassa* / *Boughessa*). Not merely alike: *Lafia* and *Alafia* are two communes."""
    key_a, key_b = translit_key(a), translit_key(b)
    if key_a == key_b:
        return True
    if min(len(key_a), len(key_b)) >= _PLACE_LONG and fuzz.ratio(key_a, key_b) >= _PLACE_ALIKE:
        return True  # one letter of a long name: Andéramboukane / Andéraboukane
    skeleton = consonant_skeleton(a)
    return len(skeleton) >= _PLACE_SKELETON_MIN and skeleton == consonant_skeleton(b)


def place_keys(features: Features) -> list[tuple[str, ...]]:
    """The cercle and commune a person comes from, as counting keys (spellings of a place folded)."""
    region, cercle, commune = (translit_key(p) if p else "" for p in features.origin)
    keys: list[tuple[str, ...]] = [("cercle", region, cercle)]
    if commune:
        keys.append(("commune", region, cercle, commune))
    return keys


def _origin(
    a: tuple[str | None, str | None, str | None], b: tuple[str | None, str | None, str | None]
) -> str:
    (region_a, cercle_a, commune_a), (region_b, cercle_b, commune_b) = a, b
    if region_a and region_b and not _same_place(region_a, region_b):
        return "different_regions"
    if cercle_a and cercle_b and not _same_place(cercle_a, cercle_b):
        return "different_cercles"
    if commune_a and commune_b:
        return "same_commune" if _same_place(commune_a, commune_b) else "different_communes"
    if cercle_a and cercle_a == cercle_b:
        return "same_cercle"
    if region_a and region_a == region_b:
        return "same_region"
    return "unknown"


FAMILY_MAX_BITS = 2 * _PARENT_MAX_BITS + _BIRTH_PLACE_BITS["same"]
"""The most the parents' names and the place of birth can add."""


def context_evidence(a: Features, b: Features, shares: Shares, *, explained: bool = True) -> Evidence:
    """Evidence from everything but the name and the family: birth, sex, origin, biometric hashes."""
    ra, rb = a.record, b.record
    evidence = Evidence(explained)
    _birth(ra, rb, evidence)
    if ra.sex and rb.sex and ra.sex != rb.sex:
        evidence.add("sex_different", _OTHER_SEX)
    origin = _origin(a.origin, b.origin)
    if origin in ("same_commune", "same_cercle"):
        level = origin.removeprefix("same_")
        place = next(key for key in place_keys(a) if key[0] == level)
        bits = math.log2(_PLACE_M[level] / max(shares.place(place), 1e-9))
    else:
        bits = _ORIGIN_BITS[origin]
    evidence.add(f"origin_{origin}", (bits, bits))
    if ra.biometric_hash and rb.biometric_hash:  # the same hash is handled before: these differ
        evidence.add("biometric_different", _BIOMETRIC_MISMATCH)
    return evidence


@lru_cache(maxsize=500_000)
def _parent_agreement(a: Spelling, b: Spelling) -> str:
    if a.tokens == b.tokens:
        return "same"
    comparison = compare_names(a, b)
    if comparison.differing or comparison.swapped:
        return "different"
    if comparison.doubtful:
        return "close"
    return "part" if comparison.extra else "same"


def _news(role: str, parent: Spelling, a: Features, b: Features, shares: Shares) -> set[str]:
    """The tokens of a parent's name that the person's own name does not already tell: a father's given name
    is the one after *Ag* / *Ould* in his child's, or he bears the child's family name; a mother's name is
    all news."""
    tokens = set(parent.tokens)
    if role != "father":
        return tokens
    implied = tokens & (a.fathers_given | b.fathers_given)
    if implied:
        return tokens - implied
    shared = tokens & (a.tokens | b.tokens)
    if shared:  # the family name: the commonest shared token, to be safe
        tokens.discard(max(shared, key=lambda token: (shares.parent(role, token), token)))
    return tokens


def _parent_bits(role: str, agreement: str, news: set[str], shares: Shares) -> float:
    if agreement == "different":
        return _PARENT_DIFFERENT_BITS
    if agreement == "close":
        return _PARENT_CLOSE_BITS
    if not news:
        return _PARENT_IMPLIED_BITS
    u = math.prod(shares.parent(role, token) for token in news)
    bits = min(_PARENT_MAX_BITS, math.log2(_PARENT_M / max(u, 1e-9)))
    return bits - _PARENT_PART_PENALTY if agreement == "part" else bits


def family_evidence(a: Features, b: Features, evidence: Evidence, shares: Shares) -> None:
    """The father's and mother's names and the place of birth (nothing when either side lacks one)."""
    for role, pa, pb in (("father", a.father, b.father), ("mother", a.mother, b.mother)):
        if pa is not None and pb is not None:
            agreement = _parent_agreement(pa, pb)
            shorter = pa if len(set(pa.tokens)) <= len(set(pb.tokens)) else pb
            bits = _parent_bits(role, agreement, _news(role, shorter, a, b, shares), shares)
            evidence.add(f"{role}_{agreement}", (bits, bits))
    if a.birth_place and b.birth_place:
        same = _same_place(a.birth_place, b.birth_place)
        bits = _BIRTH_PLACE_BITS["same" if same else "different"]
        evidence.add("birth_place_same" if same else "birth_place_different", (bits, bits))


# --- the posterior ----------------------------------------------------------------------------------------


def posterior(prior: float, match: float, kin: float) -> float:
    """P(one person | evidence) against unrelated people and relatives (see the module)."""
    one = max(-60.0, min(60.0, prior + match))
    relatives = max(-60.0, min(60.0, prior + math.log2(RELATIVES_PER_DUPLICATE) + kin))
    odds: float = 2.0**one / (1.0 + 2.0**relatives)
    return odds / (1.0 + odds)


def score_pair(a: Features, b: Features, shares: Shares) -> Match:
    """How likely ``b`` is ``a``: a :class:`Match` about ``b``, with its reasons."""
    ra, rb = a.record, b.record
    if ra.biometric_hash and ra.biometric_hash == rb.biometric_hash:
        return Match(rb.person_id, 1.0, True, (Reason("biometric_same"),))
    evidence = name_evidence(a, b, shares)
    context = context_evidence(a, b, shares)
    family_evidence(a, b, context, shares)
    prior = shares.prior
    match, kin = evidence.match + context.match, evidence.kin + context.kin
    reasons = [*evidence.reasons, *context.reasons]
    if prior + math.log2(RELATIVES_PER_DUPLICATE) + kin > 0.0:
        reasons.append(Reason("relatives_likely"))
    return Match(rb.person_id, round(posterior(prior, match, kin), 4), False, tuple(reasons))


def match_score(a: IdentityRecord, b: IdentityRecord) -> Match:
    """How likely ``b`` is ``a`` under another spelling: a :class:`Match` about ``b`` (score 0..1).

    The same biometric hash is certain (score 1.0). Otherwise the score is the posterior probability of the
    three-hypothesis model of this module: the names compared token by token (order, script, particles and
    transliteration do not matter; a clearly different given name or father's name does), worth more for
    rare names; the birth year and day (1 January and 31 December say nothing of the day); the origin; the
    father's and mother's names and the place of birth when both give them; two different biometric hashes
    (decisive against). Standalone, every name token is taken as borne by 2% of people among
    :data:`DEFAULT_POPULATION`; :class:`CandidateIndex` counts the real shares."""
    return score_pair(features_of(a), features_of(b), Shares())
