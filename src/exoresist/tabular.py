"""Rows of dicts as delimited text (CSV or TSV), shared by the CLI, the report and the web layer.

>>> print(delimited([{"a": 1, "b": [1, {"x": 2}]}, {"a": None, "b": [], "c": {"x": 1}}], ","), end="")
a,b,c.x
1,"1; {""x"": 2}",
,,1
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def cell(value: Any) -> Any:
    """One value as a delimited cell: lists joined by '; ', dicts as JSON, ``None`` empty."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join(str(cell(v)) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def flatten(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row with each dict value spread into ``key.subkey`` columns (recursively).

    >>> flatten({"arm": "a", "orr": {"estimate": 0.2, "ci": {"low": 0.1}}})
    {'arm': 'a', 'orr.estimate': 0.2, 'orr.ci.low': 0.1}
    """
    out: dict[str, Any] = {}
    for k, v in row.items():
        if isinstance(v, dict):
            out.update({f"{k}.{kk}": vv for kk, vv in flatten(v).items()})
        else:
            out[k] = v
    return out


def delimited(rows: Iterable[Mapping[str, Any]], delimiter: str = ",", columns: Sequence[str] | None = None) -> str:
    r"""``rows`` as CSV (``delimiter=","``) or TSV (``"\t"``) with a header line; dict values are
    spread into ``key.subkey`` columns (:func:`flatten`).

    ``columns`` fixes the columns and their order (keys outside it are left out); by default the
    columns are the keys of the rows in order of first appearance."""
    rows = [flatten(r) for r in rows]
    if columns is None:
        seen: dict[str, None] = {}
        for r in rows:
            seen.update(dict.fromkeys(r))
        columns = list(seen)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), delimiter=delimiter, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: cell(r.get(k)) for k in columns} for r in rows)
    return buf.getvalue()
