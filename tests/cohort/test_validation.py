"""Validation on a user's trial table: reading it, mapping its arms, predicting it without refitting."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from exoresist.cohort import calibration as cal
from exoresist.cohort.arms import TrialError
from exoresist.cohort.validation import REQUIRED, model_arm, read_trials_csv, validate, validation_targets
from exoresist.kb import KnowledgeBase

HEADER = (
    "trial,line,arm,n,os_median_months,os_hr_vs_control,pfs_or_ttp_median_months,pfs_measure,pfs_hr_vs_control,"
    "orr_percent,cr_percent,dcr_percent,source"
)
ROWS = [
    "REFLECT-like,1,lenvatinib 12 mg/day,10,13.6,0.92,7.4,PFS,0.66,24.1,1,,made-up test row",
    "REFLECT-like,1,sorafenib 400 mg bid,10,12.3,,3.7,PFS,,9.2,1,,made-up test row",
]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "trials.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_read_trials_csv(tmp_path: Path) -> None:
    frame = read_trials_csv(_write(tmp_path, "\n".join([HEADER, *ROWS]) + "\n"))
    assert len(frame) == 2 and frame["n"].tolist() == [10, 10]
    assert math.isnan(frame["dcr_percent"].iloc[0]) and frame["orr_percent"].iloc[0] == 24.1
    shipped = read_trials_csv(Path(cal.__file__).parent / "data" / "calibration_trials.csv")
    assert set(REQUIRED) <= set(shipped.columns)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "cannot read the trial table (EmptyDataError"),
        ("trial,arm,n\nX,sorafenib,10\n", "missing column(s) os_median_months, os_hr_vs_control"),
        (HEADER + "\n", "the trial table has no rows"),
        (
            HEADER + "\n" + ROWS[0] + "\n" + ROWS[1].replace(",9.2,", ",about 9,") + "\n",
            ":3: column orr_percent: 'about 9' is not a number",
        ),
        (HEADER + "\n" + ROWS[0].replace("lenvatinib 12 mg/day", "") + "\n", ":2: column arm is empty"),
        (HEADER + "\n" + ROWS[0].replace("REFLECT-like", " ", 1) + "\n", ":2: column trial is empty"),
        (HEADER + '\n"unclosed,1\n', "cannot read the trial table"),
        (
            HEADER + ",no_assessment_percent\n" + ROWS[0] + ",120\n",
            ":2: column no_assessment_percent: 120 is not a percentage in [0, 100)",
        ),
    ],
)
def test_bad_trial_table_is_a_one_line_error(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(TrialError) as info:
        read_trials_csv(path)
    assert message in str(info.value) and str(info.value).startswith(str(path))
    assert "\n" not in str(info.value)


def test_missing_trial_table(tmp_path: Path) -> None:
    with pytest.raises(TrialError, match="cannot read the trial table"):
        read_trials_csv(tmp_path / "nothing.csv")


@pytest.mark.parametrize(
    ("text", "arm"),
    [
        ("lenvatinib 12 mg/day", "lenvatinib"),
        ("lenvatinib", "lenvatinib"),
        ("nivolumab 240 mg q2w + ipilimumab 3 mg/kg", "nivolumab+ipilimumab"),
        ("durvalumab plus tremelimumab", "durvalumab+tremelimumab"),
        ("sorafenib (open-label)", "sorafenib"),
        ("regorafenib 160 mg once daily", "regorafenib"),
        ("Placebo", "placebo"),
    ],
)
def test_model_arm_maps_published_text_to_arms(kb: KnowledgeBase, text: str, arm: str) -> None:
    assert model_arm(kb, text) == arm


def test_model_arm_agrees_with_the_calibration_labels(kb: KnowledgeBase) -> None:
    for text, label in cal.ARM_LABELS.items():
        assert model_arm(kb, text) == label


def test_model_arm_names_what_it_cannot_map(kb: KnowledgeBase) -> None:
    with pytest.raises(TrialError, match="arm 'aspirin 100 mg' names no therapy the model knows"):
        model_arm(kb, "aspirin 100 mg")


def test_validation_targets_use_the_model_arm_column(kb: KnowledgeBase, tmp_path: Path) -> None:
    frame = read_trials_csv(_write(tmp_path, "\n".join([HEADER, *ROWS]) + "\n"))
    ts = validation_targets(kb, frame)
    assert {t.arm for t in ts} == {"lenvatinib", "sorafenib"}
    hr = next(t for t in ts if t.endpoint == "pfs_hr")
    assert hr.arm == "lenvatinib" and hr.reference == "sorafenib" and hr.published == 0.66 and hr.n == 10
    frame["model_arm"] = ["regorafenib", ""]  # an override for the first arm only
    assert {t.arm for t in validation_targets(kb, frame)} == {"regorafenib", "sorafenib"}


def test_no_assessment_column_withdraws_that_share_of_the_arm(kb: KnowledgeBase, tmp_path: Path) -> None:
    text = HEADER + ",no_assessment_percent\n" + ROWS[0] + ",\n" + ROWS[1] + ",20\n"
    ts = validation_targets(kb, read_trials_csv(_write(tmp_path, text)))
    assert {(t.arm, t.withdrawal_share) for t in ts} == {("lenvatinib", 0.0), ("sorafenib", 0.2)}
    (config,) = cal.trial_configs(cal.calibrated_cohort(), ts, replicates=2, seed=1).values()
    assert config.withdrawal("sorafenib") == 0.2 and config.withdrawal("lenvatinib") == 0.0
    assert config.as_dict()["withdrawal_shares"] == [0.0, 0.2]


def test_validate_predicts_every_figure_without_refitting(kb: KnowledgeBase, tmp_path: Path) -> None:
    frame = read_trials_csv(_write(tmp_path, "\n".join([HEADER, *ROWS]) + "\n"))
    ts = validation_targets(kb, frame)
    runs, table = validate(
        kb, cal.calibrated_cohort(), frame, tmp_path / "out", replicates=2, seed=1, scheduler="serial", progress=False
    )
    (run,) = runs.values()
    assert run.config.replicates == 2 and run.config.reference == "sorafenib" and run.config.cohort == cal.calibrated_cohort()
    assert len(run.patients) == 2 * 2 * 10 and (tmp_path / "out" / "REFLECT-like" / "trial.json").is_file()
    assert len(table) == len(ts)
    assert table[["trial", "arm", "endpoint"]].values.tolist() == [[t.trial, t.arm, t.endpoint] for t in ts]
    for r in table.to_dict(orient="records"):
        if math.isfinite(r["simulated"]):
            assert r["pi_low"] <= r["simulated"] <= r["pi_high"]
        t = next(t for t in ts if (t.arm, t.endpoint) == (r["arm"], r["endpoint"]))
        assert r["within_tolerance"] == cal.within_tolerance(t, r["simulated"])
    # nothing to compare with
    empty = frame.assign(**{c: float("nan") for c in REQUIRED if c.endswith(("months", "percent", "control"))})
    with pytest.raises(TrialError, match="gives no published figure"):
        validate(kb, cal.calibrated_cohort(), empty, tmp_path / "none", replicates=2, seed=1, scheduler="serial", progress=False)
