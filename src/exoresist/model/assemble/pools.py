"""Exosomal cargo pools: which cells secrete each cargo, what raises secretion, decay and uptake,
and the saturating effect of a pool on its recipients.

A pool exists for every cargo that a secreting mechanism record carries (in a patient every
candidate record, whatever the treatment; elsewhere the acting ones), and for every engineered
payload an intervention delivers. Donors are looked up in :data:`DONOR_SECRETION`; a donor cell
type the model has no population for (adipose or bone-marrow MSCs) secretes nothing, and the
experiments replace it by vesicle doses.
"""

from __future__ import annotations

from collections import defaultdict

from exoresist.kb.vocab import CellType, Stimulus
from exoresist.model.assemble._builder import EPS, Builder, Pool
from exoresist.model.assemble.scenario import expand_therapy_refs, pool_name, slug
from exoresist.model.drugs import DRUGS

TUMOUR_DONORS = "(tumour_Mcells + C * (stem_secretion_factor - 1))"
RESISTANT_TUMOUR_DONORS = "(R_total + C * stem_secretion_factor)"
DONOR_SECRETION: dict[CellType, str] = {
    CellType.HCC_CELL: TUMOUR_DONORS,
    CellType.IRRADIATED_TUMOUR_CELL: TUMOUR_DONORS,
    CellType.LIVER_CANCER_STEM_CELL: "(C * stem_secretion_factor)",
    CellType.CAF: "A",
    CellType.FIBROBLAST: "(F + A)",
    CellType.M2_MACROPHAGE: "M2",
    CellType.MACROPHAGE: "(M1 + M2)",
}
"""The cells (as a model expression) that secrete a cargo for each donor cell type of the records."""


def donor_expression(cell: CellType, resistant_only: bool) -> str | None:
    """The secreting cells of a donor type; tumour donors in a drug-resistant state are the
    resistant and stem-like cells only. ``None``: the model has no such population."""
    expr = DONOR_SECRETION.get(cell)
    if expr == TUMOUR_DONORS and resistant_only:
        return RESISTANT_TUMOUR_DONORS
    return expr


def build_pools(b: Builder) -> None:
    """One pool per cargo, with secretion per donor type, decay and uptake."""
    kb = b.kb
    for m in b.secreting:
        ent = kb.entity(m.cargo)
        pool = b.pools.setdefault(ent.id, Pool(pool_name(ent.id), ent.name))
        pool.records.add(m.id)
    for i in b.interventions:
        if i.payload is not None:
            ent = kb.entity(i.payload)
            b.pools.setdefault(ent.id, Pool(pool_name(ent.id), ent.name))
    tracked = {c.casefold() for c in b.scenario.track_cargo_fluxes}
    for ent_id, pool in b.pools.items():
        b.sp(pool.name, "0", "cu", f"exosomal {pool.cargo} (cargo units)", pool.records)
        track = pool.cargo.casefold() in tracked
        if track:
            for what in ("secreted", "decayed", "uptaken", "cleared", "dosed"):
                b.sp(f"{pool.name}_{what}", "0", "cu", f"cumulative {pool.cargo} {what}", pool.records)
        # secretion: one reaction per donor cell type, citing the records that name that donor
        by_donor: dict[tuple[str, bool], set[str]] = defaultdict(set)
        inducers: dict[str, set[str]] = defaultdict(set)
        for m in b.secreting:
            if kb.entity(m.cargo).id != ent_id:
                continue
            resistant_only = Stimulus.DRUG_RESISTANCE in m.induced_by or "resistant" in (m.donor_state or "")
            for cell in m.donor_cells:
                if donor_expression(cell, resistant_only) is not None:
                    by_donor[(cell.value, resistant_only)].add(m.id)
            for s in m.induced_by:
                if isinstance(s, str) and not isinstance(s, Stimulus):
                    for drug in expand_therapy_refs(kb, [s]) & b.drug_ids:
                        inducers[f"H_{DRUGS[drug].slug}"].add(m.id)
                elif s is Stimulus.IRRADIATION and "ther:radiotherapy" in b.drug_ids:
                    inducers["rt_stress"].add(m.id)
        induction = " * ".join(f"(1 + drug_induction_max * {h})" for h in sorted(inducers)) or "1"
        for (cell_name, resistant_only), recs in sorted(by_donor.items()):
            donors = donor_expression(CellType(cell_name), resistant_only)
            block = f"blockade_{slug(cell_name)}"
            rate = f"secretion_per_Mcell_day * {donors} * {induction} * {block}"
            products = [pool.name] + ([f"{pool.name}_secreted"] if track else [])
            b.rx(f"secrete_{pool.name}_from_{slug(cell_name)}", rate, (), products, f"{cell_name} secrete {pool.cargo}", recs)
        b.rx(
            f"decay_{pool.name}",
            f"k_exosome_decay_per_day * {pool.name}",
            [pool.name],
            [f"{pool.name}_decayed"] if track else [],
            f"{pool.cargo} cargo decays",
            pool.records,
        )
        b.rx(
            f"uptake_{pool.name}",
            f"k_exosome_uptake_per_day * {pool.name}",
            [pool.name],
            [f"{pool.name}_uptaken"] if track else [],
            f"{pool.cargo} cargo taken up by cells",
            pool.records,
        )


def build_pool_effects(b: Builder) -> None:
    """Exposure of recipients to each pool (relative to the all-donor baseline) and its saturating effect."""
    for pool in b.pools.values():
        per_cell = f"(secretion_per_Mcell_day * (all_cells_Mcells + {EPS}))"
        exposure = f"{pool.name} * (k_exosome_decay_per_day + k_exosome_uptake_per_day) / {per_cell}"
        b.assign(f"exposure_{pool.name}", exposure, "1", f"{pool.cargo} per cell, relative to all-donor baseline", pool.records)
        b.assign(
            f"effect_{pool.name}",
            f"exposure_{pool.name} / (exposure_{pool.name} + exposure_half_max)",
            "1",
            f"saturating effect of {pool.cargo}",
            pool.records,
        )
