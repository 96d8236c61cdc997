"""Marker definitions, the name adapter and the observation model."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from exoresist.biomarkers import BiomarkerError, ObservationParameters
from exoresist.biomarkers.markers import default_markers, markers_by_name, resolve_cargo
from exoresist.biomarkers.observation import level_column, observe, sample_column
from exoresist.biomarkers.parameters import OBSERVATION_PARAMETERS, ObservationError, sample_days
from exoresist.kb import KnowledgeBase, UnknownNameError


def test_default_markers_cover_the_biomarker_records_and_every_pool(kb: KnowledgeBase) -> None:
    specs, skipped = default_markers(kb)
    names = {s.name: s for s in specs}
    for name in ("miR-4669", "lnc-FAM72D-3", "lnc-EPC1-4", "ZFPM2-AS1", "PD-L1", "circCCAR1", "pIgR"):
        assert name in names
    assert names["miR-4669"].dynamic and names["pIgR"].dynamic and names["circCCAR1"].dynamic
    assert not names["ZFPM2-AS1"].dynamic and "static" in names["ZFPM2-AS1"].measured_from
    assert {u.record_id for u in skipped} == {"bm:tumour-type-exosomal-proteins", "bm:post-radiotherapy-exosomes"}
    assert sum(s.dynamic for s in specs) == len({s.pool for s in specs if s.pool})  # one marker per pool


@pytest.mark.parametrize(
    ("name", "expected", "how"),
    [
        ("hsa-miR-4669", "miR-4669", "miRBase form"),
        ("hsa-miR-21-5p", "miR-21-5p", "miRBase name"),  # an arm the KB has is kept
        ("lincRNA-VLDLR", "linc-VLDLR", "alias"),
        ("circccar1", "circCCAR1", ""),
        ("pIgR", "pIgR", ""),
    ],
)
def test_resolve_cargo(kb: KnowledgeBase, name: str, expected: str, how: str) -> None:
    ent, reading = resolve_cargo(kb, name)
    assert ent.name == expected and reading == how


def test_unknown_names_get_suggestions_and_no_arm_is_added(kb: KnowledgeBase) -> None:
    with pytest.raises(UnknownNameError, match="did you mean"):
        resolve_cargo(kb, "miR-466")
    with pytest.raises(UnknownNameError):
        resolve_cargo(kb, "miR-4669-5p")  # the KB has miR-4669 with no arm stated; an arm is never guessed
    with pytest.raises(BiomarkerError, match="cannot be measured"):
        markers_by_name(kb, ["post-radiotherapy exosomes"])


def test_parameter_table_is_complete() -> None:
    for p in OBSERVATION_PARAMETERS:
        assert p.low <= p.default <= p.high and p.unit and p.description
        assert p.source.startswith("assumed") or "EMEA" in p.source
    with pytest.raises(ObservationError, match="unknown observation parameter"):
        ObservationParameters({"assay_noise": 0.1})
    assert sample_days(100.0, 42.0) == (0.0, 28.0, 42.0, 84.0)


def _rows(kb: KnowledgeBase, n: int = 400) -> tuple[pd.DataFrame, list[object]]:
    """Two arms of the same patients, with a made-up pool trajectory and expression."""
    spec = markers_by_name(kb, ["pIgR", "ZFPM2-AS1"])
    rng = np.random.default_rng(0)
    pool = rng.lognormal(7, 1, n)
    strength = np.where(rng.random(n) < 0.5, rng.uniform(0.1, 10, n), 0.0)
    frames = []
    for arm, factor in (("a", 1.0), ("b", 0.5)):
        f = pd.DataFrame({"arm": arm, "patient": np.arange(n), "os_month": 12.0, "os_event": False})
        f.loc[:9, ["os_month", "os_event"]] = [0.5, True]  # ten patients die before week 4
        for d in (0.0, 28.0, 42.0):
            f[sample_column("X_pigr", d)] = pool * (factor if d > 0 else 1.0)
        f[f"strength:{spec[0].records[0]}"] = strength
        frames.append(f)
    return pd.concat(frames, ignore_index=True), spec


def test_observation_model(kb: KnowledgeBase) -> None:
    rows, specs = _rows(kb)
    params = ObservationParameters()
    obs = observe(rows, specs, (0.0, 28.0, 42.0), seed=3, p_expressed=0.5)  # type: ignore[arg-type]
    f = obs.frame
    a, b = (f["arm"] == "a").to_numpy(), (f["arm"] == "b").to_numpy()
    base = level_column("pIgR", 0.0)
    np.testing.assert_array_equal(f[base][a].to_numpy(), f[base][b].to_numpy())  # one pre-treatment sample
    assert f[level_column("pIgR", 28.0)][:10].isna().all()  # after death: missing
    true4 = f[level_column("pIgR", 28.0, "true")][b].to_numpy()[10:]
    assert (true4 < f[level_column("pIgR", 28.0, "true")][a].to_numpy()[10:]).mean() > 0.4  # lower pool, lower level
    expressing = rows[f"strength:{specs[0].records[0]}"].to_numpy()[a] > 0  # type: ignore[attr-defined]
    true0 = f[level_column("pIgR", 0.0, "true")][a].to_numpy()
    assert np.median(true0[expressing]) > 2 * np.median(true0[~expressing])  # the tumour's cargo shows
    measured = f[base][a].to_numpy()
    below = f[level_column("pIgR", 0.0, "below_lloq")][a].to_numpy()
    np.testing.assert_allclose(measured[below], obs.lloq["pIgR"] / 2)
    ratio = np.log(measured[~below] / true0[~below])
    expected = math.sqrt(math.log1p(params["assay_cv"] ** 2) + math.log1p(params["preanalytical_cv"] ** 2))
    assert np.std(ratio) == pytest.approx(expected, rel=0.15)
    static = [level_column("ZFPM2-AS1", d, "true") for d in (0.0, 42.0)]
    np.testing.assert_allclose(f[static[0]][a][10:], f[static[1]][a][10:])  # static: constant in time
    assert "static" in obs.notes["ZFPM2-AS1"]
    again = observe(rows, specs[:1], (0.0, 28.0, 42.0), seed=3, p_expressed=0.5)  # type: ignore[arg-type]
    np.testing.assert_array_equal(again.frame[base], f[base])  # other markers do not change its draws


def test_missing_trial_columns_are_named(kb: KnowledgeBase) -> None:
    rows, specs = _rows(kb, 20)
    with pytest.raises(BiomarkerError, match="marker:X_pigr@84"):
        observe(rows, specs, (0.0, 84.0), seed=0, p_expressed=0.5)  # type: ignore[arg-type]


def test_docs_table_names_every_parameter_with_its_default() -> None:
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "biomarkers.md").read_text()
    for p in OBSERVATION_PARAMETERS:
        assert f"| `{p.name}` | {p.default:g} |" in text, p.name
