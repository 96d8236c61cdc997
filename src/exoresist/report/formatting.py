"""How numbers read in the report: one place, so the tables, captions and legends agree."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

NOT_REACHED = "not reached"
NOT_AVAILABLE = "–"
DASH = "–"


def _finite(x: Any) -> float | None:
    """``x`` as a float, or None when it is missing, NaN or infinite."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def number(x: Any, digits: int = 1) -> str:
    """``x`` with ``digits`` decimals, or an en dash when it is missing or not finite.

    >>> number(3.14159, 2), number(float("nan")), number(-0.001, 2)
    ('3.14', '–', '0.00')
    """
    v = _finite(x)
    if v is None:
        return NOT_AVAILABLE
    text = f"{v:.{digits}f}"
    return f"{0.0:.{digits}f}" if float(text) == 0.0 else text  # no "-0.00"


def percent(fraction: Any, digits: int = 1) -> str:
    """A fraction (0..1) as a percentage without the sign.

    >>> percent(0.234)
    '23.4'
    """
    v = _finite(fraction)
    return NOT_AVAILABLE if v is None else f"{100.0 * v:.{digits}f}"


def percent_ci(value: Mapping[str, Any]) -> str:
    """``{estimate, ci_low, ci_high}`` fractions as ``23.4 (20.8–26.1)``, in percent."""
    est = percent(value["estimate"])
    if est == NOT_AVAILABLE:
        return est
    return f"{est} ({percent(value['ci_low'])}{DASH}{percent(value['ci_high'])})"


def _bound(x: Any) -> str:
    """A confidence bound of a median: ``NR`` (not reached) when the curve never crosses it."""
    v = _finite(x)
    return "NR" if v is None else f"{v:.1f}"


def median_ci(value: Mapping[str, Any]) -> str:
    """``{median, ci_low, ci_high}`` in months as ``8.1 (6.9–9.4)``; ``not reached`` when the
    median is NaN or infinite, ``NR`` for a bound that is.

    >>> median_ci({"median": 8.13, "ci_low": 6.9, "ci_high": float("inf")})
    '8.1 (6.9–NR)'
    >>> median_ci({"median": float("inf"), "ci_low": 20.0, "ci_high": float("inf")})
    'not reached'
    """
    m = _finite(value["median"])
    if m is None:
        return NOT_REACHED
    return f"{m:.1f} ({_bound(value['ci_low'])}{DASH}{_bound(value['ci_high'])})"


def hazard_ratio(value: Mapping[str, Any]) -> str:
    """``{hr, ci_low, ci_high}`` as ``0.72 (0.61–0.85)``."""
    hr = number(value["hr"], 2)
    if hr == NOT_AVAILABLE:
        return hr
    return f"{hr} ({number(value['ci_low'], 2)}{DASH}{number(value['ci_high'], 2)})"


def p_value(p: Any) -> str:
    """A p-value: three decimals, ``< 0.001`` below that.

    >>> p_value(0.04321), p_value(1e-9)
    ('0.043', '< 0.001')
    """
    v = _finite(p)
    if v is None:
        return NOT_AVAILABLE
    return "< 0.001" if v < 0.001 else f"{v:.3f}"


def duration(seconds: Any) -> str:
    """A wall time in seconds as ``42 s``, ``3 min 05 s`` or ``1 h 02 min``; other values as given.

    >>> duration(185), duration(3725.0)
    ('3 min 05 s', '1 h 02 min')
    """
    v = _finite(seconds)
    if v is None:
        return str(seconds)
    s = round(v)
    if s < 60:
        return f"{v:.1f} s" if v < 10 else f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"
