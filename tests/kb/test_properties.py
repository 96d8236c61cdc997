"""Property tests: whatever the input, the loader either loads or raises KBValidationError."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exoresist.kb import KBValidationError, load_kb
from exoresist.kb.fmt import dump_records
from tests.conftest import MINI_MECHANISMS, write_mini

BASE: list[dict[str, Any]] = yaml.safe_load(MINI_MECHANISMS)

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-5, 3000), st.text(max_size=30))
json_value = st.recursive(
    json_leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8
)
FIELDS = sorted(BASE[0])


def _load_with(mechanisms_text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        write_mini(Path(tmp), mechanisms_yaml=mechanisms_text)
        try:
            load_kb([Path(tmp)])
        except KBValidationError as exc:
            assert exc.issues
            for issue in exc.issues:
                assert issue.file.endswith(".yaml") and issue.message


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes(text: str) -> None:
    _load_with(text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(FIELDS), value=json_value)
def test_any_field_replaced_by_any_value(field: str, value: Any) -> None:
    record = dict(BASE[0])
    record[field] = value
    _load_with(yaml.safe_dump([record], allow_unicode=True))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(FIELDS))
def test_any_field_removed(field: str) -> None:
    record = {k: v for k, v in BASE[0].items() if k != field}
    _load_with(yaml.safe_dump([record], allow_unicode=True))


printable = (
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=20, max_size=80)
    .map(str.strip)
    .filter(lambda s: len(s) >= 20)
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(finding=printable, notes=st.none() | printable, year=st.integers(1990, 2030))
def test_canonical_dump_round_trips(finding: str, notes: str | None, year: int) -> None:
    record = dict(BASE[0])
    record["evidence"] = [dict(BASE[0]["evidence"][0], finding=finding, year=year)]
    if notes is not None:
        record["notes"] = notes
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_mini(Path(tmp), mechanisms_yaml=yaml.safe_dump([record], allow_unicode=True))
        kb = load_kb([folder])
        mech = kb.get("mech:circx-pten")
        (folder / "mechanisms.yaml").write_text(dump_records([mech]), encoding="utf-8")
        again = load_kb([folder]).get("mech:circx-pten")
    assert again == mech
