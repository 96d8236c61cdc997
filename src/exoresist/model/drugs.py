"""Therapies as the model sees them: pharmacokinetics, pharmacodynamics and standard schedules.

Each :class:`DrugModel` names the KB therapy it implements and holds, as data, everything that makes
one drug differ from another: how it is given (a :class:`PK` route with its parameter names), its
standard schedule, and what it does (kill tumour cells, block PD-1/PD-L1 or CTLA-4, lower vascular
support). The assembler reads only these fields; it has no drug names in its code. Adding a drug
is a KB therapy record plus one entry of :data:`DRUGS` (and its parameters, when new); a test fails
when a modelled drug has no KB record or a KB drug record is neither modelled nor listed in
:data:`NOT_MODELLED`.

Parameters not given in ``parameter-anchors.md`` are generated here as ``assumed`` with prior ranges.
Oral drugs taken once or twice daily are modelled as a continuous input at the average daily rate
while the drug is on: for sorafenib the peak/trough ratio at steady state is below 2 (anchors), so
averaging changes exposure little, and it keeps the model free of two events per day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from exoresist.model.parameters import BASE_PARAMETERS, P
from exoresist.model.spec import Parameter

LABEL = "standard label dosing (curator, not from parameter-anchors.md)"


@dataclass(frozen=True)
class Schedule:
    """When a drug is given. ``cycle_day``: length of a cycle; ``dose_days``: days of each cycle on
    which a bolus is given (or, for continuous oral drugs, the on-window ``[on_day, off_day)``)."""

    cycle_day: float
    dose_days: tuple[float, ...] = (0.0,)
    on_off_day: tuple[float, float] | None = None  # continuous drugs: on at first, off at second (per cycle)
    n_cycles: int | None = None  # None: until the end of the simulation
    source: str = LABEL


@dataclass(frozen=True)
class OralPK:
    """Continuous oral input into one (apparent) compartment while the drug is on."""

    dose_param: str  # mg/day
    bioavailability_param: str
    k_el_param: str  # 1/day
    volume_expr: str  # L

    route: Literal["oral"] = "oral"


@dataclass(frozen=True)
class IntravenousPK:
    """Intravenous bolus per body-surface area into one compartment."""

    dose_param: str  # mg/m2
    k_el_param: str
    volume_expr: str  # L (an expression in body surface)

    route: Literal["iv"] = "iv"


@dataclass(frozen=True)
class AntibodyPK:
    """Infusion of a monoclonal antibody: one compartment (``vp_param`` None) or two."""

    dose_param: str  # mg (flat) or mg/kg
    dose_scaling: Literal["flat", "per_kg"]
    cl_param: str  # L/day
    vc_param: str  # L
    vp_param: str | None = None
    q_param: str | None = None

    route: Literal["antibody"] = "antibody"


@dataclass(frozen=True)
class RadiationPK:
    """External-beam fractions (linear-quadratic cell kill at each fraction)."""

    fraction_param: str  # Gy per fraction

    route: Literal["radiation"] = "radiation"


PK = OralPK | IntravenousPK | AntibodyPK | RadiationPK


@dataclass(frozen=True)
class DrugModel:
    """One therapy's model. ``half_effect_param`` is the concentration at which the drug has half its
    effect (EC50 of kill, anti-angiogenic EC50, or an antibody's binding constant); culture and mouse
    exposures are set as multiples of it."""

    therapy_id: str
    slug: str
    pk: PK
    schedule: Schedule
    half_effect_param: str | None = None
    kmax_param: str | None = None  # culture and mouse: maximal kill rate of sensitive cells (1/day); None: no kill
    patient_kmax_param: str | None = None  # patient: maximal kill rate of sensitive tumour cells (1/day)
    growth_inhibition_param: str | None = None  # maximal fall of the proliferation of sensitive cells (0-1)
    patient_ec50_param: str | None = None  # in the patient: concentration for half effect (small molecules)
    checkpoint: Literal["pd1_axis", "ctla4"] | None = None
    antiangiogenic_param: str | None = None  # maximal fall of vascular support (0-1)
    t_infiltration_param: str | None = None  # anti-VEGF: maximal rise of CD8 T-cell recruitment (fold - 1)

    @property
    def route(self) -> str:
        return self.pk.route

    @property
    def kills_tumour(self) -> bool:
        """True for drugs that act on tumour cells between doses, and for radiotherapy (kill at each fraction)."""
        return self.continuous_kill or isinstance(self.pk, RadiationPK)

    @property
    def continuous_kill(self) -> bool:
        """Kills or stops tumour cells between doses (radiotherapy acts at its fractions instead);
        such a drug has a reversibly resistant pool ``R_<drug>``."""
        return self.kmax_param is not None or self.growth_inhibition_param is not None or self.patient_kmax_param is not None

    @property
    def antiangiogenic(self) -> bool:
        return self.antiangiogenic_param is not None


def _oral(slug: str, dose: float, lo: float, hi: float, source: str = LABEL) -> list[Parameter]:
    return [
        P(f"{slug}_dose_mg_per_day", dose, lo, hi, "mg/day", source, f"{slug} daily dose", "linear"),
        P(f"{slug}_bioavailability", 0.8, 0.5, 1.0, "1", "assumed", f"{slug} bioavailability", "linear"),
        P(f"{slug}_k_el_per_day", 0.5, 0.2, 2.0, "1/day", "assumed", f"{slug} elimination"),
        P(f"{slug}_volume_L", 200.0, 50.0, 1000.0, "L", "assumed", f"{slug} apparent volume"),
        P(f"{slug}_ec50_mg_per_L", 1.0, 0.1, 10.0, "mg/L", "assumed", f"{slug} concentration for half-maximal kill"),
        P(f"{slug}_kmax_per_day", 0.5, 0.1, 2.0, "1/day", "assumed", f"maximal {slug} kill rate (in vitro potency)"),
    ]


def _chemo(slug: str, dose: float, source: str = LABEL) -> list[Parameter]:
    return [
        P(f"{slug}_dose_mg_per_m2", dose, dose * 0.5, dose * 1.2, "mg/m2", source, f"{slug} dose per administration", "linear"),
        P(f"{slug}_ec50_mg_per_L", 1.0, 0.05, 20.0, "mg/L", "assumed", f"{slug} concentration for half-maximal kill"),
        P(f"{slug}_kmax_per_day", 2.0, 0.2, 10.0, "1/day", "assumed", f"maximal {slug} kill rate"),
    ]


def _antibody(slug: str, dose: float, unit: str, source: str = LABEL) -> list[Parameter]:
    return [P(f"{slug}_dose_{unit}", dose, dose * 0.5, dose * 1.2, unit.replace("_per_", "/"), source, f"{slug} dose", "linear")]


EXTRA_PARAMETERS: tuple[Parameter, ...] = tuple(
    [
        *_oral("regorafenib", 160.0, 80.0, 160.0),
        *_oral("cabozantinib", 60.0, 20.0, 60.0),
        *_oral("everolimus", 10.0, 5.0, 10.0),
        P(
            "regorafenib_antiangiogenic",
            0.5,
            0.1,
            0.9,
            "1",
            "assumed",
            "maximal fall of vascular support under regorafenib",
            "linear",
        ),
        P(
            "cabozantinib_antiangiogenic",
            0.5,
            0.1,
            0.9,
            "1",
            "assumed",
            "maximal fall of vascular support under cabozantinib",
            "linear",
        ),
        P(
            "sorafenib_bioavailability",
            1.0,
            1.0,
            1.0,
            "1",
            "V/F and CL/F are apparent values (already per bioavailable dose)",
            "sorafenib bioavailability",
            "linear",
        ),
        *_chemo("cisplatin", 75.0),
        *_chemo("doxorubicin", 60.0),
        *_chemo("fluorouracil", 400.0),
        *_chemo("oxaliplatin", 85.0),
        *_chemo("gemcitabine", 1000.0),
        *_antibody("atezolizumab", 1200.0, "mg", "atezolizumab 1200 mg every 3 weeks (parameter-anchors.md)"),
        *_antibody("bevacizumab", 15.0, "mg_per_kg", "bevacizumab 15 mg/kg every 3 weeks in HCC (parameter-anchors.md)"),
        *_antibody("nivolumab", 240.0, "mg"),
        *_antibody("pembrolizumab", 200.0, "mg"),
        *_antibody("durvalumab", 1500.0, "mg"),
        *_antibody("tremelimumab", 300.0, "mg"),
        *_antibody(
            "ipilimumab",
            3.0,
            "mg_per_kg",
            "ipilimumab 3 mg/kg every 3 weeks x 4 in CheckMate 040 arm A (Yau et al., JAMA Oncol 2020)",
        ),
        *_antibody(
            "ramucirumab", 8.0, "mg_per_kg", "ramucirumab 8 mg/kg every 2 weeks (Zhu et al., Clin Cancer Res 2013, phase 2)"
        ),
        P(
            "ramucirumab_antiangiogenic",
            0.5,
            0.1,
            0.9,
            "1",
            "assumed",
            "maximal fall of vascular support under ramucirumab (anti-VEGFR2)",
            "linear",
        ),
        P(
            "ramucirumab_ec50_mg_per_L",
            20.0,
            2.0,
            100.0,
            "mg/L",
            "assumed",
            "ramucirumab concentration for half-maximal anti-angiogenic effect",
        ),
        P(
            "bevacizumab_t_infiltration_gain",
            1.0,
            0.0,
            5.0,
            "1",
            "assumed (VEGF blockade relieves VEGF-driven exclusion of T cells)",
            "maximal rise of CD8 T-cell recruitment under bevacizumab (fold - 1)",
            "linear",
        ),
        P(
            "ramucirumab_t_infiltration_gain",
            1.0,
            0.0,
            5.0,
            "1",
            "assumed (as for bevacizumab)",
            "maximal rise of CD8 T-cell recruitment under ramucirumab (fold - 1)",
            "linear",
        ),
        P("ctla4_priming_gain", 1.0, 0.2, 3.0, "1", "assumed", "maximal rise of T-cell recruitment under CTLA-4 blockade"),
        P(
            "drug_exposure_ratio_fixed",
            1.0,
            0.0,
            1000.0,
            "1",
            "set by the experiment",
            "culture exposure as a multiple of each drug's EC50",
            "linear",
        ),
    ]
)

_CONTINUOUS = Schedule(cycle_day=1e9, on_off_day=(0.0, 1e9))


def _oral_drug(
    slug: str, schedule: Schedule = _CONTINUOUS, *, antiangiogenic: bool = False, ec50: str | None = None
) -> DrugModel:
    """A small molecule taken by mouth that kills tumour cells (its parameters follow the naming
    ``<slug>_dose_mg_per_day``, ``_bioavailability``, ``_k_el_per_day``, ``_volume_L``, ``_kmax_per_day``)."""
    return DrugModel(
        f"ther:{slug}",
        slug,
        OralPK(f"{slug}_dose_mg_per_day", f"{slug}_bioavailability", f"{slug}_k_el_per_day", f"{slug}_volume_L"),
        schedule,
        half_effect_param=ec50 or f"{slug}_ec50_mg_per_L",
        kmax_param=f"{slug}_kmax_per_day",
        patient_kmax_param=f"{slug}_patient_kmax_per_day",
        growth_inhibition_param=f"{slug}_growth_inhibition",
        patient_ec50_param=f"{slug}_patient_ec50_mg_per_L",
        antiangiogenic_param=f"{slug}_antiangiogenic" if antiangiogenic else None,
    )


def _iv_drug(therapy_id: str, slug: str, schedule: Schedule, *, own_pk: bool) -> DrugModel:
    """Intravenous chemotherapy; ``own_pk``: its own elimination and volume anchors, else the generic ones."""
    k_el, vol = (
        (f"{slug}_k_el_per_day", f"({slug}_volume_L_per_m2 * body_surface_m2)")
        if own_pk
        else ("chemo_k_el_per_day", "(chemo_volume_L_per_m2 * body_surface_m2)")
    )
    return DrugModel(
        therapy_id,
        slug,
        IntravenousPK(f"{slug}_dose_mg_per_m2", k_el, vol),
        schedule,
        half_effect_param=f"{slug}_ec50_mg_per_L",
        kmax_param=f"{slug}_kmax_per_day",
        patient_kmax_param=f"{slug}_patient_kmax_per_day",
        growth_inhibition_param=f"{slug}_growth_inhibition",
        patient_ec50_param=f"{slug}_patient_ec50_mg_per_L",
    )


def _checkpoint(
    slug: str,
    cycle_day: float,
    target: Literal["pd1_axis", "ctla4"],
    *,
    n_cycles: int | None = None,
    dose_scaling: Literal["flat", "per_kg"] = "flat",
) -> DrugModel:
    """A checkpoint antibody (two compartments, the atezolizumab popPK volumes and clearance)."""
    dose = f"{slug}_dose_mg" if dose_scaling == "flat" else f"{slug}_dose_mg_per_kg"
    return DrugModel(
        f"ther:{slug}",
        slug,
        AntibodyPK(dose, dose_scaling, "antibody_cl_L_per_day", "antibody_vc_L", "antibody_vp_L", "antibody_q_L_per_day"),
        Schedule(cycle_day, n_cycles=n_cycles),
        half_effect_param="checkpoint_kd_mg_per_L",
        checkpoint=target,
    )


DRUGS: dict[str, DrugModel] = {
    d.therapy_id: d
    for d in (
        _oral_drug("sorafenib", antiangiogenic=True, ec50="sorafenib_ic50_mg_per_L"),
        _oral_drug("lenvatinib", antiangiogenic=True),
        _oral_drug("regorafenib", Schedule(cycle_day=28.0, on_off_day=(0.0, 21.0)), antiangiogenic=True),
        _oral_drug("cabozantinib", antiangiogenic=True),
        _oral_drug("everolimus"),
        _checkpoint("atezolizumab", 21.0, "pd1_axis"),
        DrugModel(
            "ther:bevacizumab",
            "bevacizumab",
            AntibodyPK("bevacizumab_dose_mg_per_kg", "per_kg", "bevacizumab_cl_L_per_day", "bevacizumab_v_L"),
            Schedule(21.0),
            half_effect_param="bevacizumab_ec50_mg_per_L",
            antiangiogenic_param="bevacizumab_antiangiogenic",
            t_infiltration_param="bevacizumab_t_infiltration_gain",
        ),
        DrugModel(
            "ther:ramucirumab",
            "ramucirumab",
            AntibodyPK(
                "ramucirumab_dose_mg_per_kg",
                "per_kg",
                "antibody_cl_L_per_day",
                "antibody_vc_L",
                "antibody_vp_L",
                "antibody_q_L_per_day",
            ),
            Schedule(14.0),
            half_effect_param="ramucirumab_ec50_mg_per_L",
            antiangiogenic_param="ramucirumab_antiangiogenic",
            t_infiltration_param="ramucirumab_t_infiltration_gain",
        ),
        _checkpoint("ipilimumab", 21.0, "ctla4", n_cycles=4, dose_scaling="per_kg"),
        _checkpoint("nivolumab", 14.0, "pd1_axis"),
        _checkpoint("pembrolizumab", 21.0, "pd1_axis"),
        _checkpoint("durvalumab", 28.0, "pd1_axis"),
        _checkpoint("tremelimumab", 1e9, "ctla4", n_cycles=1),
        _iv_drug("ther:cisplatin", "cisplatin", Schedule(21.0), own_pk=True),
        _iv_drug("ther:doxorubicin", "doxorubicin", Schedule(21.0), own_pk=True),
        _iv_drug("ther:5-fluorouracil", "fluorouracil", Schedule(14.0), own_pk=False),
        _iv_drug("ther:oxaliplatin", "oxaliplatin", Schedule(14.0), own_pk=False),
        _iv_drug("ther:gemcitabine", "gemcitabine", Schedule(21.0, dose_days=(0.0, 7.0)), own_pk=False),
        DrugModel(
            "ther:radiotherapy",
            "radiotherapy",
            RadiationPK("rt_fraction_Gy"),
            Schedule(7.0, dose_days=(0.0, 1.0, 2.0, 3.0, 4.0), n_cycles=6, source="conventional 2 Gy x 30 fractions (assumed)"),
        ),
    )
}

SORAFENIB_GROWTH_SHARE = 85.7 / (665.0 / 3.0)
"""Tumour growth under sorafenib relative to untreated growth: untreated HCC volume doubles in a
median 85.7 days (Kim et al., Clin Mol Hepatol 2015;21:279); under sorafenib the tumour burden (a sum
of diameters, growing 0.12 mm/day) doubles in a median 665 days (Kolamunnage-Dona et al., J Hepatol
2021), a volume doubling of 665 / 3 days. Both in parameter-anchors.md."""
TYPICAL_ACTION = 0.75
"""Fractional effect of a small molecule at the mean level of its approved dose in a typical
patient (assumed: approved doses sit near the top of the exposure-response curve)."""
_SORAFENIB_GI = (1.0 - SORAFENIB_GROWTH_SHARE) / TYPICAL_ACTION
"""Sorafenib's growth inhibition of sensitive cells in patients (its anti-angiogenic effect
included): the tumour grows at :data:`SORAFENIB_GROWTH_SHARE` of its untreated rate at the typical
action."""

PATIENT_PD: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    # slug: ((patient kill default, low, high) in 1/day, (growth inhibition default, low, high))
    "sorafenib": ((0.003, 0.0003, 0.03), (_SORAFENIB_GI, 0.4, 1.0)),
    "lenvatinib": ((0.006, 0.0003, 0.05), (_SORAFENIB_GI, 0.4, 1.0)),
    "regorafenib": ((0.003, 0.0003, 0.03), (_SORAFENIB_GI, 0.4, 1.0)),
    "cabozantinib": ((0.003, 0.0003, 0.03), (_SORAFENIB_GI, 0.4, 1.0)),
    "everolimus": ((0.001, 0.0001, 0.02), (0.3, 0.05, 0.9)),
    "cisplatin": ((1.0, 0.1, 10.0), (0.0, 0.0, 0.5)),
    "doxorubicin": ((1.0, 0.1, 10.0), (0.0, 0.0, 0.5)),
    "fluorouracil": ((1.0, 0.1, 10.0), (0.0, 0.0, 0.5)),
    "oxaliplatin": ((1.0, 0.1, 10.0), (0.0, 0.0, 0.5)),
    "gemcitabine": ((1.0, 0.1, 10.0), (0.0, 0.0, 0.5)),
}
"""Each small molecule's action on patient tumours: the maximal kill rate of sensitive cells
(assumed: small, as sorafenib is mainly cytostatic in the clinic; twice sorafenib's for lenvatinib,
whose phase 2 study in HCC saw partial responses in 37 % by mRECIST, Ikeda et al., J Gastroenterol
2017) and the maximal fall of their proliferation: sorafenib's from its effect on tumour growth
(:data:`SORAFENIB_GROWTH_SHARE`); the other tyrosine-kinase inhibitors take sorafenib's (assumed,
no figure found for them); everolimus assumed weaker."""
GROWTH_INHIBITION_SOURCES = {
    "sorafenib": "derived: growth on sorafenib is 0.39 of untreated (Kim 2015; Kolamunnage-Dona 2021) at 0.75"
    " action, anti-angiogenic effect included",
}


def _typical_level(d: DrugModel, values: dict[str, float]) -> float:
    """Mean concentration (mg/L) of the standard dose in a typical patient: at steady state for a
    continuous oral drug (times its share of days on), over one cycle for intravenous boluses."""

    def ev(expr: str) -> float:
        return float(eval(expr, {"__builtins__": {}}, values))

    pk = d.pk
    if isinstance(pk, OralPK):
        on, off = d.schedule.on_off_day or (0.0, d.schedule.cycle_day)
        share = min(1.0, (off - on) / d.schedule.cycle_day)
        return ev(pk.dose_param) * ev(pk.bioavailability_param) / (ev(pk.k_el_param) * ev(pk.volume_expr)) * share
    if isinstance(pk, IntravenousPK):
        per_cycle = ev(pk.dose_param) * ev("body_surface_m2") * len(d.schedule.dose_days)
        return per_cycle / (ev(pk.k_el_param) * ev(pk.volume_expr) * d.schedule.cycle_day)
    raise ValueError(f"{d.therapy_id}: no typical level for route {pk.route}")


def _patient_pd_parameters() -> tuple[Parameter, ...]:
    values = {p.name: p.default for p in (*BASE_PARAMETERS, *EXTRA_PARAMETERS)}
    out: list[Parameter] = []
    for d in DRUGS.values():
        if d.patient_ec50_param is None:
            continue
        (k, klo, khi), (g, glo, ghi) = PATIENT_PD[d.slug]
        level = _typical_level(d, values)
        ec50 = level * (1.0 - TYPICAL_ACTION) / TYPICAL_ACTION
        out += [
            P(
                d.patient_kmax_param or "",
                k,
                klo,
                khi,
                "1/day",
                "assumed",
                f"maximal {d.slug} kill rate of sensitive tumour cells in patients",
            ),
            P(
                d.growth_inhibition_param or "",
                g,
                glo,
                ghi,
                "1",
                GROWTH_INHIBITION_SOURCES.get(d.slug, "assumed (sorafenib's)" if glo >= 0.4 else "assumed"),
                f"maximal fall of the proliferation of sensitive tumour cells under {d.slug}",
                "linear",
            ),
            P(
                d.patient_ec50_param,
                ec50,
                ec50 / 3,
                ec50 * 3,
                "mg/L",
                f"assumed: the mean level of the standard dose in a typical patient ({level:.3g} mg/L from the PK"
                f" defaults) gives {TYPICAL_ACTION:g} of the maximal effect",
                f"{d.slug} plasma concentration for half its effect on patient tumours",
            ),
        ]
    return tuple(out)


PATIENT_PD_PARAMETERS = _patient_pd_parameters()


NOT_MODELLED: dict[str, str] = {
    "ther:camptothecin": "a topoisomerase inhibitor the review names only from one in-vitro study; not used in HCC",
    "ther:chloroquine": "an autophagy inhibitor the KB models as a co-treatment intervention (int:chloroquine-sorafenib)",
}
"""KB therapy records (drugs, not regimens) that have no pharmacological model, and why."""


def all_parameters() -> tuple[Parameter, ...]:
    """Base and drug parameters, each once."""
    seen: dict[str, Parameter] = {}
    for p in (*BASE_PARAMETERS, *EXTRA_PARAMETERS, *PATIENT_PD_PARAMETERS):
        if p.name in seen:
            raise ValueError(f"parameter {p.name} is defined twice")
        seen[p.name] = p
    return tuple(seen.values())
