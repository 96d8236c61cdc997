"""The disk cache of built tapes: written once, read by the next process, rebuilt when damaged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from exoresist.ode import _codegen
from tests.ode.specs import logistic_spec, pk_spec


def _same(a: _codegen.CompiledModel, b: _codegen.CompiledModel) -> bool:
    return a.spec_hash == b.spec_hash and np.array_equal(a.ops, b.ops) and np.array_equal(a.j_reg, b.j_reg)


def test_a_built_tape_is_stored_and_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_codegen.CACHE_ENV, str(tmp_path))
    spec = logistic_spec()
    h = spec.content_hash()
    built = _codegen._load_or_build(h, spec)
    (entry,) = (tmp_path / "tapes").glob(f"{h}-*.pkl")
    assert not list((tmp_path / "tapes").glob(".tape-*"))  # no temporary file left
    calls: list[object] = []
    monkeypatch.setattr(_codegen, "_build", lambda s: calls.append(s))  # a second build would be seen
    assert _same(_codegen._load_or_build(h, spec), built) and not calls
    assert entry.stat().st_size > 0


def test_a_damaged_entry_is_rebuilt_and_another_spec_is_not_confused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_codegen.CACHE_ENV, str(tmp_path))
    spec = logistic_spec()
    h = spec.content_hash()
    built = _codegen._load_or_build(h, spec)
    (entry,) = (tmp_path / "tapes").glob(f"{h}-*.pkl")
    entry.write_bytes(b"not a pickle")
    assert _same(_codegen._load_or_build(h, spec), built)
    other = pk_spec()
    assert _codegen._load_or_build(other.content_hash(), other).spec_hash == other.content_hash()


def test_caching_can_be_off_and_an_unwritable_folder_is_no_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_codegen.CACHE_ENV, "")
    assert _codegen.cache_dir() is None
    spec = logistic_spec()
    assert _codegen._load_or_build(spec.content_hash(), spec).spec_hash == spec.content_hash()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv(_codegen.CACHE_ENV, str(blocker))  # a file where the folder should be
    assert _codegen._load_or_build(spec.content_hash(), spec).spec_hash == spec.content_hash()
