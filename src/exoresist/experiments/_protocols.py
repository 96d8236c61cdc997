"""Protocols that replay each experimental claim of the KB on the assembled model."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from exoresist.kb import KnowledgeBase, Mechanism
from exoresist.kb.models import Intervention
from exoresist.kb.vocab import Direction, EvidenceKind, ModelProcess
from exoresist.model.assemble import (
    Context,
    Scenario,
    apply_param,
    build_cached,
    candidate_mechanisms,
    pool_name,
    strength_param,
)
from exoresist.model.drugs import DRUGS
from exoresist.model.spec import ModelSpec
from exoresist.ode import simulate

Expected = Literal["resistance", "sensitisation", "increase", "none"]
Protocol = Literal["culture_ic50", "xenograft", "immune", "phenotype", "intervention"]

#: A class named by a record is replayed with one representative drug.
CLASS_REPRESENTATIVE = {
    "class:anti_pd1": "ther:nivolumab",
    "class:anti_pdl1": "ther:atezolizumab",
    "class:chemotherapy": "ther:doxorubicin",
    "class:immunotherapy": "ther:nivolumab",
    "class:tyrosine_kinase_inhibitor": "ther:sorafenib",
    "class:targeted_therapy": "ther:sorafenib",
}
IMMUNE = {
    ModelProcess.SUPPRESS_NK,
    ModelProcess.EXHAUST_CD8,
    ModelProcess.EXPAND_BREG,
    ModelProcess.RAISE_PDL1,
    ModelProcess.CHECKPOINT_DECOY,
}
EXPOSURES = (0.0, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)  # multiples of the drug's EC50
MIN_EFFECT = 1e-5  # smallest effect counted as a change: 10x the integration tolerance (rtol 1e-6)


@dataclass(frozen=True)
class Claim:
    """One experiment to replay: a record, a protocol, a drug (if any), the expected direction."""

    record_id: str
    protocol: Protocol
    therapy: str | None
    expected: Expected
    description: str


@dataclass(frozen=True)
class Outcome:
    claim: Claim
    effect: float  # positive = the expected direction for 'resistance' and 'increase'
    passed: bool
    detail: str
    values: dict[str, float] = field(default_factory=dict)


def _drug_for(ref: str) -> str | None:
    drug = CLASS_REPRESENTATIVE.get(ref, ref)
    return drug if drug in DRUGS else None


def claims(kb: KnowledgeBase, *, include_hypotheses: bool = False) -> list[Claim]:
    """Every replayable experimental claim: mechanisms with a process and evidence, and the
    interventions the review reports as tested, each with the protocols its evidence supports."""
    out: list[Claim] = []
    for m in candidate_mechanisms(kb, include_hypotheses=include_hypotheses):
        kinds = {k for e in m.evidence for k in e.kinds}
        assert m.process is not None
        if m.process in IMMUNE:
            drugs = sorted({d for t in m.therapies if (d := _drug_for(t.therapy))})
            out.append(
                Claim(
                    m.id,
                    "immune",
                    drugs[0] if drugs else None,
                    "resistance",
                    f"{m.cargo}: {m.process.value} in an immunocompetent host",
                )
            )
            continue
        linked = [
            (t, d) for t in m.therapies if (d := _drug_for(t.therapy)) and DRUGS[d].kills_tumour and DRUGS[d].route != "radiation"
        ]
        for t, drug in linked:
            expected: Expected = "sensitisation" if t.direction is Direction.SENSITISES else "resistance"
            if EvidenceKind.IN_VITRO in kinds or not kinds:
                out.append(
                    Claim(m.id, "culture_ic50", drug, expected, f"{m.cargo} vesicles on HCC cells, then {DRUGS[drug].slug}")
                )
            if EvidenceKind.IN_VIVO in kinds:
                out.append(
                    Claim(m.id, "xenograft", drug, expected, f"{m.cargo} in a nude-mouse xenograft under {DRUGS[drug].slug}")
                )
        if not linked and m.process in (ModelProcess.INDUCE_STEMNESS, ModelProcess.INDUCE_EMT, ModelProcess.SUPPORT_ANGIOGENESIS):
            out.append(Claim(m.id, "phenotype", None, "increase", f"{m.cargo}: {m.process.value} in a xenograft"))
    for i in kb.interventions:
        drugs = sorted({d for t in i.therapies if (d := _drug_for(t.therapy))})
        if drugs and i.evidence:
            out.append(Claim(i.id, "intervention", drugs[0], "sensitisation", f"{i.name} with {DRUGS[drugs[0]].slug}"))
    return out


def _model(kb: KnowledgeBase, scenario: Scenario) -> ModelSpec:
    return build_cached(kb, scenario)


def _final(spec: ModelSpec, rows: list[dict[str, float]], days: float, quantity: str) -> np.ndarray:
    result = simulate(spec, spec.parameter_matrix(rows), t_end_day=days, t_eval_day=np.array([0.0, days]))
    if not bool(np.all(result.ok)):
        bad = [m for m, ok in zip(result.messages, result.ok, strict=True) if not ok]
        raise RuntimeError(f"simulation failed: {bad[0]}")
    if quantity in result.species_names:
        return np.asarray(result.species(quantity)[:, -1])
    return np.asarray(result.derived_value(quantity)[:, -1])


def _off(spec: ModelSpec, record_id: str) -> dict[str, float]:
    name = strength_param(record_id)
    if name not in spec.parameter_names:
        raise LookupError(f"{record_id} has no effect term in this model")
    return {name: 0.0}


def _culture_ic50(kb: KnowledgeBase, claim: Claim, rec: Mechanism) -> Outcome:
    assert claim.therapy is not None
    co_culture = {}
    if rec.process is ModelProcess.ACTIVATE_CAF:
        co_culture = {"culture_init_F_Mcells": 0.05}
    if rec.process is ModelProcess.POLARISE_M2:
        co_culture = {"culture_init_M1_Mcells": 0.05}
    # two-cell chains (vesicles -> fibroblasts or macrophages -> their own signals -> HCC cells)
    # need a longer co-culture before the drug than a direct effect on the HCC cells
    pre_days = 14.0 if co_culture else 4.0
    days = pre_days + 3.0
    scenario = Scenario("culture", (claim.therapy,), days=days, treatment_start_day=pre_days, dose_pools=True)
    spec = _model(kb, scenario)
    if strength_param(rec.id) not in spec.parameter_names:  # the record has no term for this drug
        return Outcome(claim, 0.0, claim.expected == "none", "the record has no term acting on this drug", {})
    on = {**co_culture, _dose_param(kb, rec): 1.0}
    viability = _viability(spec, [on, {**on, **_off(spec, rec.id)}], days)
    auc_on, auc_off = viability.mean(axis=1)
    ic50_on, ic50_off = (_ic50(np.array(EXPOSURES[1:]), v) for v in viability)
    effect = float(auc_on - auc_off)
    if claim.expected == "sensitisation":
        effect = -effect
    shift = (
        f"IC50 {ic50_on:.3g} vs {ic50_off:.3g} x EC50 (ratio {ic50_on / ic50_off:.3g})"
        if np.isfinite(ic50_on * ic50_off)
        else "IC50 outside the tested range"
    )
    return Outcome(
        claim,
        effect,
        effect > MIN_EFFECT,
        f"viability AUC {auc_on:.4f} with cargo vs {auc_off:.4f} without; {shift}",
        {"auc_on": float(auc_on), "auc_off": float(auc_off), "ic50_on": ic50_on, "ic50_off": ic50_off},
    )


def _viability(spec: ModelSpec, arms: list[dict[str, float]], days: float) -> np.ndarray:
    """Culture viability curves: for each arm (parameter overrides), tumour cells after ``days`` at each
    nonzero exposure of :data:`EXPOSURES` relative to no drug; shape ``(len(arms), len(EXPOSURES) - 1)``."""
    rows = [{**arm, "drug_exposure_ratio_fixed": x} for arm in arms for x in EXPOSURES]
    final = _final(spec, rows, days, "tumour_Mcells").reshape(len(arms), len(EXPOSURES))
    return np.asarray(final[:, 1:] / final[:, :1])


def _dose_param(kb: KnowledgeBase, rec: Mechanism) -> str:
    return f"experiment_dose_{pool_name(kb.entity(rec.cargo).id)}"


def _ic50(x: np.ndarray, viability: np.ndarray) -> float:
    below = np.nonzero(viability <= 0.5)[0]
    if len(below) == 0 or below[0] == 0:
        return float("nan")
    i = below[0]
    lx0, lx1 = np.log(x[i - 1]), np.log(x[i])
    v0, v1 = viability[i - 1], viability[i]
    return float(np.exp(lx0 + (0.5 - v0) * (lx1 - lx0) / (v1 - v0)))


def _benefit_contrast(
    kb: KnowledgeBase,
    claim: Claim,
    context: Context,
    days: float,
    off: Callable[[ModelSpec], dict[str, float]],
    dose: dict[str, float] | None = None,
) -> Outcome:
    """Drug benefit ln(V_untreated / V_treated) with the record on and off; effect = off - on."""
    assert claim.therapy is not None
    dosing = dose is not None
    dose = dose or {}
    treated = _model(kb, Scenario(context, (claim.therapy,), days=days, dose_pools=dosing))
    untreated = _model(kb, Scenario(context, (), days=days, dose_pools=dosing))
    v_treated = _final(treated, [dose, {**dose, **off(treated)}], days, "tumour_Mcells")
    # without the drug, a record that names only that drug is not in the model, and neither is its
    # cargo pool: the vesicles are then given to a tumour in which they change nothing
    dose_untreated = {k: v for k, v in dose.items() if k in untreated.parameter_names}
    off_untreated = off(untreated) if _has(untreated, claim) else {}
    v_untreated = _final(untreated, [dose_untreated, {**dose_untreated, **off_untreated}], days, "tumour_Mcells")
    benefit = np.log(v_untreated / v_treated)
    effect = float(benefit[1] - benefit[0])
    if claim.expected == "sensitisation":
        effect = -effect
    return Outcome(
        claim,
        effect,
        effect > MIN_EFFECT,
        f"{DRUGS[claim.therapy].slug} benefit {benefit[0]:.4f} with the record, {benefit[1]:.4f} without",
        {
            "benefit_on": float(benefit[0]),
            "benefit_off": float(benefit[1]),
            # tumour cells under the drug with / without the record, for the magnitude checks
            "treated_on": float(v_treated[0]),
            "treated_off": float(v_treated[1]),
        },
    )


def _has(spec: ModelSpec, claim: Claim) -> bool:
    return strength_param(claim.record_id) in spec.parameter_names


def _needs_dosing(kb: KnowledgeBase, rec: Mechanism) -> dict[str, float] | None:
    """Donors the model has no population for (adipose or bone-marrow MSCs) are replaced by vesicle doses."""
    present = {
        "hcc_cell",
        "liver_cancer_stem_cell",
        "cancer_associated_fibroblast",
        "fibroblast",
        "m2_macrophage",
        "macrophage",
        "irradiated_tumour_cell",
    }
    return None if any(c.value in present for c in rec.donor_cells) else {_dose_param(kb, rec): 1.0}


def _phenotype(kb: KnowledgeBase, claim: Claim, rec: Mechanism) -> Outcome:
    spec = _model(kb, Scenario("mouse", (), days=28.0))
    quantity = "Vs" if rec.process is ModelProcess.SUPPORT_ANGIOGENESIS else "C"
    on, off = _final(spec, [{}, _off(spec, rec.id)], 28.0, quantity)
    tumour = _final(spec, [{}, _off(spec, rec.id)], 28.0, "tumour_Mcells")
    if quantity == "C":
        on, off = on / tumour[0], off / tumour[1]
    effect = float(on - off)
    label = "vascular support" if quantity == "Vs" else "stem-like share"
    return Outcome(
        claim,
        effect,
        effect > MIN_EFFECT,
        f"{label} {on:.4f} with the record, {off:.4f} without",
        {"on": float(on), "off": float(off)},
    )


def _immune(kb: KnowledgeBase, claim: Claim, rec: Mechanism) -> Outcome:
    if claim.therapy is not None:
        return _benefit_contrast(kb, claim, "patient", 84.0, lambda s: _off(s, rec.id))
    spec = _model(kb, Scenario("patient", (), days=84.0))
    v = _final(spec, [{}, _off(spec, rec.id)], 84.0, "tumour_Mcells")
    effect = float(np.log(v[0] / v[1]))
    return Outcome(
        claim,
        effect,
        effect > MIN_EFFECT,
        f"tumour {v[0]:.1f} Mcells with the record, {v[1]:.1f} without (immune evasion)",
        {"on": float(v[0]), "off": float(v[1])},
    )


def _intervention(kb: KnowledgeBase, claim: Claim, i: Intervention) -> Outcome:
    assert claim.therapy is not None
    context: Context = "patient" if DRUGS[claim.therapy].checkpoint else "mouse"
    days = 84.0 if context == "patient" else 28.0
    spec = _model(kb, Scenario(context, (claim.therapy,), (i.id,), days=days))
    apply = apply_param(i.id)
    v = _final(spec, [{apply: 1.0}, {apply: 0.0}], days, "tumour_Mcells")
    effect = float(np.log(v[1] / v[0]))
    return Outcome(
        claim,
        effect,
        effect > MIN_EFFECT,
        f"tumour {v[0]:.1f} Mcells with the intervention, {v[1]:.1f} without",
        {"with": float(v[0]), "without": float(v[1])},
    )


def run_claim(kb: KnowledgeBase, claim: Claim) -> Outcome:
    rec = kb.get(claim.record_id)
    if isinstance(rec, Intervention):
        return _intervention(kb, claim, rec)
    assert isinstance(rec, Mechanism)
    if claim.protocol == "culture_ic50":
        return _culture_ic50(kb, claim, rec)
    if claim.protocol == "xenograft":
        return _benefit_contrast(kb, claim, "mouse", 28.0, lambda s: _off(s, rec.id), _needs_dosing(kb, rec))
    if claim.protocol == "immune":
        return _immune(kb, claim, rec)
    return _phenotype(kb, claim, rec)


def run_claims(
    kb: KnowledgeBase, selected: Iterable[Claim] | None = None, *, progress: Callable[[Claim], None] | None = None
) -> list[Outcome]:
    """Replay every claim (or the selected ones) with the one shared parameter set."""
    out = []
    for claim in claims(kb) if selected is None else selected:
        if progress is not None:
            progress(claim)
        out.append(run_claim(kb, claim))
    return out


SPECIFIC = {ModelProcess.REDUCE_DRUG_KILL, ModelProcess.TRANSFER_RESISTANCE, ModelProcess.SENSITISE}
PROBE_DRUGS = ("ther:sorafenib", "ther:lenvatinib", "ther:cisplatin", "ther:doxorubicin")


def specificity_checks(kb: KnowledgeBase, *, ratio: float = 0.2) -> list[Outcome]:
    """Knocking out a drug-specific mechanism changes its own drug's outcome and leaves an unlinked
    drug (nearly) unchanged: |change for the unlinked drug| <= ratio * |change for the linked drug|.

    The unlinked drug is compared between two assembled models, with and without the record
    (``Scenario.knockouts``), so a term the assembly wrongly attached to other drugs would show."""
    out = []
    for m in candidate_mechanisms(kb):
        if m.process not in SPECIFIC:
            continue
        linked = {d for t in m.therapies if (d := _drug_for(t.therapy))}
        probes = [d for d in PROBE_DRUGS if d not in linked]
        own = [d for d in sorted(linked) if DRUGS[d].kills_tumour]
        if not own or not probes:
            continue
        expected: Expected = "sensitisation" if m.process is ModelProcess.SENSITISE else "resistance"
        linked_outcome = _culture_ic50(kb, Claim(m.id, "culture_ic50", own[0], expected, "linked drug"), m)
        other = _knockout_change(kb, m, probes[0])
        passed = linked_outcome.passed and abs(other) <= ratio * abs(linked_outcome.effect)
        claim = Claim(m.id, "culture_ic50", own[0], expected, f"specificity: {DRUGS[own[0]].slug} vs {DRUGS[probes[0]].slug}")
        detail = (
            f"knockout changes {DRUGS[own[0]].slug} viability AUC by {linked_outcome.effect:.4g}, "
            f"unlinked {DRUGS[probes[0]].slug} by {other:.2g}"
        )
        out.append(Outcome(claim, linked_outcome.effect, passed, detail, {"linked": linked_outcome.effect, "unlinked": other}))
    return out


def _knockout_change(kb: KnowledgeBase, rec: Mechanism, drug: str) -> float:
    """Viability AUC of ``drug`` in culture without the record minus with it (vesicles added)."""
    aucs = []
    for knockouts in ((), (rec.id,)):
        spec = _model(kb, Scenario("culture", (drug,), knockouts=knockouts, days=7.0, treatment_start_day=4.0, dose_pools=True))
        dose = _dose_param(kb, rec)
        # without the record its cargo pool may be gone (no other record carries it): nothing to add
        arm = {dose: 1.0} if dose in spec.parameter_names else {}
        aucs.append(float(_viability(spec, [arm], 7.0)[0].mean()))
    return aucs[0] - aucs[1]
