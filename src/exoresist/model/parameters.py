"""The parameter table: every parameter with its unit in its name, a default, a prior range and a
source. A value no source gives is ``assumed``, has a prior range, and enters sensitivity analysis.

Sources are the figures in ``shared/docs/parameter-anchors.md``; where a default is derived from
them (a clearance from a trough concentration and a half-life), the derivation is stated.
Per-record strengths (how strongly each exosomal mechanism acts) are generated in
:mod:`exoresist.model.assemble`, one per record, and are all ``assumed``.
"""

from __future__ import annotations

import math

from exoresist.model.spec import Parameter

LN2 = math.log(2.0)

ANCHOR_WANG = "Wang J. et al., J Control Release 2017;268:147 (parameter-anchors.md)"
ANCHOR_CHIU = "Chiu et al. 2016, as reported secondhand (parameter-anchors.md)"
ANCHOR_SORA = "sorafenib product information; SORAMIC PK sub-study; Japanese retrospective study 2020 (parameter-anchors.md)"
ANCHOR_SORA_IC50 = "AACR 2012 abstract (Hep3B, PLC/PRF/5), parameter-anchors.md"
ANCHOR_LEVELS = "Rodríguez-Hernández et al., Cell Death Dis 2020 (parameter-anchors.md)"
ANCHOR_LENVA = "lenvatinib product information (parameter-anchors.md)"
ANCHOR_ATEZO = "atezolizumab product information; popPK (parameter-anchors.md)"
ANCHOR_BEVA = "Han et al. 2016 (parameter-anchors.md)"
ANCHOR_CDDP = "cisplatin product label; Vermorken 1982 (parameter-anchors.md)"
ANCHOR_DOX = "doxorubicin product label (parameter-anchors.md)"
ANCHOR_ANDE = "Ande et al., J Pharmacokinet Pharmacodyn 2018 (parameter-anchors.md)"
ANCHOR_BIU87 = "Biol Open 2019, BIU-87 cells (parameter-anchors.md): resistance fades without drug"
ANCHOR_RECIST = "RECIST 1.1 sphere diameter (6V/pi)^(1/3) (parameter-anchors.md)"

SORAFENIB_MOLAR_MASS_G_PER_MOL = 464.8  # parameter-anchors.md


def P(
    name: str,
    default: float,
    low: float,
    high: float,
    unit: str,
    source: str,
    description: str,
    scale: str = "log",
) -> Parameter:
    if not low <= default <= high:
        raise ValueError(f"parameter {name}: default {default} outside its prior [{low}, {high}]")
    return Parameter(name, default, low, high, unit, source, description, scale=scale)  # type: ignore[arg-type]


def _half_life_to_rate(half_life_day: float) -> float:
    return LN2 / half_life_day


# Sorafenib 400 mg bid: trough 3.2 mg/L (median), half-life 25-48 h. Modelled as a continuous
# input of 800 mg/day (peak/trough < 2 justifies averaging) into one compartment:
# CL/F = 800 / 3.2 = 250 L/day; k = ln2 / 1.5 day (36 h, mid-range) -> V/F = CL/k.
_SORA_K = _half_life_to_rate(1.5)
_SORA_CL = 800.0 / 3.2
_SORA_V = _SORA_CL / _SORA_K
# Lenvatinib 12 mg/day: half-life about 28 h, Vss 43-121 L, bioavailability about 85%.
_LENVA_K = _half_life_to_rate(28.0 / 24.0)
# Atezolizumab: two-compartment, Vc 3.28 L, Vss 6.91 L, CL 0.2 L/day. Inter-compartment clearance
# is not among the anchors and is assumed.
# Cisplatin: parent half-life 20-30 min; doxorubicin: terminal half-life 20-48 h.
_CDDP_K = _half_life_to_rate(25.0 / 1440.0)
_DOX_K = _half_life_to_rate(34.0 / 24.0)

BASE_PARAMETERS: tuple[Parameter, ...] = (
    # --- tumour growth and cell states -------------------------------------------------------
    P("k_growth_patient_per_day", 0.004, 0.001, 0.02, "1/day", ANCHOR_ANDE, "net growth rate of a patient tumour"),
    P("k_growth_mouse_per_day", 0.15, 0.05, 0.4, "1/day", "assumed", "growth rate of a subcutaneous HCC xenograft"),
    P("k_growth_culture_per_day", 0.5, 0.2, 1.0, "1/day", "assumed", "proliferation rate of HCC cell lines in culture"),
    P("capacity_patient_Mcells", 5e5, 1e5, 2e6, "Mcells", "assumed", "carrying capacity of the liver tumour bed"),
    P("capacity_mouse_Mcells", 3000.0, 1000.0, 1e4, "Mcells", "assumed", "carrying capacity of a xenograft"),
    P("capacity_culture_Mcells", 2.0, 0.5, 5.0, "Mcells", "assumed", "confluence of a culture well"),
    P("stem_growth_factor", 0.5, 0.2, 1.0, "1", "assumed", "growth of cancer stem cells relative to bulk cells", "linear"),
    P("k_stem_differentiation_per_day", 0.05, 0.01, 0.2, "1/day", "assumed", "stem-like cells returning to the bulk state"),
    P("k_stem_baseline_per_day", 0.002, 0.0002, 0.01, "1/day", "assumed", "baseline conversion of bulk cells to stem-like state"),
    P(
        "k_stem_induction_per_day",
        0.004,
        0.0005,
        0.05,
        "1/day",
        "assumed",
        "maximal exosome-driven conversion to stem-like state",
    ),
    P(
        "k_transfer_per_day",
        0.02,
        0.002,
        0.2,
        "1/day",
        "assumed",
        "maximal exosome-driven conversion of sensitive to resistant cells",
    ),
    P("k_adapt_per_day", 0.005, 0.0005, 0.05, "1/day", "assumed", "drug-induced switching of sensitive cells to resistance"),
    P("k_revert_per_day", 0.03, 0.005, 0.2, "1/day", ANCHOR_BIU87 + "; rate assumed", "resistant cells reverting without signal"),
    P("resistant_kill_fraction", 0.2, 0.05, 0.6, "1", "assumed", "drug kill on resistant cells relative to sensitive", "linear"),
    P("stem_kill_fraction", 0.3, 0.05, 0.7, "1", "assumed", "drug kill on stem-like cells relative to bulk", "linear"),
    P(
        "stem_secretion_factor",
        3.0,
        1.0,
        10.0,
        "1",
        "assumed",
        "vesicle secretion of stem-like cells relative to bulk (design.md)",
    ),
    P(
        "cell_volume_mm3_per_Mcell",
        1.0,
        0.5,
        2.0,
        "mm3/Mcell",
        "assumed (about 1e9 cells per cm3)",
        "tumour volume per million cells",
    ),
    P(
        "immune_escape_share",
        0.01,
        0.001,
        0.1,
        "1",
        "assumed (immunoediting: tumour cells under immune attack that survive as escape variants)",
        "share of immune-attacked sensitive cells that become immune-escaped instead of dying",
    ),
    P(
        "immune_escape_kill_fraction",
        0.1,
        0.01,
        0.5,
        "1",
        "assumed",
        "immune killing of escaped tumour cells relative to sensitive cells",
        "linear",
    ),
    P("k_immune_revert_per_day", 0.001, 0.0001, 0.01, "1/day", "assumed", "escaped tumour cells losing the escape state"),
    # --- exosome kinetics ----------------------------------------------------------------------
    P(
        "k_exosome_decay_per_day",
        16.6,
        1.0,
        100.0,
        "1/day",
        "assumed (half-life of minutes in blood, parameter-anchors.md; tissue value unknown: 1 h)",
        "loss of vesicle cargo by decay and washout",
    ),
    P(
        "k_exosome_uptake_per_day",
        5.0,
        0.5,
        50.0,
        "1/day",
        "assumed (uptake saturates and reaches nearly all cells, Heusermann 2016)",
        "uptake of vesicle cargo by recipient cells",
    ),
    P(
        "secretion_per_Mcell_day",
        1.0,
        1.0,
        1.0,
        "cu/Mcell/day",
        "definition: 1 cargo unit (cu) is one donor's baseline daily output",
        "baseline cargo secretion per donor cell",
        "linear",
    ),
    P("exposure_half_max", 1.0, 0.1, 10.0, "1", "assumed", "normalised cargo exposure giving half the maximal effect"),
    P("drug_induction_max", 2.0, 0.5, 5.0, "1", "assumed", "maximal rise of drug-induced cargo secretion (fold - 1)"),
    P(
        "k_neutralise_per_day",
        20.0,
        2.0,
        100.0,
        "1/day",
        "assumed",
        "extra clearance of a cargo bound by a neutralising antibody",
    ),
    P(
        "secretion_blockade_efficacy",
        0.7,
        0.3,
        0.95,
        "1",
        "assumed",
        "fraction of donor secretion removed by RAB27A/B knockdown",
        "linear",
    ),
    P("engineered_dose_cu", 1.0, 0.1, 10.0, "cu/Mcell", "assumed", "engineered-vesicle dose per tumour cell per administration"),
    # --- immune and stromal populations ------------------------------------------------------
    P("fibroblasts_per_tumour_cell", 0.2, 0.05, 1.0, "1", "assumed", "fibroblasts per tumour cell in a tumour"),
    P("k_caf_activation_per_day", 0.02, 0.005, 0.1, "1/day", "assumed", "baseline activation of fibroblasts into CAFs"),
    P("k_caf_induction_per_day", 0.05, 0.005, 0.5, "1/day", "assumed", "maximal exosome-driven CAF activation"),
    P("k_caf_reversion_per_day", 0.05, 0.01, 0.2, "1/day", "assumed", "CAFs returning to quiescence"),
    P(
        "caf_stemness_half_Mcells_ratio",
        0.2,
        0.02,
        2.0,
        "1",
        "assumed",
        "CAF:tumour ratio giving half-maximal IL-6/IL-8 stemness drive",
    ),
    P("macrophages_per_tumour_cell", 0.1, 0.02, 0.5, "1", "assumed", "macrophages per tumour cell"),
    P("k_m2_polarisation_per_day", 0.05, 0.01, 0.3, "1/day", "assumed", "baseline M1 to M2 polarisation"),
    P("k_m1_repolarisation_per_day", 0.1, 0.02, 0.5, "1/day", "assumed", "M2 to M1 repolarisation"),
    P("k_m2_induction_per_day", 0.05, 0.005, 0.5, "1/day", "assumed", "maximal exosome-driven M2 polarisation"),
    P("k_t_recruit_per_day", 0.01, 0.001, 0.05, "1/day", "assumed", "CD8 T-cell recruitment per tumour cell"),
    P("k_t_death_per_day", 0.1, 0.03, 0.3, "1/day", "assumed", "CD8 T-cell death or egress"),
    P("k_t_exhaust_per_day", 0.05, 0.01, 0.2, "1/day", "assumed", "baseline CD8 exhaustion under PD-1 signalling"),
    P("k_t_exhaust_induction_per_day", 0.05, 0.005, 0.5, "1/day", "assumed", "maximal exosome-driven CD8 exhaustion"),
    P("k_t_kill_per_day", 0.5, 0.05, 3.0, "1/day", "assumed", "tumour cells killed per effector T cell per day"),
    P("pd1_suppression", 4.0, 1.0, 10.0, "1", "assumed", "fold reduction of T and NK killing by unblocked PD-1 signalling"),
    P("k_nk_recruit_per_day", 0.005, 0.0005, 0.02, "1/day", "assumed", "NK recruitment per tumour cell"),
    P("k_nk_death_per_day", 0.2, 0.05, 0.5, "1/day", "assumed", "NK death or egress"),
    P("k_nk_kill_per_day", 0.3, 0.03, 2.0, "1/day", "assumed", "tumour cells killed per NK cell per day"),
    P("k_breg_induction_per_day", 0.2, 0.05, 1.0, "1/day", "assumed", "maximal exosome-driven regulatory B-cell expansion"),
    P("k_breg_death_per_day", 0.1, 0.03, 0.3, "1/day", "assumed", "regulatory B-cell loss"),
    P("breg_seed_per_tumour_cell", 0.001, 0.0001, 0.01, "1", "assumed", "regulatory B cells available per tumour cell"),
    P("breg_half_suppression_ratio", 0.01, 0.001, 0.1, "1", "assumed", "Breg:tumour ratio halving T-cell killing"),
    P("m2_suppression", 1.0, 0.2, 5.0, "1", "assumed", "extra fold suppression of T killing when all macrophages are M2"),
    P("kill_saturation_ratio", 1.0, 0.1, 10.0, "1", "assumed", "effector:tumour ratio at half-maximal killing per effector"),
    # --- vasculature ---------------------------------------------------------------------------
    P("k_vascular_turnover_per_day", 0.1, 0.02, 0.5, "1/day", "assumed", "relaxation of vascular support to its target"),
    P("angiogenesis_gain", 1.0, 0.2, 3.0, "1", "assumed", "maximal rise of vascular support by exosomal pro-angiogenic cargo"),
    # --- pharmacokinetics (patient) ----------------------------------------------------------
    P(
        "sorafenib_dose_mg_per_day",
        800.0,
        800.0,
        800.0,
        "mg/day",
        "standard dosing 400 mg bid (parameter-anchors.md)",
        "sorafenib daily dose",
        "linear",
    ),
    P(
        "sorafenib_k_el_per_day",
        _SORA_K,
        _half_life_to_rate(2.0),
        _half_life_to_rate(25 / 24),
        "1/day",
        ANCHOR_SORA + ": half-life 25-48 h",
        "sorafenib elimination",
    ),
    P(
        "sorafenib_volume_L",
        _SORA_V,
        200.0,
        1500.0,
        "L",
        ANCHOR_SORA + ": derived V/F = (800 mg/day / 3.2 mg/L) / k",
        "sorafenib apparent volume",
    ),
    P(
        "sorafenib_ic50_mg_per_L",
        7.5 * SORAFENIB_MOLAR_MASS_G_PER_MOL / 1000.0,
        1.0,
        10.0,
        "mg/L",
        ANCHOR_SORA_IC50 + ": 7.5 uM x 464.8 g/mol",
        "sorafenib concentration for half-maximal kill",
    ),
    P(
        "sorafenib_kmax_per_day",
        0.5,
        0.1,
        2.0,
        "1/day",
        "assumed",
        "maximal sorafenib kill rate of tumour cells (in vitro potency)",
    ),
    P("mouse_exposure_ratio", 0.3, 0.03, 3.0, "1", "assumed", "effective xenograft exposure as a multiple of each drug's EC50"),
    P("sorafenib_antiangiogenic", 0.5, 0.1, 0.9, "1", "assumed", "maximal fall of vascular support under sorafenib", "linear"),
    P(
        "lenvatinib_dose_mg_per_day",
        12.0,
        8.0,
        12.0,
        "mg/day",
        "standard dosing 12 mg (>=60 kg) or 8 mg daily (parameter-anchors.md)",
        "lenvatinib daily dose",
        "linear",
    ),
    P("lenvatinib_bioavailability", 0.85, 0.7, 0.95, "1", ANCHOR_LENVA, "lenvatinib bioavailability", "linear"),
    P(
        "lenvatinib_k_el_per_day",
        _LENVA_K,
        _LENVA_K * 0.7,
        _LENVA_K * 1.4,
        "1/day",
        ANCHOR_LENVA + ": half-life about 28 h",
        "lenvatinib elimination",
    ),
    P("lenvatinib_volume_L", 80.0, 43.0, 121.0, "L", ANCHOR_LENVA + ": Vss 43-121 L", "lenvatinib volume"),
    P(
        "lenvatinib_ec50_mg_per_L",
        0.2,
        0.02,
        2.0,
        "mg/L",
        "assumed (order of the steady-state level)",
        "lenvatinib concentration for half-maximal kill",
    ),
    P("lenvatinib_kmax_per_day", 0.5, 0.1, 2.0, "1/day", "assumed", "maximal lenvatinib kill rate (in vitro potency)"),
    P("lenvatinib_antiangiogenic", 0.6, 0.1, 0.9, "1", "assumed", "maximal fall of vascular support under lenvatinib", "linear"),
    P(
        "antibody_vc_L",
        3.28,
        2.5,
        4.0,
        "L",
        ANCHOR_ATEZO,
        "antibody central volume (atezolizumab; used for all checkpoint antibodies)",
    ),
    P("antibody_vp_L", 6.91 - 3.28, 2.0, 5.0, "L", ANCHOR_ATEZO + ": Vss - Vc", "antibody peripheral volume"),
    P("antibody_cl_L_per_day", 0.2, 0.1, 0.4, "L/day", ANCHOR_ATEZO, "antibody clearance"),
    P("antibody_q_L_per_day", 0.5, 0.2, 1.5, "L/day", "assumed", "antibody inter-compartment clearance"),
    P("bevacizumab_cl_L_per_day", 0.214, 0.1, 0.4, "L/day", ANCHOR_BEVA, "bevacizumab clearance"),
    P("bevacizumab_v_L", 3.28, 2.5, 4.5, "L", ANCHOR_BEVA, "bevacizumab volume"),
    P(
        "checkpoint_kd_mg_per_L",
        1.0,
        0.1,
        10.0,
        "mg/L",
        "assumed",
        "antibody concentration giving half receptor occupancy in the tumour",
    ),
    P(
        "bevacizumab_ec50_mg_per_L",
        20.0,
        2.0,
        100.0,
        "mg/L",
        "assumed",
        "bevacizumab concentration for half-maximal anti-angiogenic effect",
    ),
    P(
        "bevacizumab_antiangiogenic",
        0.5,
        0.1,
        0.9,
        "1",
        "assumed",
        "maximal fall of vascular support under bevacizumab",
        "linear",
    ),
    P("body_weight_kg", 70.0, 45.0, 110.0, "kg", "assumed", "body weight for weight-based doses", "linear"),
    P("body_surface_m2", 1.8, 1.4, 2.3, "m2", "assumed", "body-surface area for chemotherapy doses", "linear"),
    P(
        "cisplatin_k_el_per_day",
        _CDDP_K,
        _half_life_to_rate(30 / 1440),
        _half_life_to_rate(20 / 1440),
        "1/day",
        ANCHOR_CDDP + ": parent half-life 20-30 min",
        "cisplatin elimination",
    ),
    P("cisplatin_volume_L_per_m2", 11.5, 11.0, 12.0, "L/m2", ANCHOR_CDDP + ": Vss 11-12 L/m2", "cisplatin volume", "linear"),
    P(
        "doxorubicin_k_el_per_day",
        _DOX_K,
        _half_life_to_rate(48 / 24),
        _half_life_to_rate(20 / 24),
        "1/day",
        ANCHOR_DOX + ": terminal half-life 20-48 h",
        "doxorubicin elimination",
    ),
    P(
        "doxorubicin_volume_L_per_m2",
        1000.0,
        809.0,
        1214.0,
        "L/m2",
        ANCHOR_DOX + ": Vss 809-1214 L/m2",
        "doxorubicin volume",
        "linear",
    ),
    P("chemo_k_el_per_day", 10.0, 1.0, 50.0, "1/day", "assumed", "elimination of 5-FU, oxaliplatin and gemcitabine (generic)"),
    P("chemo_volume_L_per_m2", 20.0, 5.0, 100.0, "L/m2", "assumed", "volume of 5-FU, oxaliplatin and gemcitabine (generic)"),
    P("chemo_ec50_mg_per_L", 1.0, 0.1, 10.0, "mg/L", "assumed", "chemotherapy concentration for half-maximal kill (generic)"),
    P("chemo_kmax_per_day", 2.0, 0.2, 10.0, "1/day", "assumed", "maximal chemotherapy kill rate (generic)"),
    # --- radiotherapy --------------------------------------------------------------------------
    P("rt_alpha_per_Gy", 0.3, 0.1, 0.5, "1/Gy", "assumed (alpha/beta = 10 Gy, typical of tumours)", "linear-quadratic alpha"),
    P("rt_beta_per_Gy2", 0.03, 0.01, 0.05, "1/Gy2", "assumed", "linear-quadratic beta"),
    P("rt_fraction_Gy", 2.0, 1.8, 8.0, "Gy", "standard fractionation (assumed)", "dose per fraction", "linear"),
    P(
        "rt_signal_decay_per_day",
        0.5,
        0.1,
        2.0,
        "1/day",
        "assumed",
        "decay of the irradiation stress signal that raises secretion",
    ),
)
