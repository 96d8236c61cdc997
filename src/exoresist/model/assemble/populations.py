"""Cell populations and their initial values in each context."""

from __future__ import annotations

from exoresist.model.assemble._builder import Builder
from exoresist.model.parameters import P

TUMOUR_INIT = {"culture": "0.1", "mouse": "100", "patient": "init_tumour_patient_Mcells"}
INITIAL_STATE_PARAMETERS = (
    P("init_tumour_patient_Mcells", 3e4, 3e3, 2e5, "Mcells", "assumed (a 3 cm3 liver tumour)", "initial patient tumour cells"),
    P("init_stem_fraction", 0.02, 0.005, 0.1, "1", "assumed", "initial fraction of stem-like tumour cells", "linear"),
    P(
        "init_immune_escape_fraction",
        0.02,
        0.001,
        0.5,
        "1",
        "assumed (heterogeneous antigen presentation and interferon signalling between HCCs)",
        "initial fraction of patient tumour cells that escape T- and NK-cell killing",
    ),
)
"""Parameters of the initial tumour, added to every assembled model."""

CULTURE_POPULATIONS = (
    ("F", "fibroblasts (co-culture)"),
    ("A", "cancer-associated fibroblasts (co-culture)"),
    ("M1", "M1 macrophages (co-culture)"),
    ("M2", "M2 macrophages (co-culture)"),
    ("Te", "effector CD8 T cells (co-culture)"),
    ("Tx", "exhausted CD8 T cells (co-culture)"),
    ("NK", "NK cells (co-culture)"),
    ("B", "regulatory B cells (co-culture)"),
)
"""Populations a culture experiment may add to the dish (0 unless it sets them)."""


def build_populations(b: Builder) -> None:
    """Tumour cells (sensitive, stem-like), stroma, immune cells and vascular support."""
    for p in INITIAL_STATE_PARAMETERS:
        b.par(p)
    ctx = b.context
    t0 = TUMOUR_INIT[ctx]
    escape = " - init_immune_escape_fraction" if ctx == "patient" else ""
    b.sp("S", f"{t0} * (1 - init_stem_fraction{escape})", "Mcells", "drug-sensitive tumour cells")
    b.sp("C", f"{t0} * init_stem_fraction", "Mcells", "cancer stem-like cells (intrinsically resistant, high secretion)")
    if ctx == "patient":
        b.sp(
            "E",
            f"{t0} * init_immune_escape_fraction",
            "Mcells",
            "tumour cells that escape immune killing (immune-edited or adaptively resistant), otherwise like S",
        )
    if ctx == "culture":
        for name, desc in CULTURE_POPULATIONS:
            b.par(P(f"culture_init_{name}_Mcells", 0.0, 0.0, 1.0, "Mcells", "set by the experiment", f"initial {desc}", "linear"))
            b.sp(name, f"culture_init_{name}_Mcells", "Mcells", desc)
        return
    b.sp("F", f"{t0} * fibroblasts_per_tumour_cell", "Mcells", "quiescent fibroblasts")
    b.sp("A", "0", "Mcells", "cancer-associated fibroblasts")
    b.sp("M1", f"{t0} * macrophages_per_tumour_cell", "Mcells", "M1 (anti-tumour) macrophages")
    b.sp("M2", "0", "Mcells", "M2 (tumour-supporting) macrophages")
    b.sp("NK", f"{t0} * k_nk_recruit_per_day / k_nk_death_per_day", "Mcells", "NK cells in the tumour")
    b.sp("B", "0", "Mcells", "regulatory B cells (TIM-1+ Bregs)")
    b.sp("Vs", "1", "1", "vascular support (1 = baseline perfusion)")
    if ctx == "patient":
        b.sp("Te", f"{t0} * k_t_recruit_per_day / k_t_death_per_day", "Mcells", "effector CD8 T cells in the tumour")
        b.sp("Tx", "0", "Mcells", "exhausted CD8 T cells")
    else:
        b.notes.append("mouse context: nude-mouse xenograft without T cells (records' in-vivo strains are in their evidence)")
