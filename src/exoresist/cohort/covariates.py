"""Baseline covariates of virtual patients: the factors that drive prognosis in advanced HCC.

Each patient carries ECOG performance status, liver function (ALBI score and grade, Child-Pugh
A5/A6), macrovascular invasion, extrahepatic spread, AFP >= 400 ng/mL, aetiology, region, sex,
age, the number of target lesions and the baseline sum of their diameters. They are drawn jointly
through a Gaussian copula: one standard normal per factor, correlated by :data:`LATENT_CORRELATION`
(assumed, where no published coefficient was found), each turned into its level by the target's
marginal shares. The default target is IMbrave150's baseline table (:data:`IMBRAVE150`); a user
target (``trial run --baseline FILE.csv``) replaces any marginal it names.

Draws come from the patient's own random stream, so a patient's covariates are the same in every
arm and chunk.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist

import numpy as np
from scipy.special import ndtr

from exoresist.cohort.result import BaselineRow

__all__ = [
    "CATEGORICAL",
    "IMBRAVE150",
    "LATENT_CORRELATION",
    "NUMERIC",
    "N_FACTORS",
    "BaselineError",
    "BaselineTable",
    "Covariates",
    "baseline_comparison",
    "draw_covariates",
    "read_baseline_csv",
]

FINN_2020 = "Finn et al., N Engl J Med 2020;382:1894 (IMbrave150), Table 1 as restated by The ASCO Post (2021)"
KUDO_2023 = "Kudo et al., Liver Cancer 2023;12:479 (PMID 37901766), Abstract: ALBI grade 1 in 191 of 336 and 87 of 165"
NMA_TABLE = "IMbrave150 column of a network meta-analysis baseline table (explorationpub.com/Journals/Tables/1002236/t1)"


class BaselineError(ValueError):
    """A baseline target that cannot be used: unknown factor or level, shares not summing to 1, ..."""


@dataclass(frozen=True)
class Level:
    share: float
    source: str


@dataclass(frozen=True)
class BaselineTable:
    """Target marginals: per categorical factor its level shares, per numeric factor its mean."""

    name: str
    shares: Mapping[str, Mapping[str, Level]]
    means: Mapping[str, Level] = field(default_factory=dict)

    def share(self, factor: str, level: str) -> float:
        return self.shares[factor][level].share

    def with_overrides(self, other: BaselineTable) -> BaselineTable:
        """This table with every factor ``other`` names replaced by ``other``'s values."""
        return BaselineTable(f"{self.name} + {other.name}", {**self.shares, **other.shares}, {**self.means, **other.means})


CATEGORICAL: dict[str, tuple[str, ...]] = {
    "ecog": ("0", "1"),
    "child_pugh": ("A5", "A6"),
    "mvi": ("no", "yes"),
    "ehs": ("no", "yes"),
    "afp_ge_400": ("no", "yes"),
    "aetiology": ("hbv", "hcv", "non_viral"),
    "region": ("asia_excl_japan", "rest_of_world"),
    "sex": ("female", "male"),
    "n_target_lesions": ("1", "2", "3", "4", "5"),
}
"""Categorical factors and their levels, in order (the latent normal is cut at the cumulative shares)."""

NUMERIC: dict[str, str] = {
    "albi_score": "ALBI score (Johnson et al. 2015 formula; grade 1 <= -2.60 < grade 2 <= -1.39)",
    "age_years": "age in years",
    "baseline_sld_mm": "baseline sum of target-lesion diameters (mm)",
}

LABELS: dict[str, str] = {
    "ecog": "ECOG performance status",
    "child_pugh": "Child-Pugh score",
    "mvi": "macrovascular invasion",
    "ehs": "extrahepatic spread",
    "afp_ge_400": "AFP >= 400 ng/mL",
    "aetiology": "aetiology",
    "region": "region",
    "sex": "sex",
    "n_target_lesions": "target lesions",
    "albi_score": "ALBI score (mean)",
    "albi_grade_1": "ALBI grade 1",
    "age_years": "age, years (mean)",
    "baseline_sld_mm": "baseline sum of diameters, mm (mean)",
    "bclc_c": "BCLC C (MVI, EHS or ECOG 1)",
}

_ALBI_GRADE1_SHARE = (191 + 87) / (336 + 165 - 1)
"""IMbrave150 ALBI grade 1, both arms (one patient's grade missing): Kudo et al. 2023."""
ALBI_SD = 0.45
"""Between-patient SD of the ALBI score (assumed)."""
ALBI_MEAN = -2.60 - NormalDist().inv_cdf(_ALBI_GRADE1_SHARE) * ALBI_SD
"""Mean ALBI score chosen so that the share of grade 1 (<= -2.60) is IMbrave150's 278 of 500 (Kudo 2023)."""

BCLC_C_SHARE = (276 + 133) / (336 + 165)
"""IMbrave150 BCLC C, both arms: 276 of 336 and 133 of 165 (a review's restatement of Finn et al. 2020)."""

LATENT_CORRELATION: dict[tuple[str, str], float] = {
    ("albi_score", "child_pugh"): 0.7,
    ("albi_score", "ecog"): 0.2,
    ("mvi", "afp_ge_400"): 0.3,
    ("mvi", "ehs"): -0.1,
    ("afp_ge_400", "ehs"): 0.1,
    ("baseline_sld_mm", "mvi"): 0.2,
    ("baseline_sld_mm", "n_target_lesions"): 0.4,
    ("region", "aetiology"): 0.5,
}
"""Correlations of the latent normals (assumed: no published coefficient was found; signs follow
clinical experience: worse ALBI with Child-Pugh A6 and worse performance status, high AFP with
vascular invasion, more lesions with a larger sum; aetiology in Asia mostly HBV: Asia and HBV are
each the lowest level of their factor, so a positive latent correlation)."""


def _ehs_share(ecog0: float, mvi: float, bclc_c: float) -> float:
    """Share with extrahepatic spread that makes the share with BCLC C (MVI, EHS or ECOG >= 1)
    equal ``bclc_c`` when the three are independent: 1 - bclc_c = ecog0 * (1 - mvi) * (1 - ehs)."""
    return min(0.95, max(0.05, 1.0 - (1.0 - bclc_c) / (ecog0 * (1.0 - mvi))))


_EHS = _ehs_share(0.62, 0.40, BCLC_C_SHARE)

IMBRAVE150 = BaselineTable(
    "IMbrave150 (both arms)",
    shares={
        "ecog": {"0": Level(0.62, FINN_2020), "1": Level(0.38, FINN_2020)},
        "child_pugh": {"A5": Level(0.72, FINN_2020 + " (A5 72 % and 73 %)"), "A6": Level(0.28, FINN_2020)},
        "mvi": {
            "no": Level(0.60, "parameter-anchors.md (IMbrave150 baseline: macrovascular invasion about 40 %)"),
            "yes": Level(0.40, "parameter-anchors.md (IMbrave150 baseline: macrovascular invasion about 40 %)"),
        },
        "ehs": {
            "no": Level(1 - _EHS, f"derived: makes BCLC C {BCLC_C_SHARE:.1%} (IMbrave150) with ECOG 1 38 % and MVI 40 %"),
            "yes": Level(_EHS, f"derived: makes BCLC C {BCLC_C_SHARE:.1%} (IMbrave150) with ECOG 1 38 % and MVI 40 %"),
        },
        "afp_ge_400": {"no": Level(0.62, FINN_2020 + " (38 % and 37 %)"), "yes": Level(0.38, FINN_2020)},
        "aetiology": {"hbv": Level(0.48, NMA_TABLE), "hcv": Level(0.22, NMA_TABLE), "non_viral": Level(0.30, NMA_TABLE)},
        "region": {"asia_excl_japan": Level(0.40, FINN_2020), "rest_of_world": Level(0.60, FINN_2020)},
        "sex": {"female": Level(0.18, FINN_2020), "male": Level(0.82, FINN_2020)},
        "n_target_lesions": {
            "1": Level(0.40, "assumed"),
            "2": Level(0.30, "assumed"),
            "3": Level(0.15, "assumed"),
            "4": Level(0.10, "assumed"),
            "5": Level(0.05, "assumed"),
        },
    },
    means={
        "albi_score": Level(ALBI_MEAN, KUDO_2023 + "; SD 0.45 assumed"),
        "age_years": Level(64.0, FINN_2020 + " (median 64 and 66)"),
        "baseline_sld_mm": Level(80.0, "assumed (no IMbrave150 figure found)"),
    },
)
"""The default first-line target (IMbrave150's baseline table, both arms)."""

AGE_SD = 10.0
SLD_LOG_SD = 0.5
"""Spread of age (years) and of the log baseline sum of diameters (assumed)."""
SLD_BOUNDS_MM = (10.0, 300.0)


@dataclass(frozen=True)
class Covariates:
    """Covariates of ``n`` patients: categorical levels as strings, numeric values as floats."""

    levels: dict[str, np.ndarray]
    values: dict[str, np.ndarray]

    @property
    def n(self) -> int:
        return int(next(iter(self.values.values())).shape[0])

    def flag(self, factor: str, level: str) -> np.ndarray:
        """1.0 where the factor has that level."""
        out: np.ndarray = (self.levels[factor] == level).astype(float)
        return out

    def bclc_c(self) -> np.ndarray:
        out: np.ndarray = np.maximum.reduce([self.flag("mvi", "yes"), self.flag("ehs", "yes"), self.flag("ecog", "1")])
        return out

    def albi_grade_1(self) -> np.ndarray:
        return (self.values["albi_score"] <= -2.60).astype(float)

    def n_lesions(self) -> np.ndarray:
        return self.levels["n_target_lesions"].astype(int).astype(float)

    def columns(self) -> dict[str, np.ndarray]:
        """Per-patient columns for the patient table (``cov:<factor>``)."""
        out: dict[str, np.ndarray] = {f"cov:{k}": v for k, v in self.levels.items()}
        out.update({f"cov:{k}": v for k, v in self.values.items()})
        return out

    @staticmethod
    def from_columns(columns: Mapping[str, np.ndarray]) -> Covariates:
        levels = {k: np.asarray(columns[f"cov:{k}"]).astype(str) for k in CATEGORICAL}
        values = {k: np.asarray(columns[f"cov:{k}"], dtype=float) for k in NUMERIC}
        return Covariates(levels, values)


def _factor_order() -> list[str]:
    return [*CATEGORICAL, *NUMERIC]


def _correlation_matrix() -> np.ndarray:
    names = _factor_order()
    index = {n: i for i, n in enumerate(names)}
    c = np.eye(len(names))
    for (a, b), r in LATENT_CORRELATION.items():
        c[index[a], index[b]] = c[index[b], index[a]] = r
    return c


_CHOL = np.linalg.cholesky(_correlation_matrix())


def draw_covariates(z: np.ndarray, target: BaselineTable = IMBRAVE150) -> Covariates:
    """Covariates from independent standard normals ``z`` (shape ``(n, n_factors)``): correlated by
    :data:`LATENT_CORRELATION`, then cut at the target's cumulative shares (categorical) or scaled to
    its mean (numeric)."""
    names = _factor_order()
    if z.ndim != 2 or z.shape[1] != len(names):
        raise ValueError(f"z must have shape (n, {len(names)})")
    latent = z @ _CHOL.T
    u = ndtr(latent)
    levels: dict[str, np.ndarray] = {}
    for j, factor in enumerate(CATEGORICAL):
        choices = CATEGORICAL[factor]
        shares = np.array([target.share(factor, lv) for lv in choices])
        cuts = np.cumsum(shares)[:-1]
        levels[factor] = np.array(choices, dtype=object)[np.searchsorted(cuts, u[:, j], side="right")].astype(str)
    offset = len(CATEGORICAL)
    values = {
        "albi_score": target.means["albi_score"].share + ALBI_SD * latent[:, offset],
        "age_years": target.means["age_years"].share + AGE_SD * latent[:, offset + 1],
        "baseline_sld_mm": np.clip(
            target.means["baseline_sld_mm"].share * np.exp(SLD_LOG_SD * latent[:, offset + 2] - SLD_LOG_SD**2 / 2),
            *SLD_BOUNDS_MM,
        ),
    }
    return Covariates(levels, values)


N_FACTORS = len(CATEGORICAL) + len(NUMERIC)


def read_baseline_csv(path: Path | str) -> BaselineTable:
    """A target table from CSV with columns ``factor, level, value``: a categorical factor's rows
    give the share of each of its levels (they must cover every level and sum to 1, shares or
    percentages); a numeric factor's single row (``level`` empty or ``mean``) gives its mean.
    Raises :class:`BaselineError` naming the row."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: cannot read the baseline table ({exc})") from None
    rows = list(csv.DictReader(text.splitlines()))
    if not rows or {"factor", "level", "value"} - set(rows[0]):
        raise BaselineError(f"{path}: needs the columns factor, level, value")
    shares: dict[str, dict[str, Level]] = {}
    means: dict[str, Level] = {}
    source = f"user table {path.name}"
    for line, row in enumerate(rows, start=2):
        factor, level = (row["factor"] or "").strip(), (row["level"] or "").strip()
        try:
            value = float(row["value"])
        except (TypeError, ValueError):
            raise BaselineError(f"{path}:{line}: value '{row['value']}' is not a number") from None
        if not math.isfinite(value):
            raise BaselineError(f"{path}:{line}: value must be finite")
        if factor in NUMERIC:
            means[factor] = Level(value, source)
        elif factor in CATEGORICAL:
            if level not in CATEGORICAL[factor]:
                raise BaselineError(
                    f"{path}:{line}: unknown level '{level}' of {factor} (levels: {', '.join(CATEGORICAL[factor])})"
                )
            if value < 0:
                raise BaselineError(f"{path}:{line}: a share cannot be negative")
            shares.setdefault(factor, {})[level] = Level(value, source)
        else:
            known = ", ".join([*CATEGORICAL, *NUMERIC])
            raise BaselineError(f"{path}:{line}: unknown factor '{factor}' (known: {known})")
    for factor, lv in shares.items():
        missing = set(CATEGORICAL[factor]) - set(lv)
        if missing:
            raise BaselineError(f"{path}: factor {factor} lacks the level(s) {', '.join(sorted(missing))}")
        total = sum(x.share for x in lv.values())
        scale = 100.0 if abs(total - 100.0) < 0.5 else 1.0
        if abs(total / scale - 1.0) > 0.01:
            raise BaselineError(f"{path}: the shares of {factor} sum to {total:g}, not 1 (or 100)")
        shares[factor] = {k: Level(v.share / scale, v.source) for k, v in lv.items()}
    return BaselineTable(path.name, shares, means)


def baseline_comparison(cov: Covariates, target: BaselineTable) -> list[BaselineRow]:
    """Simulated against target, one row per factor level (shares) or numeric factor (means)."""
    rows: list[BaselineRow] = []
    for factor, levels in CATEGORICAL.items():
        for level in levels:
            rows.append(
                {
                    "factor": factor,
                    "label": LABELS[factor],
                    "level": level,
                    "simulated": float(cov.flag(factor, level).mean()) if cov.n else math.nan,
                    "target": target.share(factor, level),
                    "source": target.shares[factor][level].source,
                    "kind": "share",
                }
            )
    for factor in NUMERIC:
        rows.append(
            {
                "factor": factor,
                "label": LABELS[factor],
                "level": "mean",
                "simulated": float(cov.values[factor].mean()) if cov.n else math.nan,
                "target": target.means[factor].share,
                "source": target.means[factor].source,
                "kind": "mean",
            }
        )
    rows.append(
        {
            "factor": "albi_grade_1",
            "label": LABELS["albi_grade_1"],
            "level": "yes",
            "simulated": float(cov.albi_grade_1().mean()) if cov.n else math.nan,
            "target": _ALBI_GRADE1_SHARE if target is IMBRAVE150 else math.nan,
            "source": KUDO_2023,
            "kind": "share",
        }
    )
    rows.append(
        {
            "factor": "bclc_c",
            "label": LABELS["bclc_c"],
            "level": "yes",
            "simulated": float(cov.bclc_c().mean()) if cov.n else math.nan,
            "target": BCLC_C_SHARE if target is IMBRAVE150 else math.nan,
            "source": "IMbrave150 BCLC C 276/336 and 133/165 (review restating Finn et al. 2020)",
            "kind": "share",
        }
    )
    return rows
