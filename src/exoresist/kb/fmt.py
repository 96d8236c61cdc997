"""One canonical formatting for the curated YAML, so that diffs show only real changes.

``kind`` and ``id`` come first, then the model's fields in declaration order, then ``notes`` and
``corrections``; fields at their default are left out; lists of plain values are written inline.
A file's leading comment block is kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from exoresist.kb.loader import read_raw
from exoresist.kb.models import RECORD_MODELS, Record

_FIRST = ("kind", "id")
_LAST = ("notes", "corrections")


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # indent lists inside mappings, as people write them by hand
        super().increase_indent(flow, False)


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = all(not isinstance(x, dict | list) for x in data) and len(data) > 0
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(str, _represent_str)


def record_to_yaml_dict(rec: Record) -> dict[str, Any]:
    """The canonical mapping of a record: key order fixed, defaults dropped."""
    data = rec.model_dump(mode="json", exclude_defaults=True)
    data["kind"] = rec.kind  # kind has no default in any model, but keep it explicit
    order = list(type(rec).model_fields)
    keys = [k for k in _FIRST if k in data]
    keys += [k for k in order if k in data and k not in _FIRST and k not in _LAST]
    keys += [k for k in _LAST if k in data]
    return {k: data[k] for k in keys}


def dump_records(records: list[Record], header: str = "") -> str:
    body = yaml.dump(
        [record_to_yaml_dict(r) for r in records],
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=110,
        indent=2,
    )
    # a blank line between records makes a long file easy to scan and diff
    return header + body.replace("\n- kind:", "\n\n- kind:")


def _header(text: str) -> str:
    lines = []
    for line in text.splitlines(keepends=True):
        if line.startswith("#"):
            lines.append(line)
        else:
            break
    return "".join(lines)


def canonical_text(path: Path) -> str:
    """The canonical form of one YAML file of records (which must already be valid)."""
    entries, issues = read_raw(path)
    if issues:
        raise ValueError("; ".join(str(i) for i in issues))
    records: list[Record] = [RECORD_MODELS[e["kind"]].model_validate(e) for e in entries]  # type: ignore[misc]
    return dump_records(records, _header(path.read_text(encoding="utf-8")))


def format_files(paths: list[Path], *, check: bool) -> list[Path]:
    """Rewrite files into canonical form (atomically), or with ``check`` only report which differ."""
    changed = []
    for path in paths:
        text = canonical_text(path)
        if text != path.read_text(encoding="utf-8"):
            changed.append(path)
            if not check:
                tmp = path.with_name(f".{path.name}.tmp")
                tmp.write_text(text, encoding="utf-8")
                tmp.replace(path)
    return changed
