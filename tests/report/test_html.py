"""The HTML report: one self-contained document, the figures embedded, the tables as formatted."""

from __future__ import annotations

import base64
import copy
import math
import re
from pathlib import Path

import pytest

from tests.report.conftest import render
from tests.report.synthetic import ARMS, TrialData

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IMG = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def _text(html: str) -> str:
    """The document without the zero-width spaces that let arm names wrap."""
    return html.replace("\u200b", "")


@pytest.fixture(scope="module")
def full_path(trial: TrialData, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("full") / "new" / "folder" / "report.html"
    assert render(trial, out) == out
    return out


@pytest.fixture(scope="module")
def full_report(full_path: Path) -> str:
    return full_path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def bare_report(trial: TrialData, tmp_path_factory: pytest.TempPathFactory) -> str:
    meta = {k: v for k, v in trial.meta.items() if k != "limitations"}
    path = render(trial, tmp_path_factory.mktemp("bare") / "report.html", calibration=None, sensitivity=None, meta=meta)
    return path.read_text(encoding="utf-8")


def test_writes_one_self_contained_html_document(full_path: Path) -> None:
    out = full_path
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert html.count("<html") == 1 and html.count("</html>") == 1 and html.count("<body>") == 1
    assert "<script" not in html
    # nothing to fetch: links only to anchors, images only inline
    assert not re.search(r'(?:src|href)="(?!data:|#)', html)
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # no temporary file left behind


def test_every_figure_is_an_embedded_png_with_a_numbered_caption(full_report: str) -> None:
    images = IMG.findall(full_report)
    assert len(images) == 6  # PFS, OS, waterfall, attribution, calibration, sensitivity
    assert full_report.count("<img") == len(images)
    for data in images:
        assert base64.b64decode(data, validate=True)[:8] == PNG_SIGNATURE
    for number in range(1, 7):
        assert f"<strong>Figure {number}.</strong>" in full_report


def test_captions_come_from_the_data(trial: TrialData, full_report: str) -> None:
    text = _text(full_report)
    n_patients = len(trial.patients)
    assert f"for {n_patients} virtual patients" in text
    for arm in ARMS:
        rows = trial.patients[trial.patients["arm"] == arm]
        events = int(rows["pfs_event"].sum())
        assert f"{arm} {len(rows)} patients, {events} events" in text
        measured = int(rows["best_change_pct"].notna().sum())
        assert f"{arm} {measured} of {len(rows)} patients" in text


def test_arm_names_and_sections_are_present(full_report: str) -> None:
    text = _text(full_report)
    for arm in ARMS:
        assert arm in text
    for anchor in ("response", "comparisons", "km-pfs", "km-os", "waterfall", "attribution", "calibration", "sensitivity"):
        assert f'id="{anchor}"' in full_report
    assert "Model limitations" in text
    assert "exoresist trial run" in text  # the command to reproduce


def test_optional_sections_are_left_out(bare_report: str) -> None:
    assert len(IMG.findall(bare_report)) == 4
    for anchor in ("calibration", "calibration-table", "sensitivity"):
        assert f'id="{anchor}"' not in bare_report
    assert 'href="#calibration"' not in bare_report and 'href="#sensitivity"' not in bare_report
    assert "Model limitations" not in bare_report
    assert "How to read this report" in bare_report


def test_table_numbers_are_formatted(trial: TrialData, tmp_path: Path) -> None:
    arms = copy.deepcopy(trial.arms)
    arms[0].update(
        orr={"estimate": 0.234, "ci_low": 0.2, "ci_high": 0.2711},
        dcr={"estimate": 0.6, "ci_low": 0.55, "ci_high": 0.65},
        cr=0.031,
        pfs_median_month={"median": 8.13, "ci_low": 6.9, "ci_high": 9.44},
        os_median_month={"median": math.inf, "ci_low": 20.5, "ci_high": math.inf},
    )
    arms[1].update(os_median_month={"median": 15.0, "ci_low": 12.25, "ci_high": math.nan})
    comparisons = copy.deepcopy(trial.comparisons)
    comparisons[0].update(
        os_hr={"hr": 0.7249, "ci_low": 0.611, "ci_high": 0.853, "p": 0.001}, os_logrank_p=0.0004, pfs_logrank_p=0.04321
    )
    html = _text(render(trial, tmp_path / "r.html", arms=arms, comparisons=comparisons).read_text(encoding="utf-8"))
    response = html[html.index('id="response"') : html.index('id="comparisons"')]
    for cell in ("23.4 (20.0–27.1)", "60.0 (55.0–65.0)", "<td>3.1</td>", "8.1 (6.9–9.4)", "not reached", "15.0 (12.2–NR)"):
        assert cell in response, cell
    comparison = html[html.index('id="comparisons"') : html.index('id="km-pfs"')]
    for cell in ("0.72 (0.61–0.85)", "&lt; 0.001", "0.043"):
        assert cell in comparison, cell


def test_calibration_table(trial: TrialData, full_report: str) -> None:
    table = full_report[full_report.index('id="calibration-table"') :]
    row = trial.calibration.iloc[0]
    assert f'<td>1</td><td class="text">{row["trial"]}</td>' in table
    assert f"<td>{row['published']:.1f}</td><td>{row['simulated']:.1f}</td>" in table
    hr = trial.calibration[trial.calibration["unit"] == "ratio"].iloc[0]
    assert f"<td>{hr['published']:.2f}</td><td>{hr['simulated']:.2f}</td>" in table


def test_attribution_table_shows_top_records(trial: TrialData, full_report: str) -> None:
    table = full_report[full_report.index('id="attribution-table"') : full_report.index('id="calibration-table"')]
    best = trial.attribution.groupby("record_id")["share"].max().sort_values(ascending=False)
    for rid in best.index[:12]:
        assert rid in table
    for rid in best.index[12:]:
        assert rid not in table
    top = trial.attribution[trial.attribution["record_id"] == best.index[0]].iloc[0]
    assert f"{round(top['share'] * top['n_progressing'])} of {top['n_progressing']}" in table


def test_text_is_escaped(trial: TrialData, tmp_path: Path) -> None:
    meta = dict(trial.meta, population="<b>adults</b>", limitations=["risk < 5 % & rising"])
    html = render(trial, tmp_path / "r.html", title="A <script>alert(1)</script> trial", meta=meta).read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;adults&lt;/b&gt;" in html
    assert "risk &lt; 5 % &amp; rising" in html


@pytest.mark.parametrize("column", ["arm", "bor", "pfs_event", "os_month", "best_change_pct"])
def test_missing_patient_column_is_named(trial: TrialData, tmp_path: Path, column: str) -> None:
    with pytest.raises(ValueError, match=f"patients is missing required column.*'{column}'"):
        render(trial, tmp_path / "r.html", patients=trial.patients.drop(columns=[column]))
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize(
    ("argument", "column"),
    [("attribution", "share"), ("attribution", "label"), ("calibration", "unit"), ("sensitivity", "ST_conf")],
)
def test_missing_table_column_is_named(trial: TrialData, tmp_path: Path, argument: str, column: str) -> None:
    table = getattr(trial, argument).drop(columns=[column])
    with pytest.raises(ValueError, match=f"{argument} is missing required column.*'{column}'"):
        render(trial, tmp_path / "r.html", **{argument: table})


def test_missing_keys_are_named(trial: TrialData, tmp_path: Path) -> None:
    arms = copy.deepcopy(trial.arms)
    del arms[1]["dcr"]
    with pytest.raises(ValueError, match=r"arms\[1\] is missing required key\(s\) 'dcr'"):
        render(trial, tmp_path / "r.html", arms=arms)
    arms = copy.deepcopy(trial.arms)
    del arms[0]["os_median_month"]["ci_high"]
    with pytest.raises(ValueError, match=r"os_median_month.*'ci_high'"):
        render(trial, tmp_path / "r.html", arms=arms)
    comparisons = copy.deepcopy(trial.comparisons)
    del comparisons[0]["pfs_logrank_p"]
    with pytest.raises(ValueError, match=r"comparisons\[0\] is missing required key\(s\) 'pfs_logrank_p'"):
        render(trial, tmp_path / "r.html", comparisons=comparisons)


def test_unknown_values_are_rejected(trial: TrialData, tmp_path: Path) -> None:
    patients = trial.patients.copy()
    patients.loc[0, "bor"] = "iCR"
    with pytest.raises(ValueError, match=r"patients\['bor'\] holds \['iCR'\]"):
        render(trial, tmp_path / "r.html", patients=patients)
    calibration = trial.calibration.copy()
    calibration.loc[0, "unit"] = "days"
    with pytest.raises(ValueError, match="days"):
        render(trial, tmp_path / "r.html", calibration=calibration)
