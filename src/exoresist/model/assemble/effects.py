"""What each record's process does: one builder per :class:`~exoresist.kb.vocab.ModelProcess`.

A mechanism record's term is ``strength_<record> * effect_<pool>`` (the saturating effect of its
cargo pool). :data:`MECHANISM_EFFECTS` says, per process, where that term goes: into the kill
modulation of the drugs the record names (survival signalling, efflux, sensitisation, radiation
bystander signals), into the resistance-transfer reactions of those drugs, or into a summed drive
``drive_<process>`` that one rate of the tumour, stroma or immune model reads
(:data:`DRIVE_READERS` names the rate). Interventions have their own table,
:data:`INTERVENTION_EFFECTS`.

A process with no builder is an :class:`AssemblyError` at assembly (and a test checks that every
process of the vocabulary has one), so a new process cannot silently do nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from exoresist.kb import Mechanism
from exoresist.kb.models import Intervention
from exoresist.kb.vocab import Direction, InterventionKind, ModelProcess
from exoresist.model.assemble._builder import EPS, Builder, total
from exoresist.model.assemble.scenario import AssemblyError, expand_therapy_refs, slug
from exoresist.model.drugs import DRUGS

EffectBuilder = Callable[[Builder, Mechanism, str], None]


def _named_drugs(b: Builder, m: Mechanism, direction: Direction) -> list[str]:
    refs = [t.therapy for t in m.therapies if t.direction is direction]
    return sorted(expand_therapy_refs(b.kb, refs) & b.drug_ids)


def _protect(b: Builder, m: Mechanism, term: str) -> None:
    for drug in _named_drugs(b, m, Direction.PROMOTES_RESISTANCE):
        b.drug_terms[(drug, "protect")].append((term, m.id))


def _sensitise(b: Builder, m: Mechanism, term: str) -> None:
    for drug in _named_drugs(b, m, Direction.SENSITISES):
        b.drug_terms[(drug, "sensitise")].append((term, m.id))


def _bystander(b: Builder, m: Mechanism, term: str) -> None:
    if "ther:radiotherapy" in b.drug_ids:
        b.drug_terms[("ther:radiotherapy", "protect")].append((term, m.id))


def _transfer(b: Builder, m: Mechanism, term: str) -> None:
    """Resistance handed to sensitive cells: a resistant pool for drugs that kill continuously
    (reactions made once the pools exist); for radiotherapy, which kills at its fractions, the
    transferred state lowers radiosensitivity."""
    b.transfers.append((m, term))
    if "ther:radiotherapy" in _named_drugs(b, m, Direction.PROMOTES_RESISTANCE):
        b.drug_terms[("ther:radiotherapy", "protect")].append((term, m.id))


def _drive(b: Builder, m: Mechanism, term: str) -> None:
    assert m.process is not None
    b.drives[m.process].append((term, m.id))


def _intervention_only(b: Builder, m: Mechanism, term: str) -> None:
    raise AssemblyError(f"{m.id}: process '{m.process}' is for interventions, not mechanism records")


MECHANISM_EFFECTS: dict[ModelProcess, EffectBuilder] = {
    ModelProcess.REDUCE_DRUG_KILL: _protect,
    ModelProcess.SENSITISE: _sensitise,
    ModelProcess.RADIATION_BYSTANDER: _bystander,
    ModelProcess.TRANSFER_RESISTANCE: _transfer,
    ModelProcess.INDUCE_STEMNESS: _drive,
    ModelProcess.INDUCE_EMT: _drive,
    ModelProcess.ACTIVATE_CAF: _drive,
    ModelProcess.POLARISE_M2: _drive,
    ModelProcess.EXHAUST_CD8: _drive,
    ModelProcess.SUPPRESS_NK: _drive,
    ModelProcess.EXPAND_BREG: _drive,
    ModelProcess.RAISE_PDL1: _drive,
    ModelProcess.CHECKPOINT_DECOY: _drive,
    ModelProcess.SUPPORT_ANGIOGENESIS: _drive,
    ModelProcess.BLOCK_SECRETION: _intervention_only,
    ModelProcess.NEUTRALISE_CARGO: _intervention_only,
}
"""Where a mechanism record's term goes, per process."""

DRIVE_READERS: dict[ModelProcess, str] = {
    ModelProcess.INDUCE_STEMNESS: "stem_induced (sensitive to stem-like cells)",
    ModelProcess.INDUCE_EMT: "stem_induced (one stem-like/mesenchymal state)",
    ModelProcess.ACTIVATE_CAF: "caf_activate (fibroblasts to CAFs)",
    ModelProcess.POLARISE_M2: "m2_polarise (M1 to M2)",
    ModelProcess.EXHAUST_CD8: "t_exhaust (effector to exhausted CD8 T cells)",
    ModelProcess.SUPPRESS_NK: "nk_kill_per_day (NK killing)",
    ModelProcess.EXPAND_BREG: "breg_expand (regulatory B cells)",
    ModelProcess.RAISE_PDL1: "pd1_signal (PD-L1 on tumour cells)",
    ModelProcess.CHECKPOINT_DECOY: "checkpoint_conc_effective (antibody bound by vesicle PD-L1)",
    ModelProcess.SUPPORT_ANGIOGENESIS: "vascular_target (vascular support)",
    ModelProcess.SENSITISE: "immune_efficacy (interventions restoring checkpoint response)",
}
"""The summed drives the model builds, and the rate that reads each (for ``model show`` and docs)."""


def add_mechanism_terms(b: Builder) -> None:
    """Every acting mechanism's term, routed by its process."""
    for m in b.mechanisms:
        assert m.process is not None
        builder = MECHANISM_EFFECTS.get(m.process)
        if builder is None:
            raise AssemblyError(f"{m.id}: no model builder for process '{m.process.value}'")
        builder(b, m, f"{b.strength(m.id)} * effect_{b.pool_of(m).name}")


# --- interventions ----------------------------------------------------------------------------


def _intervention_term(b: Builder, i: Intervention) -> str | None:
    """The sensitising term of an intervention that has no mechanism record of its own."""
    on = f"on_{slug(i.id.removeprefix('int:'))}"
    if i.payload is not None:
        ent = b.kb.entity(i.payload)
        if any(b.kb.entity(m.cargo).id == ent.id for m in b.mechanisms):
            return None  # the payload acts through its mechanism records (e.g. miR-122)
        return f"{b.strength(i.id)} * effect_{b.pools[ent.id].name}"
    if i.intervention_kind is InterventionKind.PATHWAY_INHIBITOR:
        return f"{b.strength(i.id)} * {on}"
    return None


def _sensitising_intervention(b: Builder, i: Intervention) -> None:
    term = _intervention_term(b, i)
    if term is None:
        return
    drugs = expand_therapy_refs(b.kb, [t.therapy for t in i.therapies]) & b.drug_ids
    for drug in sorted(drugs):
        b.drug_terms[(drug, "sensitise")].append((term, i.id))
    if any(DRUGS[d].checkpoint for d in drugs):
        b.drives[ModelProcess.SENSITISE].append((term, i.id))


def _acts_later(b: Builder, i: Intervention) -> None:
    """Secretion blockade and neutralisation act on secretion and clearance (built with the switches)."""


INTERVENTION_EFFECTS: dict[ModelProcess, Callable[[Builder, Intervention], None]] = {
    ModelProcess.SENSITISE: _sensitising_intervention,
    ModelProcess.BLOCK_SECRETION: _acts_later,
    ModelProcess.NEUTRALISE_CARGO: _acts_later,
}
"""Intervention processes; any other process on an intervention record is an assembly error."""


def add_intervention_terms(b: Builder) -> None:
    for i in b.interventions:
        builder = INTERVENTION_EFFECTS.get(i.process)
        if builder is None:
            raise AssemblyError(f"{i.id}: no model builder for intervention process '{i.process.value}'")
        builder(b, i)


# --- the summed quantities the rates read -----------------------------------------------------


def build_modulations(b: Builder) -> None:
    """Per drug, the exosomal modulation of its kill; per driven process, its summed drive; then
    the immune context (checkpoint occupancy, suppression) and the vascular target."""
    for d in b.drugs:
        prot = b.drug_terms.get((d.therapy_id, "protect"), [])
        sens = b.drug_terms.get((d.therapy_id, "sensitise"), [])
        b.assign(
            f"mod_{d.slug}",
            f"(1 + {total([t for t, _ in sens])}) / (1 + {total([t for t, _ in prot])})",
            "1",
            f"exosomal modulation of {d.slug} kill (sensitising over protecting)",
            [r for _, r in (*prot, *sens)],
        )
    for proc in DRIVE_READERS:
        b.assign_sum(f"drive_{proc.value}", b.drives.get(proc, []), "1", f"summed exosomal drive of {proc.value}")
    checkpoint = [d for d in b.drugs if d.checkpoint == "pd1_axis"]
    occ = total([f"conc_{d.slug}" for d in checkpoint])
    b.assign(
        "checkpoint_conc_effective",
        f"({occ}) / (1 + drive_checkpoint_decoy)",
        "mg/L",
        "anti-PD-(L)1 left after vesicle PD-L1 binds it",
    )
    b.assign(
        "pd1_occupancy",
        "checkpoint_conc_effective / (checkpoint_conc_effective + checkpoint_kd_mg_per_L)",
        "1",
        "PD-1 axis blocked",
    )
    b.assign("pd1_signal", "(1 + drive_raise_pdl1) * (1 - pd1_occupancy)", "1", "PD-1 signalling in the tumour")
    ctla = [d for d in b.drugs if d.checkpoint == "ctla4"]
    b.assign("ctla4_occupancy", total([f"H_{d.slug}" for d in ctla]), "1", "CTLA-4 blocked")
    b.assign("m2_fraction", f"M2 / (M1 + M2 + {EPS})", "1", "share of macrophages that are M2")
    b.assign(
        "breg_suppression", f"(B / (tumour_Mcells + {EPS})) / breg_half_suppression_ratio", "1", "Breg suppression of CD8 killing"
    )
    b.assign(
        "immune_efficacy",
        "(1 + drive_sensitise * pd1_occupancy)"
        " / ((1 + pd1_suppression * pd1_signal) * (1 + breg_suppression) * (1 + m2_suppression * m2_fraction))",
        "1",
        "killing efficacy of effector cells given checkpoints and suppressors",
    )
    # in the patient, a tyrosine-kinase inhibitor's anti-angiogenic effect is part of its growth
    # inhibition of the cells still sensitive to it (cells resistant to it escape both); antibodies
    # against VEGF or its receptor act on the vessels of every cell
    folded = b.context == "patient"
    angio = [
        f"(1 - {d.antiangiogenic_param} * H_{d.slug})"
        for d in b.drugs
        if d.antiangiogenic_param and not (folded and d.growth_inhibition_param)
    ]
    b.assign(
        "vascular_target",
        f"(1 + angiogenesis_gain * drive_support_angiogenesis) * {' * '.join(angio) or '1'}",
        "1",
        "vascular support the tumour tends to",
    )
    prot = b.drug_terms.get(("ther:radiotherapy", "protect"), [])
    b.assign("rt_protection", f"1 / (1 + {total([t for t, _ in prot])})", "1", "radiosensitivity left after bystander signals")
