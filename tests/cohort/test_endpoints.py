"""Per-patient endpoints (RECIST response, progression, death, DoR) of hand-made tumour trajectories."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from exoresist.cohort.covariates import Covariates
from exoresist.cohort.endpoints import SD_MIN_DAY, endpoints, safe_ratio, scan_days
from exoresist.cohort.population import (
    DAYS_PER_MONTH,
    MAX_FOLLOW_UP_MONTHS,
    MAX_SCANS,
    SCAN_INTERVAL_DAY,
    sum_of_diameters,
)
from tests.cohort.synthetic import covariates, disease, piecewise, trajectories

T = np.arange(0.0, 365.0, 1.0)  # days from the baseline scan; follow-up ends on day 364
END_MONTH = 364.0 / DAYS_PER_MONTH


def _one(
    knots: list[tuple[float, float]],
    *,
    cov: Covariates | None = None,
    params: dict[str, float] | None = None,
    later_line_share: float = 0.0,
    withdrawal_share: float = 0.0,
    **random_values: float,
) -> dict[str, Any]:
    """Endpoints of one patient whose sphere-equivalent diameter follows ``knots`` (no jitter; no
    death, new lesion, later line or withdrawal unless given)."""
    traj = trajectories(T, piecewise(T, knots), cov, **random_values)
    ends = endpoints(traj, disease(**(params or {})), later_line_share, withdrawal_share)
    row: dict[str, Any] = ends.iloc[0].to_dict()
    return row


def test_scan_days_every_six_weeks_up_to_the_end() -> None:
    assert scan_days(364.0).tolist() == [42.0 * k for k in range(9)]
    assert scan_days(42.0).tolist() == [0.0, 42.0]
    assert scan_days(41.9).tolist() == [0.0]


def test_shrinking_tumour_confirmed_at_the_next_scan_is_a_partial_response() -> None:
    """50 mm to 30 mm (-40 %) at the 6-week scan and still 28 mm at 12 weeks: PR, first seen at
    6 weeks, lasting to the end of follow-up (censored)."""
    r = _one([(0, 50), (42, 30), (84, 28), (126, 29)])
    assert r["bor"] == "PR" and r["baseline_sld_mm"] == pytest.approx(50.0)
    assert r["best_change_pct"] == pytest.approx(-44.0)
    assert r["response_month"] == pytest.approx(42.0 / DAYS_PER_MONTH)
    assert not r["progressed"] and not r["pfs_event"] and r["pfs_month"] == pytest.approx(END_MONTH)
    assert r["dor_month"] == pytest.approx((364.0 - 42.0) / DAYS_PER_MONTH) and not r["dor_event"]


def test_shrinking_by_less_than_30_percent_is_stable_disease() -> None:
    r = _one([(0, 50), (42, 36), (400, 36)])  # -28 %
    assert r["bor"] == "SD" and math.isnan(float(r["dor_month"]))
    assert SD_MIN_DAY <= SCAN_INTERVAL_DAY  # SD counts from the first scan


def test_lesions_below_5_mm_are_a_complete_response() -> None:
    r = _one([(0, 50), (42, 4.0), (400, 3.0)])
    assert r["bor"] == "CR"
    # per lesion: three equal lesions of the same total volume are each smaller than the whole
    three = covariates(1, n_target_lesions="3")
    dia = 6.5  # sphere-equivalent diameter; each of three lesions is 6.5 / 3 ** (1/3) = 4.5 mm
    assert dia / 3 ** (1 / 3) < 5.0 < dia  # the synthetic disease's cr_lesion_mm
    assert _one([(0, 50), (42, dia), (400, dia)], cov=three)["bor"] == "CR"
    assert _one([(0, 50), (42, dia), (400, dia)])["bor"] == "PR"  # one lesion of 6.5 mm: still there


def test_growing_tumour_progresses_at_the_scan_that_sees_20_percent() -> None:
    """52 mm at 6 weeks (+4 %), 62 mm at 12 weeks (+24 %): PD dated at day 84; best response SD."""
    r = _one([(0, 50), (42, 52), (84, 62), (126, 70)])
    assert r["progressed"] and r["ttp_event"] and r["pfs_event"]
    assert r["ttp_month"] == pytest.approx(84.0 / DAYS_PER_MONTH)
    assert r["pfs_month"] == pytest.approx(84.0 / DAYS_PER_MONTH)
    assert r["bor"] == "SD" and not r["progression_by_new_lesion"]
    assert not r["os_event"] and r["os_month"] == pytest.approx(END_MONTH)


def test_progression_is_dated_at_the_patients_own_scan_day() -> None:
    """The second assessment falls 3 days late: progression seen on day 87."""
    traj = trajectories(T, piecewise(T, [(0, 50), (42, 52), (84, 62), (126, 70)]))
    traj.randoms["scan_jitter_day"][0, 1] = 3.0  # jitter of the second post-baseline scan (day 84)
    r = endpoints(traj, disease(), 0.0).iloc[0]
    assert r["ttp_month"] == pytest.approx(87.0 / DAYS_PER_MONTH)


def test_duration_of_response_runs_from_first_response_to_progression() -> None:
    """PR at 6 weeks, nadir 25 mm, 40 mm (+60 % over the nadir) at day 210: DoR 168 days, an event."""
    r = _one([(0, 50), (42, 30), (84, 25), (168, 25), (210, 40)])
    assert r["bor"] == "PR" and r["progressed"]
    assert r["ttp_month"] == pytest.approx(210.0 / DAYS_PER_MONTH)
    assert r["dor_month"] == pytest.approx((210.0 - 42.0) / DAYS_PER_MONTH) and r["dor_event"]
    assert r["best_change_pct"] == pytest.approx(-50.0)


def test_new_lesion_is_progression_at_the_next_scan() -> None:
    """A slowly growing tumour (+10 % by six months, never RECIST PD by size) with a low new-lesion
    threshold: the new lesion appears before the first scan and is PD there."""
    r = _one([(0, 50), (182, 55), (364, 57)], lesion_e=1e-4, params={"new_lesion_per_month": 1.0})
    assert r["progressed"] and r["progression_by_new_lesion"]
    assert r["ttp_month"] == pytest.approx(42.0 / DAYS_PER_MONTH)
    assert r["bor"] == "PD"
    no_lesion = _one([(0, 50), (182, 55), (364, 57)], params={"new_lesion_per_month": 1.0})
    assert not no_lesion["progressed"] and no_lesion["bor"] == "SD"


def test_death_ends_follow_up_and_censors_progression() -> None:
    """Constant liver hazard 0.1 per month, threshold 0.5: death at 5 months; the tumour would
    progress at day 210 (6.9 months), after death, so PFS is death and TTP is censored there."""
    r = _one([(0, 50), (42, 30), (84, 25), (168, 25), (210, 40)], death_e=0.5, params={"death_liver_per_month": 0.1})
    assert r["os_event"] and r["os_month"] == pytest.approx(5.0, rel=1e-6)
    assert not r["progressed"] and not r["ttp_event"] and r["ttp_month"] == pytest.approx(5.0, rel=1e-6)
    assert r["pfs_event"] and r["pfs_month"] == pytest.approx(5.0, rel=1e-6)
    assert r["bor"] == "PR" and r["dor_event"] and r["dor_month"] == pytest.approx(5.0 - 42.0 / DAYS_PER_MONTH, rel=1e-6)
    assert r["death_tumour_share"] == pytest.approx(0.0, abs=1e-9)


def test_death_before_the_first_scan_is_not_evaluable() -> None:
    r = _one([(0, 50), (400, 50)], death_e=0.1, params={"death_liver_per_month": 0.1})  # dies at 1 month
    assert r["bor"] == "NE" and r["os_month"] == pytest.approx(1.0, rel=1e-6)
    assert math.isnan(float(r["best_change_pct"]))


def test_later_line_only_for_progressing_patients_below_the_share() -> None:
    grow = [(0, 50), (42, 52), (84, 62), (126, 70)]
    assert _one(grow, later_line_u=0.1, later_line_share=0.2)["later_line"]
    assert not _one(grow, later_line_u=0.3, later_line_share=0.2)["later_line"]
    assert not _one([(0, 50), (400, 50)], later_line_u=0.1, later_line_share=0.2)["later_line"]  # no progression


def test_withdrawal_before_the_first_scan_hides_the_response_not_the_death() -> None:
    """A responder below the withdrawal share has no assessment: not evaluable, PFS and TTP censored
    at baseline; its death (5 months) is still its overall survival. Above the share: unchanged."""
    shrink = [(0, 50), (42, 30), (84, 25), (400, 25)]
    dies = {"death_e": 0.5, "params": {"death_liver_per_month": 0.1}}
    kept = _one(shrink, withdrawal_u=0.5, withdrawal_share=0.2, **dies)  # type: ignore[arg-type]
    gone = _one(shrink, withdrawal_u=0.1, withdrawal_share=0.2, **dies)  # type: ignore[arg-type]
    assert kept["bor"] == "PR" and kept["pfs_event"] and not kept["withdrawn"]
    assert gone["withdrawn"] and gone["bor"] == "NE" and not gone["progressed"]
    assert not gone["pfs_event"] and gone["pfs_month"] == 0.0 and not gone["ttp_event"] and gone["ttp_month"] == 0.0
    assert math.isnan(float(gone["dor_month"])) and math.isnan(float(gone["best_change_pct"]))
    assert gone["os_event"] and gone["os_month"] == pytest.approx(kept["os_month"]) == pytest.approx(5.0, rel=1e-6)


def test_withdrawal_counts_only_patients_alive_at_the_first_scan() -> None:
    """A patient dead before the first scan is not evaluable by death, not a withdrawal; a growing
    tumour withdrawn does not progress (nothing was seen)."""
    dead = _one([(0, 50), (400, 50)], death_e=0.1, params={"death_liver_per_month": 0.1}, withdrawal_u=0.0, withdrawal_share=0.5)
    assert dead["bor"] == "NE" and not dead["withdrawn"]
    grow = _one(
        [(0, 50), (42, 52), (84, 62), (126, 70)], withdrawal_u=0.0, withdrawal_share=0.5, later_line_u=0.0, later_line_share=1.0
    )
    assert grow["withdrawn"] and not grow["progressed"] and not grow["later_line"] and not grow["progression_by_new_lesion"]


def test_failed_simulations_keep_their_row_flagged() -> None:
    traj = trajectories(T, np.vstack([piecewise(T, [(0, 50), (400, 50)])] * 2))
    traj = type(traj)(traj.times_day, traj.diameter_mm, traj.covariates, traj.randoms, np.array([True, False]), ("", "boom"))
    frame = endpoints(traj, disease(), 0.0)
    assert frame["ok"].tolist() == [True, False] and frame["message"].tolist() == ["", "boom"]
    assert not frame["progressed"].iloc[1]


def test_sum_of_diameters_ratio_on_the_grid() -> None:
    dia = np.array([[10.0, 20.0]])
    n = np.array([8.0])
    # eight equal spheres of the volume of one 10 mm sphere are 5 mm each: sum 40 mm
    assert sum_of_diameters(dia, n)[0].tolist() == pytest.approx([40.0, 80.0])
    assert safe_ratio(dia, n, np.array([40.0]))[0].tolist() == pytest.approx([1.0, 2.0])


def test_take_selects_patients() -> None:
    traj = trajectories(T, np.vstack([piecewise(T, [(0, d), (400, d)]) for d in (20.0, 30.0, 40.0)]))
    sub = traj.take(np.array([2, 0]))
    assert sub.n == 2 and sub.diameter_mm[:, 0].tolist() == [40.0, 20.0]
    assert sub.covariates.n == 2 and sub.randoms["death_e"].shape == (2,)


def test_the_longest_follow_up_has_a_jitter_and_a_reading_for_every_scan() -> None:
    """120 months (the limit) of a slowly growing tumour: 87 assessments, each with its own draws
    (this once failed with a broadcast error past 40 scans)."""
    t = np.arange(0.0, MAX_FOLLOW_UP_MONTHS * DAYS_PER_MONTH, 7.0)
    traj = trajectories(t, piecewise(t, [(0, 40), (float(t[-1]), 44)]))
    row = endpoints(traj, disease(), 0.0).iloc[0]
    assert scan_days(float(t[-1])).size <= MAX_SCANS
    assert row["bor"] == "SD" and not row["progressed"]


def test_measurement_error_moves_the_reading_not_the_tumour() -> None:
    """A tumour held exactly at 50 mm: read without error it is SD for ever; with a reading error
    of +30 % at one scan it is called PD there; the baseline column is the reading."""
    flat = [(0, 50), (364, 50)]
    assert not _one(flat)["progressed"]
    traj = trajectories(T, piecewise(T, flat))
    traj.randoms["measurement_z"][0, 3] = 4.0  # the third post-baseline scan (day 126) reads exp(4 sd)
    row = endpoints(traj, disease(measurement_sd=math.log(1.3) / 4.0), 0.0).iloc[0]
    assert row["progressed"] and row["ttp_month"] == pytest.approx(126.0 / DAYS_PER_MONTH)
    assert row["baseline_sld_mm"] == pytest.approx(50.0)  # baseline z is 0 here
