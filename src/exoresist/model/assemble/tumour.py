"""Tumour, stroma and immune dynamics: growth, drug kill, resistance, stemness, CAFs, macrophages,
regulatory B cells, T and NK cells, and vascular support. Every rate that reads a summed drive
(:data:`~exoresist.model.assemble.effects.DRIVE_READERS`) is built here and cites its records."""

from __future__ import annotations

from collections import defaultdict

from exoresist.kb.vocab import CellType, ModelProcess
from exoresist.model.assemble._builder import EPS, Builder, total
from exoresist.model.assemble.scenario import expand_therapy_refs, slug
from exoresist.model.drugs import DRUGS
from exoresist.model.parameters import P

GROWTH_RATE = {"culture": "k_growth_culture_per_day", "mouse": "k_growth_mouse_per_day", "patient": "k_growth_patient_per_day"}
CAPACITY = {"culture": "capacity_culture_Mcells", "mouse": "capacity_mouse_Mcells", "patient": "capacity_patient_Mcells"}


def build_tumour_state(b: Builder) -> None:
    """Resistant pools (one per drug that kills continuously), tumour totals and size, and the
    share of each donor type's secretion left after blockade."""
    immune = ["F", "A", "M1", "M2", "NK", "B"] + (["Te", "Tx"] if "Te" in b.species else [])
    for drug_id in sorted(d.therapy_id for d in b.drugs if d.continuous_kill):
        b.sp(f"R_{DRUGS[drug_id].slug}", "0", "Mcells", f"tumour cells reversibly resistant to {DRUGS[drug_id].slug}")
    b.assign("R_total", total(b.resistant_pools()), "Mcells", "reversibly resistant tumour cells")
    escaped = " + E" if "E" in b.species else ""
    b.assign("tumour_Mcells", f"S + C + R_total{escaped}", "Mcells", "all tumour cells")
    b.assign("all_cells_Mcells", f"tumour_Mcells + {' + '.join(immune)}", "Mcells", "all cells that take up vesicles")
    b.assign("tumour_volume_mm3", "tumour_Mcells * cell_volume_mm3_per_Mcell", "mm3", "tumour volume")
    b.assign(
        "tumour_diameter_mm",
        "pow(6 * tumour_volume_mm3 / 3.141592653589793, 1.0 / 3.0)",
        "mm",
        "diameter of a sphere of that volume (RECIST)",
    )
    blocked: dict[str, list[str]] = defaultdict(list)
    for i in b.interventions:
        if i.process is ModelProcess.BLOCK_SECRETION:
            for cell in i.target_donors:
                blocked[cell.value].append(i.id)
    for cell in CellType:
        ids = blocked.get(cell.value, [])
        expr = " * ".join(f"(1 - secretion_blockade_efficacy * on_{slug(i.removeprefix('int:'))})" for i in ids) or "1"
        b.assign(f"blockade_{slug(cell.value)}", expr, "1", f"share of {cell.value} secretion left after blockade", ids)


def build_dynamics(b: Builder) -> None:
    _growth_and_kill(b)
    _resistance(b)
    _stemness(b)
    _stroma(b)
    _immunity(b)


def _sensitive_pools(b: Builder) -> list[str]:
    """Tumour-cell pools that every drug acts on fully: sensitive and immune-escaped cells."""
    return ["S", *(["E"] if "E" in b.species else [])]


def _drug_action(b: Builder) -> None:
    """``act_<drug>``: the drug's fractional action on tumour cells after exosomal modulation.
    Protecting and sensitising cargo shift the drug's potency (``mod`` multiplies the effective
    concentration), the way efflux or survival signalling shift an IC50."""
    for d in b.drugs:
        if d.continuous_kill:
            s = d.slug
            b.assign(
                f"act_{s}",
                f"H_{s} * mod_{s} / (1 - H_{s} + H_{s} * mod_{s})",
                "1",
                f"{s} action on sensitive tumour cells (potency shifted by exosomal cargo)",
                [d.therapy_id, *b.records_of(f"mod_{s}")],
            )


def _growth_factor(b: Builder, pool: str) -> str:
    """Share of the proliferation of ``pool`` left under the cytostatic drugs of the scenario (patient
    only): ``prod(1 - w * inhibition * act)`` with ``w`` = 1 for sensitive cells, the stem-like
    fraction for stem-like cells and 0 for cells resistant to that drug."""
    if b.context != "patient":
        return ""
    factors = []
    for d in b.drugs:
        if d.growth_inhibition_param is None or pool == f"R_{d.slug}":
            continue
        weight = "stem_kill_fraction * " if pool == "C" else ""
        factors.append(f"(1 - {weight}{d.growth_inhibition_param} * act_{d.slug})")
    return "".join(f" * {f}" for f in factors)


def _growth_and_kill(b: Builder) -> None:
    ctx = b.context
    _drug_action(b)
    vs = "Vs" if "Vs" in b.species else "1"
    logistic = f"{GROWTH_RATE[ctx]} * {vs} * (1 - tumour_Mcells / {CAPACITY[ctx]})"
    r_names = b.resistant_pools()
    for x in [*_sensitive_pools(b), *r_names]:
        b.rx(
            f"grow_{x}",
            f"{logistic}{_growth_factor(b, x)} * {x}",
            [],
            [x],
            f"{x} proliferate (logistic, scaled by vascular support)",
        )
    b.rx("grow_C", f"stem_growth_factor * {logistic}{_growth_factor(b, 'C')} * C", [], ["C"], "stem-like cells self-renew")
    for d in b.drugs:
        if not d.continuous_kill:
            continue
        kmax = d.patient_kmax_param if ctx == "patient" and d.patient_kmax_param else d.kmax_param
        if kmax is None:
            continue
        kill = f"{kmax} * act_{d.slug}"
        rec = (d.therapy_id,)
        for x in _sensitive_pools(b):
            b.rx(f"kill_{x}_{d.slug}", f"{kill} * {x}", [x], [], f"{d.slug} kills {x}", rec)
        b.rx(f"kill_C_{d.slug}", f"stem_kill_fraction * {kill} * C", ["C"], [], f"{d.slug} kills stem-like cells (less)", rec)
        for r in r_names:
            frac = "resistant_kill_fraction * " if r == f"R_{d.slug}" else ""
            b.rx(f"kill_{r}_{d.slug}", f"{frac}{kill} * {r}", [r], [], f"{d.slug} kills {r}", rec)
    for d in b.drugs:
        if d.continuous_kill and f"R_{d.slug}" in r_names:
            b.rx(
                f"adapt_{d.slug}",
                f"k_adapt_per_day * H_{d.slug} * S",
                ["S"],
                [f"R_{d.slug}"],
                f"{d.slug} pressure selects resistance",
                (d.therapy_id,),
            )


def _resistance(b: Builder) -> None:
    """Exosomal transfer of resistance to each drug a transfer record names (and is given), and
    reversion without the drug."""
    r_names = b.resistant_pools()
    for m, term in b.transfers:
        targets = sorted(
            t
            for t in expand_therapy_refs(b.kb, [x.therapy for x in m.therapies])
            if t in DRUGS and f"R_{DRUGS[t].slug}" in r_names
        )
        for t in targets:
            r = f"R_{DRUGS[t].slug}"
            b.rx(
                f"transfer_{slug(m.id)}_{DRUGS[t].slug}",
                f"k_transfer_per_day * {term} / {len(targets)} * S",
                ["S"],
                [r],
                f"{m.cargo} transfers resistance",
                [m.id],
            )
    # resistance fades without the drug and persists under it (parameter-anchors.md: acquired P-gp
    # resistance fades over passages without drug and persists with drug)
    for d in b.drugs:
        r = f"R_{d.slug}"
        if r in r_names:
            b.rx(f"revert_{r}", f"k_revert_per_day * (1 - H_{d.slug}) * {r}", [r], ["S"], f"{r} revert without the drug")


def _stemness(b: Builder) -> None:
    """One stem-like/mesenchymal state, fed by stemness and EMT drives and by the CAF IL-6/IL-8 drive."""
    caf_recs = [
        m.id
        for m in b.mechanisms
        if m.process is ModelProcess.ACTIVATE_CAF and {"stemness", "emt"} & {p.value for p in m.phenotypes}
    ]
    caf_drive = (
        f"(A / (tumour_Mcells + {EPS})) / ((A / (tumour_Mcells + {EPS})) + caf_stemness_half_Mcells_ratio)" if caf_recs else "0"
    )
    b.assign("drive_caf_stemness", caf_drive, "1", "CAF IL-6/IL-8 drive toward stemness", caf_recs)
    b.rx("stem_baseline", "k_stem_baseline_per_day * S", ["S"], ["C"], "baseline plasticity")
    drives = ("drive_induce_stemness", "drive_induce_emt", "drive_caf_stemness")
    b.rx(
        "stem_induced",
        "k_stem_induction_per_day * (drive_induce_stemness + drive_induce_emt + drive_caf_stemness) * S",
        ["S"],
        ["C"],
        "exosome-induced stemness and EMT",
        [r for name in drives for r in b.records_of(name)],
    )
    b.rx("stem_differentiate", "k_stem_differentiation_per_day * C", ["C"], ["S"], "stem-like cells differentiate")


def _stroma(b: Builder) -> None:
    b.rx(
        "caf_activate",
        "(k_caf_activation_per_day + k_caf_induction_per_day * drive_activate_caf) * F",
        ["F"],
        ["A"],
        "fibroblasts become CAFs",
        b.records_of("drive_activate_caf"),
    )
    b.rx("caf_revert", "k_caf_reversion_per_day * A", ["A"], ["F"], "CAFs return to quiescence")
    b.rx(
        "m2_polarise",
        "(k_m2_polarisation_per_day + k_m2_induction_per_day * drive_polarise_m2) * M1",
        ["M1"],
        ["M2"],
        "M1 to M2",
        b.records_of("drive_polarise_m2"),
    )
    b.rx("m1_repolarise", "k_m1_repolarisation_per_day * M2", ["M2"], ["M1"], "M2 to M1")
    b.rx(
        "breg_expand",
        "k_breg_induction_per_day * drive_expand_breg * breg_seed_per_tumour_cell * tumour_Mcells",
        [],
        ["B"],
        "Breg expansion",
        b.records_of("drive_expand_breg"),
    )
    b.rx("breg_loss", "k_breg_death_per_day * B", ["B"], [], "Breg loss")


def _immunity(b: Builder) -> None:
    ctx = b.context
    nk_ratio = f"NK / (tumour_Mcells + {EPS})"
    nk_kill = (
        f"k_nk_kill_per_day * ({nk_ratio}) / (kill_saturation_ratio + {nk_ratio}) * immune_efficacy / (1 + drive_suppress_nk)"
    )
    b.assign(
        "nk_kill_per_day", nk_kill, "1/day", "share of tumour cells NK cells kill per day", b.records_of("drive_suppress_nk")
    )
    kill_terms = ["nk_kill_per_day"]
    if "Te" in b.species:
        t_ratio = f"Te / (tumour_Mcells + {EPS})"
        b.assign(
            "t_kill_per_day",
            f"k_t_kill_per_day * ({t_ratio}) / (kill_saturation_ratio + {t_ratio}) * immune_efficacy",
            "1/day",
            "share of tumour cells CD8 T cells kill per day",
        )
        kill_terms.append("t_kill_per_day")
        infiltration = "".join(
            f" * (1 + {d.t_infiltration_param} * H_{d.slug})" for d in b.drugs if d.t_infiltration_param is not None
        )
        b.rx(
            "t_recruit",
            f"k_t_recruit_per_day * (1 + ctla4_priming_gain * ctla4_occupancy){infiltration} * tumour_Mcells",
            [],
            ["Te"],
            "CD8 T cells recruited (more under CTLA-4 blockade and VEGF blockade)",
        )
        b.rx("t_death", "k_t_death_per_day * Te", ["Te"], [], "CD8 effector loss")
        b.rx("tx_death", "k_t_death_per_day * Tx", ["Tx"], [], "exhausted CD8 loss")
        b.rx(
            "t_exhaust",
            "(k_t_exhaust_per_day * pd1_signal + k_t_exhaust_induction_per_day * drive_exhaust_cd8) * Te",
            ["Te"],
            ["Tx"],
            "CD8 exhaustion",
            b.records_of("drive_exhaust_cd8"),
        )
    elif ctx == "culture":
        b.assign("t_kill_per_day", "0", "1/day", "no T-cell killing modelled in culture")
    attack = f"({' + '.join(kill_terms)})"
    if "E" in b.species:
        # immunoediting: of the sensitive cells immune cells attack, a small share survives as
        # escaped cells (less killed); escaped cells slowly lose the escape state
        b.rx("immune_escape", f"immune_escape_share * {attack} * S", ["S"], ["E"], "attacked cells escape immune killing")
        b.rx("immune_kill_S", f"(1 - immune_escape_share) * {attack} * S", ["S"], [], "immune cells kill S")
        b.rx("immune_kill_E", f"immune_escape_kill_fraction * {attack} * E", ["E"], [], "immune cells kill escaped cells (less)")
        b.rx("immune_revert", "k_immune_revert_per_day * E", ["E"], ["S"], "escaped cells lose the escape state")
        killed = ["C", *b.resistant_pools()]
    else:
        killed = ["S", "C", *b.resistant_pools()]
    for x in killed:
        b.rx(f"immune_kill_{x}", f"{attack} * {x}", [x], [], f"immune cells kill {x}")
    if ctx != "culture":
        b.rx("nk_recruit", "k_nk_recruit_per_day * tumour_Mcells", [], ["NK"], "NK recruited")
        b.rx("nk_death", "k_nk_death_per_day * NK", ["NK"], [], "NK loss")
        b.par(P("k_stroma_turnover_per_day", 0.05, 0.01, 0.2, "1/day", "assumed", "turnover of fibroblasts and macrophages"))
        b.rx(
            "fib_recruit",
            "k_stroma_turnover_per_day * fibroblasts_per_tumour_cell * tumour_Mcells",
            [],
            ["F"],
            "fibroblasts follow the tumour",
        )
        for x in ("F", "A", "M1", "M2"):
            b.rx(f"{x}_turnover", f"k_stroma_turnover_per_day * {x}", [x], [], f"{x} turnover")
        b.rx(
            "mac_recruit",
            "k_stroma_turnover_per_day * macrophages_per_tumour_cell * tumour_Mcells",
            [],
            ["M1"],
            "macrophages recruited",
        )
        b.rx(
            "vascular_grow",
            "k_vascular_turnover_per_day * vascular_target",
            [],
            ["Vs"],
            "vessels form",
            b.records_of("drive_support_angiogenesis"),
        )
        b.rx("vascular_loss", "k_vascular_turnover_per_day * Vs", ["Vs"], [], "vessels regress")
