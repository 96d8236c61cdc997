"""Read curated YAML records and validate them into typed records.

Validation happens once, here, at the boundary: YAML syntax, record shape (pydantic), then the
checks that need the whole KB (duplicate ids, references between records, entity names). Every
problem is collected and reported together; nothing is returned unless everything is valid.

The YAML reader is strict, so that no file can make it use unbounded memory or time, or be read
two ways: anchors and aliases are refused (an alias "bomb" of a few KB expands to gigabytes),
as are duplicate keys (PyYAML would keep the last value silently), nesting deeper than
:data:`MAX_DEPTH`, a text value longer than :data:`MAX_TEXT_CHARS`, an id longer than
:data:`~exoresist.kb.models.ID_MAX_LENGTH` and a file larger than :data:`MAX_FILE_BYTES`. Each
refusal is an :class:`~exoresist.kb.errors.Issue` naming the file and line. Labels in messages are
made only from short text, never from ``str()`` of a parsed structure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from exoresist.kb.errors import Issue, KBValidationError, suggest
from exoresist.kb.models import ID_MAX_LENGTH, RECORD_MODELS, Biomarker, Entity, Intervention, Mechanism, Record, Therapy
from exoresist.kb.vocab import TherapyClass

#: Where a record came from: (file, position in that file).
Origin = tuple[str, int]

MAX_FILE_BYTES = 4 * 2**20
"""Largest record file read (the shipped files are under 30 KB)."""
MAX_DEPTH = 12
"""Deepest nesting of lists and mappings (records need 4)."""
MAX_TEXT_CHARS = 20_000
"""Longest text value or key (the longest shipped value is about 530 characters)."""
LABEL_CHARS = 60


class _Refused(yaml.MarkedYAMLError):
    """A YAML construct the record files may not use."""


def _refuse(problem: str, mark: Any) -> _Refused:
    return _Refused(None, None, problem, mark)


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader without anchors, aliases or duplicate keys, and with bounded depth and
    text length (checked on the event stream, before anything is built)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            raise _refuse(f"YAML alias '*{_short(event.anchor)}' is not allowed in records", event.start_mark)
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise _refuse(f"YAML anchor '&{_short(anchor)}' is not allowed in records: write the value out", event.start_mark)
        if isinstance(event, yaml.ScalarEvent) and len(event.value) > MAX_TEXT_CHARS:
            raise _refuse(f"a text value of {len(event.value):,} characters (at most {MAX_TEXT_CHARS:,})", event.start_mark)
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            self._depth += 1
            try:
                if self._depth > MAX_DEPTH:
                    raise _refuse(f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the base class reports it
                continue
            if first is not None:
                raise _refuse(f"duplicate key '{_short(key)}' (first at line {first})", key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)


def _short(value: Any) -> str:
    """A label for ``value`` in a message: short text as is (cut at :data:`LABEL_CHARS`), anything
    else by its type only, so no message ever expands a large structure."""
    if isinstance(value, str):
        text = value
    elif value is None or isinstance(value, (int, float, bool)):
        text = str(value)
    else:
        return f"<a {type(value).__name__}>"
    text = text.replace("\n", "\\n")
    return text if len(text) <= LABEL_CHARS else text[:LABEL_CHARS] + f"... ({len(text):,} characters)"


def _record_label(rid: Any, pos: int) -> str:
    if isinstance(rid, str) and 0 < len(rid) <= ID_MAX_LENGTH and rid.isprintable():
        return rid
    return f"entry {pos + 1}"


def shipped_records_dir() -> Path:
    """The folder of curated YAML records shipped inside the package."""
    return Path(str(resources.files("exoresist.kb") / "records"))


def yaml_files(paths: Sequence[Path | str] | None = None) -> list[Path]:
    """Expand files and folders into the sorted list of YAML files they hold.

    Raises ``KBValidationError`` for a path that does not exist or holds no YAML file.
    """
    chosen = [Path(p) for p in paths] if paths else [shipped_records_dir()]
    files: list[Path] = []
    issues: list[Issue] = []
    for p in chosen:
        if p.is_dir():
            found = sorted([*p.glob("*.yaml"), *p.glob("*.yml")])
            if not found:
                issues.append(Issue(str(p), None, None, "folder holds no .yaml files"))
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            issues.append(Issue(str(p), None, None, "no such file or folder"))
    if issues:
        raise KBValidationError(issues)
    return files


def read_raw(path: Path) -> tuple[list[dict[str, Any]], list[Issue]]:
    """Parse one YAML file into raw entries (strictly, see the module docstring). Problems are
    returned, not raised."""
    file = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return [], [
                Issue(file, None, None, f"file of {size:,} bytes, larger than the {MAX_FILE_BYTES:,} a record file may be")
            ]
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return [], [Issue(file, None, None, f"not UTF-8 text (byte {exc.start})")]
    except OSError as exc:
        return [], [Issue(file, None, None, f"cannot read the file: {exc.strerror or exc}")]
    try:
        loader = _StrictLoader(text)
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except _Refused as exc:
        return [], [Issue(file, None, None, f"{_where(exc)}{exc.problem}")]
    except yaml.MarkedYAMLError as exc:
        where = _where(exc)
        return [], [Issue(file, None, None, f"malformed YAML{' ' + where[:-2] if where else ''}: {exc.problem}")]
    except yaml.YAMLError as exc:
        return [], [Issue(file, None, None, f"malformed YAML: {_short(str(exc))}")]
    except RecursionError:
        return [], [Issue(file, None, None, f"nested more than {MAX_DEPTH} levels deep")]
    if data is None:
        return [], []
    if not isinstance(data, list):
        return [], [Issue(file, None, None, f"top level must be a list of records, got {type(data).__name__}")]
    entries: list[dict[str, Any]] = []
    issues: list[Issue] = []
    for i, entry in enumerate(data):
        if not isinstance(entry, dict):
            issues.append(Issue(file, f"entry {i + 1}", None, f"a record must be a mapping, got {type(entry).__name__}"))
            continue
        entries.append(entry)
    return entries, issues


def _where(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark
    return f"at line {mark.line + 1}, column {mark.column + 1}: " if mark else ""


def parse_records(files: Iterable[Path]) -> tuple[list[tuple[Record, Origin]], list[Issue]]:
    """Validate each entry's shape; return the records that passed and every issue found."""
    out: list[tuple[Record, Origin]] = []
    issues: list[Issue] = []
    for path in files:
        entries, problems = read_raw(path)
        issues.extend(problems)
        for pos, entry in enumerate(entries):
            rid = entry.get("id")
            label = _record_label(rid, pos)
            if isinstance(rid, str) and len(rid) > ID_MAX_LENGTH:
                issues.append(Issue(str(path), label, "id", f"id of {len(rid):,} characters (at most {ID_MAX_LENGTH})"))
                continue
            kind = entry.get("kind")
            if kind is None:
                issues.append(Issue(str(path), label, "kind", "missing required field"))
                continue
            if not isinstance(kind, str):
                issues.append(Issue(str(path), label, "kind", f"must be text, got {_short(kind)}"))
                continue
            model = RECORD_MODELS.get(kind)
            if model is None:
                issues.append(
                    Issue(str(path), label, "kind", f"unknown kind '{_short(kind)}'", _first(suggest(kind, RECORD_MODELS)))
                )
                continue
            try:
                record = model.model_validate(entry)
            except ValidationError as exc:
                issues.extend(_pydantic_issues(str(path), label, exc))
                continue
            out.append((record, (str(path), pos)))  # type: ignore[arg-type]
    return out, issues


def _first(items: list[str]) -> str | None:
    return items[0] if items else None


def _pydantic_issues(file: str, record_id: str, exc: ValidationError) -> list[Issue]:
    issues = []
    for err in exc.errors():
        loc = ".".join(_short(part) for part in err["loc"])
        msg = err["msg"]
        hint = None
        if err["type"] == "missing":
            msg = "missing required field"
        elif err["type"] == "enum":
            expected = err.get("ctx", {}).get("expected", "")
            choices = [c.strip().strip("'") for c in str(expected).replace(" or ", ",").split(",") if c.strip()]
            got = _short(err.get("input"))
            msg = f"unknown term '{got}'"
            hint = _first(suggest(got, choices))
        elif err["type"] == "literal_error":
            msg = f"{msg}, got '{_short(err.get('input'))}'"
        elif err["type"] == "string_pattern_mismatch":
            msg = f"'{_short(err.get('input'))}' does not match the pattern {err.get('ctx', {}).get('pattern')}"
        elif err["type"] == "extra_forbidden":
            msg = "unknown field"
        issues.append(Issue(file, record_id, loc or None, msg, hint))
    return issues


def check_references(records: Sequence[tuple[Record, Origin]]) -> list[Issue]:
    """Whole-KB checks: duplicate ids, unique entity names, and every reference resolves."""
    issues: list[Issue] = []
    by_id: dict[str, Origin] = {}
    for rec, (file, _) in records:
        if rec.id in by_id:
            issues.append(Issue(file, rec.id, "id", f"duplicate id (first defined in {by_id[rec.id][0]})"))
        else:
            by_id[rec.id] = (file, 0)

    names: dict[str, str] = {}
    for rec, (file, _) in records:
        if isinstance(rec, Entity):
            for n in (rec.name, *rec.aliases):
                key = n.casefold()
                if key in names and names[key] != rec.id:
                    issues.append(Issue(file, rec.id, "name", f"name or alias '{n}' is also used by {names[key]}"))
                names[key] = rec.id
    entity_names = sorted({n for rec, _ in records if isinstance(rec, Entity) for n in (rec.name, *rec.aliases)})

    therapy_refs = {r.id for r, _ in records if isinstance(r, Therapy)} | {f"class:{c.value}" for c in TherapyClass}
    kinds = {r.id: r.kind for r, _ in records}

    def entity(file: str, rid: str, field: str, name: str) -> None:
        if name.casefold() not in names:
            issues.append(Issue(file, rid, field, f"unknown entity '{name}'", _first(suggest(name, entity_names))))

    def therapy(file: str, rid: str, field: str, ref: str) -> None:
        if ref not in therapy_refs:
            issues.append(Issue(file, rid, field, f"unknown therapy '{ref}'", _first(suggest(ref, therapy_refs))))

    def record(file: str, rid: str, field: str, ref: str, allowed: set[str]) -> None:
        if ref not in kinds:
            issues.append(
                Issue(file, rid, field, f"reference to a record that does not exist: '{ref}'", _first(suggest(ref, kinds)))
            )
        elif kinds[ref] not in allowed:
            issues.append(Issue(file, rid, field, f"'{ref}' is a {kinds[ref]}, expected one of {sorted(allowed)}"))

    for rec, (file, _) in records:
        rid = rec.id
        if isinstance(rec, Mechanism):
            entity(file, rid, "cargo", rec.cargo)
            for i, step in enumerate(rec.axis):
                entity(file, rid, f"axis.{i}.source", step.source)
                entity(file, rid, f"axis.{i}.target", step.target)
            for i, p in enumerate(rec.pathways):
                entity(file, rid, f"pathways.{i}", p)
            for i, t in enumerate(rec.therapies):
                therapy(file, rid, f"therapies.{i}.therapy", t.therapy)
            for i, s in enumerate(rec.induced_by):
                if not isinstance(s, Enum):
                    therapy(file, rid, f"induced_by.{i}", s)
        elif isinstance(rec, Intervention):
            for i, n in enumerate(rec.target_entities):
                entity(file, rid, f"target_entities.{i}", n)
            if rec.payload is not None:
                entity(file, rid, "payload", rec.payload)
            for i, ref in enumerate(rec.blocks):
                record(file, rid, f"blocks.{i}", ref, {"mechanism", "hypothesis"})
            for i, t in enumerate(rec.therapies):
                therapy(file, rid, f"therapies.{i}.therapy", t.therapy)
        elif isinstance(rec, Biomarker):
            for i, n in enumerate(rec.markers):
                entity(file, rid, f"markers.{i}", n)
            for i, ref in enumerate(rec.therapies):
                therapy(file, rid, f"therapies.{i}", ref)
            for i, ref in enumerate(rec.related):
                record(file, rid, f"related.{i}", ref, {"mechanism", "hypothesis", "intervention", "biomarker"})
        elif isinstance(rec, Therapy):
            for i, ref in enumerate(rec.components):
                record(file, rid, f"components.{i}", ref, {"therapy"})
    return issues


def load_validated(paths: Sequence[Path | str] | None = None) -> list[tuple[Record, Origin]]:
    """Read and validate records from ``paths`` (files or folders; default: the shipped records).

    Returns ``(record, (file, position))`` pairs in file order. Raises ``KBValidationError`` listing
    every problem if anything is invalid.
    """
    records, issues = parse_records(yaml_files(paths))
    issues.extend(check_references(records))
    if issues:
        raise KBValidationError(issues)
    return records
