"""The two lock files agree: make demo installs requirements-runtime.lock, make test adds the rest of
requirements.lock to the same environment, so every runtime pin must be the full lock's pin."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pins(name: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            pkg, version = line.split("==")
            out[re.sub(r"[-_.]+", "-", pkg).lower()] = version
    return out


def test_the_runtime_lock_is_the_full_lock_without_the_dev_tools() -> None:
    runtime, full = _pins("requirements-runtime.lock"), _pins("requirements.lock")
    assert {k: full.get(k) for k in runtime} == runtime  # same versions, nothing extra
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for spec in deps["dependencies"]:
        name = re.sub(r"[-_.]+", "-", re.split(r"[\[<>=!~ ]", spec, maxsplit=1)[0]).lower()
        assert name in runtime, f"runtime dependency {name} is missing from requirements-runtime.lock"
    for tool in ("playwright", "pytest", "mypy", "libroadrunner"):
        assert tool not in runtime and tool in full
