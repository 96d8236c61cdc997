"""Therapies as the model sees them: pharmacokinetics, pharmacodynamics and standard schedules.

Each :class:`DrugModel` names the KB therapy it implements, how it is given (continuous oral input,
intravenous bolus, antibody two-compartment bolus, radiation fractions), its standard schedule, and
what it does (kill tumour cells, block PD-1/PD-L1 or CTLA-4, lower vascular support). Parameters
not given in ``parameter-anchors.md`` are generated here as ``assumed`` with prior ranges.

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
class DrugModel:
    therapy_id: str
    slug: str
    route: Literal["oral", "iv", "antibody", "radiation"]
    dose_param: str  # mg per day (oral), mg or mg/m2 or mg/kg per dose (iv, antibody), Gy per fraction
    dose_scaling: Literal["flat", "per_m2", "per_kg"]
    schedule: Schedule
    kills_tumour: bool
    checkpoint: Literal["pd1_axis", "ctla4"] | None = None
    antiangiogenic: bool = False


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

DRUGS: dict[str, DrugModel] = {
    d.therapy_id: d
    for d in (
        DrugModel(
            "ther:sorafenib", "sorafenib", "oral", "sorafenib_dose_mg_per_day", "flat", _CONTINUOUS, True, antiangiogenic=True
        ),
        DrugModel(
            "ther:lenvatinib", "lenvatinib", "oral", "lenvatinib_dose_mg_per_day", "flat", _CONTINUOUS, True, antiangiogenic=True
        ),
        DrugModel(
            "ther:regorafenib",
            "regorafenib",
            "oral",
            "regorafenib_dose_mg_per_day",
            "flat",
            Schedule(cycle_day=28.0, on_off_day=(0.0, 21.0)),
            True,
            antiangiogenic=True,
        ),
        DrugModel(
            "ther:cabozantinib",
            "cabozantinib",
            "oral",
            "cabozantinib_dose_mg_per_day",
            "flat",
            _CONTINUOUS,
            True,
            antiangiogenic=True,
        ),
        DrugModel("ther:everolimus", "everolimus", "oral", "everolimus_dose_mg_per_day", "flat", _CONTINUOUS, True),
        DrugModel(
            "ther:atezolizumab", "atezolizumab", "antibody", "atezolizumab_dose_mg", "flat", Schedule(21.0), False, "pd1_axis"
        ),
        DrugModel(
            "ther:bevacizumab",
            "bevacizumab",
            "antibody",
            "bevacizumab_dose_mg_per_kg",
            "per_kg",
            Schedule(21.0),
            False,
            antiangiogenic=True,
        ),
        DrugModel("ther:nivolumab", "nivolumab", "antibody", "nivolumab_dose_mg", "flat", Schedule(14.0), False, "pd1_axis"),
        DrugModel(
            "ther:pembrolizumab", "pembrolizumab", "antibody", "pembrolizumab_dose_mg", "flat", Schedule(21.0), False, "pd1_axis"
        ),
        DrugModel("ther:durvalumab", "durvalumab", "antibody", "durvalumab_dose_mg", "flat", Schedule(28.0), False, "pd1_axis"),
        DrugModel(
            "ther:tremelimumab",
            "tremelimumab",
            "antibody",
            "tremelimumab_dose_mg",
            "flat",
            Schedule(1e9, n_cycles=1),
            False,
            "ctla4",
        ),
        DrugModel("ther:cisplatin", "cisplatin", "iv", "cisplatin_dose_mg_per_m2", "per_m2", Schedule(21.0), True),
        DrugModel("ther:doxorubicin", "doxorubicin", "iv", "doxorubicin_dose_mg_per_m2", "per_m2", Schedule(21.0), True),
        DrugModel("ther:5-fluorouracil", "fluorouracil", "iv", "fluorouracil_dose_mg_per_m2", "per_m2", Schedule(14.0), True),
        DrugModel("ther:oxaliplatin", "oxaliplatin", "iv", "oxaliplatin_dose_mg_per_m2", "per_m2", Schedule(14.0), True),
        DrugModel(
            "ther:gemcitabine",
            "gemcitabine",
            "iv",
            "gemcitabine_dose_mg_per_m2",
            "per_m2",
            Schedule(21.0, dose_days=(0.0, 7.0)),
            True,
        ),
        DrugModel(
            "ther:radiotherapy",
            "radiotherapy",
            "radiation",
            "rt_fraction_Gy",
            "flat",
            Schedule(7.0, dose_days=(0.0, 1.0, 2.0, 3.0, 4.0), n_cycles=6, source="conventional 2 Gy x 30 fractions (assumed)"),
            True,
        ),
    )
}


def all_parameters() -> tuple[Parameter, ...]:
    """Base and drug parameters, each once."""
    seen: dict[str, Parameter] = {}
    for p in (*BASE_PARAMETERS, *EXTRA_PARAMETERS):
        if p.name in seen:
            raise ValueError(f"parameter {p.name} is defined twice")
        seen[p.name] = p
    return tuple(seen.values())


def pk_names(drug: DrugModel) -> tuple[str, str, str]:
    """(elimination rate, volume expression, EC50) parameter names or expressions for small molecules."""
    s = drug.slug
    if s in ("cisplatin", "doxorubicin"):
        return f"{s}_k_el_per_day", f"({s}_volume_L_per_m2 * body_surface_m2)", f"{s}_ec50_mg_per_L"
    if drug.route == "iv":
        return "chemo_k_el_per_day", "(chemo_volume_L_per_m2 * body_surface_m2)", f"{s}_ec50_mg_per_L"
    ec50 = "sorafenib_ic50_mg_per_L" if s == "sorafenib" else f"{s}_ec50_mg_per_L"
    return f"{s}_k_el_per_day", f"{s}_volume_L", ec50


def kmax_name(drug: DrugModel) -> str:
    return f"{drug.slug}_kmax_per_day"
