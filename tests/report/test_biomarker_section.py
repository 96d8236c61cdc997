"""The report's biomarker section: table, figures and REMARK profile from an evaluation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from exoresist.biomarkers.evaluate import MarkerColumn, evaluate_frame
from exoresist.report import ReportInputError
from exoresist.report.biomarker_figures import auc_curve_figure, c_index_figure, interaction_figure, summary_figure
from tests.biomarkers.synthetic import two_arm_cohort
from tests.report.conftest import render
from tests.report.synthetic import TrialData


@pytest.fixture(scope="module")
def evaluation() -> dict[str, object]:
    cols = [MarkerColumn(n, n, "baseline", 1) for n in ("prognostic", "predictive")]
    ev = evaluate_frame(two_arm_cohort(200, 1), cols, ["control", "treated"], endpoints=("os",), bootstrap=5, with_panels=False)
    return ev.to_json_dict()


def test_section_is_rendered_with_its_figures(trial: TrialData, evaluation: dict[str, object], tmp_path: Path) -> None:
    html = render(trial, tmp_path / "r.html", biomarkers=evaluation).read_text()
    assert 'id="biomarkers"' in html and 'href="#biomarkers"' in html
    for heading in ("Prognostic value of each marker", "Time-dependent AUC", "Treatment effect by marker level"):
        assert re.search(rf"<h2>{heading}</h2>\s*<figure>\s*<img src=\"data:image/png;base64,", html)
    assert "REMARK-style profile" in html and "Data-driven" in html
    assert html.count('<td class="text">predictive') >= 1


def test_bad_evaluation_is_named(trial: TrialData, tmp_path: Path) -> None:
    with pytest.raises(ReportInputError, match="'panels'"):
        render(trial, tmp_path / "r.html", biomarkers={"markers": [], "meta": {}})


def test_figures_draw_one_artist_per_arm(evaluation: dict[str, object]) -> None:
    fig = c_index_figure(evaluation)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["control", "treated"]
    assert len(auc_curve_figure(evaluation).axes) == 2
    inter = interaction_figure(evaluation)
    assert [a.get_title() for a in inter.axes if a.get_visible()] == ["prognostic", "predictive"]
    assert len(summary_figure(evaluation).axes) == 3
