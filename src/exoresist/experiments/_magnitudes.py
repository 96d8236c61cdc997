"""Compare a replayed claim with the magnitude its primary study published, where one is recorded.

A record's ``effect_sizes`` (KB) hold numbers its primary study states. For each replayed claim
this module picks the published effect that fits the claim (same drug, culture or animal), reads
the same quantity off the replay and checks it against the tolerance. Only readouts the protocol
simulates are compared; see :data:`SIMULATED` (the table in docs/model.md says the same).

Tolerance: a fold change or ratio is within tolerance when ``1/2 <= simulated / published <= 2``
(:data:`TOLERANCE_FACTOR`). Both are expressed as "with the record acting / without it" before
comparing, whichever arm the study put on top.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from exoresist.experiments._protocols import CLASS_REPRESENTATIVE, Outcome, Protocol
from exoresist.kb import KnowledgeBase, Mechanism
from exoresist.kb.models import RATIO_MEASURES, EffectSize, Intervention

TOLERANCE_FACTOR = 2.0
TOLERANCE = "within a factor of 2: 0.5 <= simulated / published <= 2, both as 'with the record / without it'"

#: Protocols that replay an animal (or patient) experiment; the others are culture.
IN_VIVO_PROTOCOLS: frozenset[Protocol] = frozenset({"xenograft", "immune", "intervention", "phenotype"})

#: (protocol, readout) -> what the replay reports for it, as 'with / without' the record. Other
#: readouts (single-dose viability, apoptosis shares, immune-cell readouts, stem-marker shares) have
#: no counterpart in the replays yet: they are shown, not compared.
SIMULATED: dict[tuple[Protocol, str], str] = {
    ("culture_ic50", "ic50"): "IC50 with the cargo / without it, 3-day dose-response (exposure in multiples of EC50)",
    ("xenograft", "xenograft_volume"): "tumour cells under the drug with the record / without it, day 28",
    ("xenograft", "xenograft_weight"): "tumour cells under the drug with the record / without it, day 28",
    ("immune", "xenograft_volume"): "tumour cells with the record / without it, day 84 (patient context)",
    ("intervention", "xenograft_volume"): "tumour cells under the drug with the intervention / without it",
    ("intervention", "xenograft_weight"): "tumour cells under the drug with the intervention / without it",
}


@dataclass(frozen=True)
class MagnitudeCheck:
    """A claim's published magnitude (if any), the replay's value in the same unit, and the verdict.

    ``within_tolerance`` is None when there is nothing to compare (no published number, or a
    readout the protocol does not simulate); ``note`` then says why.
    """

    status: str | None
    published: dict[str, Any] | None
    simulated: float | None
    within_tolerance: bool | None
    note: str


def _drug(ref: str | None) -> str | None:
    return None if ref is None else CLASS_REPRESENTATIVE.get(ref, ref)


def _fits(effect: EffectSize, outcome: Outcome) -> bool:
    """Same drug (a class counts as its representative drug) and the same setting (culture or animal)."""
    claim = outcome.claim
    return _drug(effect.therapy) == claim.therapy and effect.in_vivo == (claim.protocol in IN_VIVO_PROTOCOLS)


def published_for(effects: Iterable[EffectSize], outcome: Outcome) -> EffectSize | None:
    """The effect that fits the claim: the first simulated one, else the first that fits at all."""
    fitting = [e for e in effects if _fits(e, outcome)]
    comparable = [e for e in fitting if (outcome.claim.protocol, e.readout) in SIMULATED and e.measure in RATIO_MEASURES]
    chosen = comparable or fitting
    return chosen[0] if chosen else None


def simulated_ratio(outcome: Outcome) -> float | None:
    """The replay's 'with the record / without it' ratio for its protocol, or None if it has none."""
    v = outcome.values
    protocol = outcome.claim.protocol
    pairs = {
        "culture_ic50": ("ic50_on", "ic50_off"),
        "xenograft": ("treated_on", "treated_off"),
        "immune": ("treated_on", "treated_off") if "treated_on" in v else ("on", "off"),
        "intervention": ("with", "without"),
    }
    if protocol not in pairs:
        return None
    num, den = pairs[protocol]
    if num not in v or den not in v:
        return None
    ratio = v[num] / v[den]
    return float(ratio) if np.isfinite(ratio) and ratio > 0 else None


def _published_dict(effect: EffectSize) -> dict[str, Any]:
    return {
        "value": effect.value,
        "unit": effect.unit,
        "readout": effect.readout,
        "measure": effect.measure,
        "numerator": effect.numerator,
        "comparison": effect.comparison,
        "condition": effect.condition,
        "source": effect.source.cite(),
    }


def check_magnitude(kb: KnowledgeBase, outcome: Outcome) -> MagnitudeCheck:
    """The magnitude check of one replayed claim (see the module docstring for the tolerance)."""
    rec = kb.get(outcome.claim.record_id)
    assert isinstance(rec, Mechanism | Intervention)
    status = rec.magnitude_status
    if status is None:
        return MagnitudeCheck(None, None, None, None, "primary study not yet searched for a magnitude")
    if status != "measured":
        return MagnitudeCheck(status, None, None, None, rec.magnitude_note or status)
    effect = published_for(rec.effect_sizes, outcome)
    if effect is None:
        setting = "animal" if outcome.claim.protocol in IN_VIVO_PROTOCOLS else "culture"
        return MagnitudeCheck(
            status, None, None, None, f"no published magnitude for {outcome.claim.therapy or 'no drug'} in {setting}"
        )
    published = _published_dict(effect)
    what = SIMULATED.get((outcome.claim.protocol, effect.readout))
    target = effect.with_over_without()  # the published value as 'with / without'
    if what is None or target is None:
        return MagnitudeCheck(
            status,
            published,
            None,
            None,
            f"the {outcome.claim.protocol} replay does not simulate a {effect.readout} {effect.measure}",
        )
    sim = simulated_ratio(outcome)
    if sim is None:
        note = f"{what}: not defined in this replay (e.g. an IC50 outside the tested range)"
        return MagnitudeCheck(status, published, None, False, note)
    within = 1.0 / TOLERANCE_FACTOR <= sim / target <= TOLERANCE_FACTOR
    shown = sim if effect.numerator == "with_record" else 1.0 / sim  # in the study's own orientation
    return MagnitudeCheck(status, published, shown, within, what)


def magnitude_checks(kb: KnowledgeBase, outcomes: Iterable[Outcome]) -> list[MagnitudeCheck]:
    """:func:`check_magnitude` of every outcome, in order."""
    return [check_magnitude(kb, o) for o in outcomes]
