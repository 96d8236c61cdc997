"""The trial tables as data (CLI and web): formatting, not-reached medians, top attribution per arm."""

from __future__ import annotations

from typing import Any

from exoresist.report.tables import TOP_ATTRIBUTION, trial_tables


def _arm(name: str, os_median: dict[str, Any] | None) -> dict[str, Any]:
    ci = {"estimate": 0.25, "ci_low": 0.2, "ci_high": 0.3}
    return {
        "arm": name,
        "n": 100,
        "orr": ci,
        "dcr": ci,
        **dict.fromkeys(("cr", "pr", "sd", "pd", "ne"), 0.2),
        "pfs_median_month": {"median": 4.04, "ci_low": 3.0, "ci_high": None},
        "os_median_month": os_median,
    }


def _summary(knockouts: bool) -> dict[str, Any]:
    attribution = [
        {
            "arm": arm,
            "record_id": f"mech:r{i}",
            "label": "",
            "n_progressing": 10,
            "share": i / 10,
            "mean_contribution": 0.1,
            "ko_share": (10 - i) / 10 if knockouts else None,
            "ko_mean_delay_month": 1.5 if knockouts else None,
        }
        for arm in ("a", "b")
        for i in range(5)
    ]
    return {
        "config": {"population": "first-line", "patients": 100, "months": 24.0, **({"knockouts": True} if knockouts else {})},
        "arms": [_arm("a", None), _arm("b", {"median": 10.0, "ci_low": 8.0, "ci_high": 12.5})],
        "comparisons": [
            {
                "arm": "b",
                "reference": "a",
                "os_hr": {"hr": 0.7, "ci_low": 0.5, "ci_high": 0.9, "p": 0.01},
                "pfs_hr": {"hr": 0.8, "ci_low": 0.6, "ci_high": 1.1, "p": 0.2},
                "os_logrank_p": 0.0123,
                "pfs_logrank_p": None,
            }
        ],
        "attribution": attribution,
    }


def test_arms_and_comparisons_are_formatted() -> None:
    arms, comparisons, _ = trial_tables(_summary(False))
    assert arms["title"] == "first-line trial, 100 patients per arm, 24 months"
    assert arms["rows"][0][2] == "25.0 (20.0–30.0)"
    assert arms["rows"][0][5] == "4.0 (3.0–NR)"
    assert arms["rows"][0][6] == "not reached"
    assert arms["rows"][1][6] == "10.0 (8.0–12.5)"
    assert comparisons["title"] == "versus a"
    assert comparisons["rows"][0] == ["b", "0.70 (0.50–0.90)", "0.0123", "0.80 (0.60–1.10)", "–"]
    assert arms["data"][0]["arm"] == "a"


def test_attribution_top_per_arm_by_share_or_knockout() -> None:
    attr = trial_tables(_summary(False))[2]
    assert len(attr["columns"]) == 3
    assert [r[1] for r in attr["rows"] if r[0] == "a"] == ["mech:r4", "mech:r3", "mech:r2"]
    assert len(attr["rows"]) == 2 * TOP_ATTRIBUTION
    ko = trial_tables(_summary(True))[2]
    assert ko["columns"][-1] == "mean delay (months)"
    assert [r[1] for r in ko["rows"] if r[0] == "a"] == ["mech:r0", "mech:r1", "mech:r2"]
    assert ko["rows"][0][3:] == ["100%", "1.50"]
    assert len(ko["data"]) == 10
