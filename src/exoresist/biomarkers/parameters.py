"""Parameters of the observation model: how a tumour's exosomal cargo becomes a number in a plasma assay.

Every value is either cited or ``assumed`` with a prior range (the same :class:`Parameter` type as
the model's, so the table reads like ``docs/parameters.md``). The equations that use them are in
:mod:`exoresist.biomarkers.observation`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from exoresist.biomarkers.errors import BiomarkerError
from exoresist.model.spec import Parameter

WEEK4_DAY = 28.0
"""The on-treatment sample (week 4), in days after the baseline scan."""


def _p(name: str, default: float, low: float, high: float, unit: str, source: str, desc: str, scale: str = "log") -> Parameter:
    return Parameter(name, default, low, high, unit, source, desc, (), scale)  # type: ignore[arg-type]


OBSERVATION_PARAMETERS: tuple[Parameter, ...] = (
    _p(
        "plasma_release_fraction",
        0.05,
        0.005,
        0.3,
        "1",
        "assumed",
        "share of a tumour cargo pool's turnover (decay + uptake) that enters the blood instead of being lost locally",
    ),
    _p(
        "plasma_half_life_min",
        10.0,
        2.0,
        60.0,
        "min",
        "assumed (parameter-anchors.md: circulating vesicle half-life of minutes, from several reviews; no value for"
        " tumour-derived vesicles in patients)",
        "half-life of circulating vesicles in plasma",
    ),
    _p(
        "plasma_clearance_cv",
        0.3,
        0.1,
        0.6,
        "1",
        "assumed",
        "between-patient coefficient of variation of the plasma clearance (log-normal; liver function differs)",
        "linear",
    ),
    _p("plasma_volume_L", 3.0, 2.5, 3.5, "L", "assumed (an adult's plasma volume)", "plasma volume", "linear"),
    _p(
        "background_donor_Mcells",
        1e4,
        1e3,
        1e5,
        "Mcells",
        "assumed",
        "plasma level from non-tumour sources (healthy liver, blood cells), as the number of baseline donor cells whose"
        " release would give it",
    ),
    _p(
        "background_cv",
        0.5,
        0.2,
        1.0,
        "1",
        "assumed",
        "between-patient coefficient of variation of the non-tumour level (log-normal)",
        "linear",
    ),
    _p(
        "assay_cv",
        0.15,
        0.05,
        0.35,
        "1",
        "assumed; 15 % is the precision acceptance limit (20 % at the LLOQ) of the EMA Guideline on bioanalytical"
        " method validation, EMEA/CHMP/EWP/192217/2009 (2011)",
        "analytical coefficient of variation of one measurement (log-normal)",
        "linear",
    ),
    _p(
        "preanalytical_cv",
        0.2,
        0.05,
        0.4,
        "1",
        "assumed",
        "coefficient of variation from sample handling (processing delay, haemolysis, freeze-thaw), per sample (log-normal)",
        "linear",
    ),
    _p(
        "lloq_fraction_of_background",
        0.25,
        0.05,
        1.0,
        "1",
        "assumed (an assay developed to detect the cargo in healthy-donor plasma)",
        "lower limit of quantification as a fraction of the population median of the non-tumour level",
    ),
)


class ObservationError(BiomarkerError):
    """An observation parameter that does not exist or has an impossible value."""


@dataclass(frozen=True)
class ObservationParameters:
    """:data:`OBSERVATION_PARAMETERS` defaults with ``values`` on top (a sensitivity analysis varies them)."""

    values: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        known = {p.name for p in OBSERVATION_PARAMETERS}
        for name, value in self.values.items():
            if name not in known:
                raise ObservationError(f"unknown observation parameter '{name}' (known: {', '.join(sorted(known))})")
            if not math.isfinite(value) or value <= 0:
                raise ObservationError(f"observation parameter {name} must be a finite number > 0, got {value}")

    def __getitem__(self, name: str) -> float:
        if name in self.values:
            return float(self.values[name])
        for p in OBSERVATION_PARAMETERS:
            if p.name == name:
                return p.default
        raise KeyError(name)

    def as_dict(self) -> dict[str, float]:
        return {p.name: self[p.name] for p in OBSERVATION_PARAMETERS}


def sample_days(follow_up_day: float, scan_interval_day: float) -> tuple[float, ...]:
    """Plasma sampling days after the baseline scan: baseline, week 4, then every scan within follow-up.

    >>> sample_days(130.0, 42.0)
    (0.0, 28.0, 42.0, 84.0, 126.0)
    """
    scans = [scan_interval_day * k for k in range(1, math.floor(follow_up_day / scan_interval_day + 1e-9) + 1)]
    return tuple(sorted({0.0, WEEK4_DAY, *scans}))


def parameter_rows() -> list[dict[str, object]]:
    """The observation parameters as table rows (name, default, prior range, unit, source, description)."""
    return [
        {
            "name": p.name,
            "default": p.default,
            "low": p.low,
            "high": p.high,
            "unit": p.unit,
            "source": p.source,
            "description": p.description,
        }
        for p in OBSERVATION_PARAMETERS
    ]
