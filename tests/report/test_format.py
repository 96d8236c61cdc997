"""How numbers read: never an exception, and 'not reached' exactly when the median is not finite."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from exoresist.report import formatting as fmt

anything = st.floats(allow_nan=True, allow_infinity=True)


@given(median=anything, low=anything, high=anything)
def test_median_reads_not_reached_exactly_when_not_finite(median: float, low: float, high: float) -> None:
    text = fmt.median_ci({"median": median, "ci_low": low, "ci_high": high})
    assert (text == fmt.NOT_REACHED) == (not math.isfinite(median))
    if math.isfinite(median):
        assert text.startswith(f"{median:.1f} (")


@given(estimate=anything, low=anything, high=anything)
def test_percentages_and_ratios_always_format(estimate: float, low: float, high: float) -> None:
    assert fmt.percent_ci({"estimate": estimate, "ci_low": low, "ci_high": high})
    assert fmt.hazard_ratio({"hr": estimate, "ci_low": low, "ci_high": high})
    assert fmt.p_value(estimate)
