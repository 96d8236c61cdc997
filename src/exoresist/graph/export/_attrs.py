"""Attribute helpers shared by the exporters."""

from __future__ import annotations

from typing import Any

from exoresist.graph.errors import UnsupportedFeatureError

Scalar = str | int | float | bool


def flat(fmt: str, data: dict[str, Any], *, join: str = "; ") -> dict[str, Scalar]:
    """Attributes with lists joined into strings and ``None`` dropped, for formats that only hold
    scalars. Anything else (a dict, an object) raises ``UnsupportedFeatureError``."""
    out: dict[str, Scalar] = {}
    for k, v in data.items():
        if v is None:
            continue
        if isinstance(v, (list, tuple)):
            out[k] = join.join("" if x is None else str(x) for x in v)
        elif isinstance(v, (str, int, float, bool)):
            out[k] = v
        else:
            raise UnsupportedFeatureError(fmt, f"attribute '{k}' of type {type(v).__name__}")
    return out


def edge_id(u: str, v: str, key: str) -> str:
    return f"{u}|{key}|{v}"
