"""Effect sizes on records: what a measured magnitude must carry, and that the search is recorded for every record."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from exoresist.kb import KnowledgeBase
from exoresist.kb.models import EffectSize, Mechanism, SourceLocator
from tests.conftest import MINI_MECHANISMS

#: A made-up locator (10.0000 is no DOI registrant): the fixtures are illustrative.
SOURCE = {"doi": "10.0000/exoresist-test-fixture", "locator": "Fig. 3B legend (illustrative)"}


def effect(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "readout": "ic50",
        "measure": "fold_change",
        "value": 2.4,
        "unit": "fold",
        "numerator": "with_record",
        "comparison": "IC50 with circX over IC50 without",
        "condition": "Huh7 cells, sorafenib 48 h, CCK-8 (illustrative)",
        "therapy": "ther:sorafenib",
        "in_vivo": False,
        "how": "stated_in_text",
        "source": SOURCE,
    }
    return {**base, **over}


def mech(**over: Any) -> dict[str, Any]:
    (data,) = yaml.safe_load(MINI_MECHANISMS)
    return {**data, **over}


def test_a_measured_record_validates_and_reads_as_with_over_without() -> None:
    m = Mechanism.model_validate(mech(magnitude_status="measured", effect_sizes=[effect()]))
    (e,) = m.effect_sizes
    assert e.with_over_without() == 2.4 and e.source.cite() == "doi:10.0000/exoresist-test-fixture, Fig. 3B legend (illustrative)"
    flipped = EffectSize.model_validate(effect(value=0.5, numerator="without_record"))
    assert flipped.with_over_without() == 2.0
    both = SourceLocator(pmid="35139763", doi="10.1080/21655979.2022.2032972", locator="abstract")
    assert both.cite() == "PMID 35139763 / doi:10.1080/21655979.2022.2032972, abstract"
    share = EffectSize.model_validate(effect(measure="percent", unit="percent", value=30.0, numerator=None))
    assert share.with_over_without() is None


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"magnitude_status": "measured"}, "needs at least one entry in effect_sizes"),
        ({"magnitude_status": "no_number_stated", "effect_sizes": [effect()]}, "need magnitude_status measured"),
        ({"magnitude_status": "no_number_stated"}, "needs a magnitude_note"),
        ({"magnitude_note": "a note without a status"}, "magnitude_note without magnitude_status"),
        ({"magnitude_status": "measured", "effect_sizes": [effect(therapy="ther:cisplatin")]}, "not among the record"),
    ],
)
def test_record_level_rules(over: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Mechanism.model_validate(mech(**over))


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"source": {"locator": "Fig. 3B"}}, "needs the study's pmid or doi"),
        ({"source": {"pmid": "0123", "locator": "Fig. 3B"}}, "pmid"),
        ({"value": 0.0}, "positive"),
        ({"numerator": None}, "needs numerator"),
        ({"measure": "percent", "unit": "percent", "value": 140.0, "numerator": None}, "0-100"),
        ({"measure": "percent_points", "unit": "percent points", "value": 12.0}, "only to fold changes and ratios"),
        ({"low": 3.0}, "above value"),
        ({"value": float("nan")}, "finite"),
        ({"readout": "tumour_size"}, "readout"),
    ],
)
def test_an_effect_size_states_what_a_reader_needs(over: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        EffectSize.model_validate(effect(**over))


def test_every_dynamic_record_says_what_its_primary_study_gave(kb: KnowledgeBase) -> None:
    """The curators searched the primary study of every mechanism and intervention the model acts on."""
    dynamic = [m for m in kb.mechanisms if m.kind == "mechanism" and m.process is not None] + kb.interventions
    missing = [r.id for r in dynamic if r.magnitude_status is None]
    assert missing == []
    for r in dynamic:
        assert (r.magnitude_status == "measured") == bool(r.effect_sizes), r.id
        assert r.magnitude_status == "measured" or r.magnitude_note, r.id
