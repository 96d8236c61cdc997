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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from exoresist.kb.errors import Issue, KBValidationError, suggest
from exoresist.kb.models import ID_MAX_LENGTH, RECORD_MODELS, Biomarker, Entity, Intervention, Mechanism, Record, Therapy
from exoresist.kb.vocab import Stimulus, TherapyClass

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
    records, _, issues = parse_entries(files)
    return records, issues


def parse_entries(files: Iterable[Path]) -> tuple[list[tuple[Record, Origin]], list[RawRefs], list[Issue]]:
    """Validate each entry's shape. Returns the records that passed, the references of the entries
    that did not (so that :func:`check_references` still checks them in the same pass, and still
    counts their ids and names as defined), and every issue found. A file that holds no record is
    an issue."""
    out: list[tuple[Record, Origin]] = []
    invalid: list[RawRefs] = []
    issues: list[Issue] = []
    for path in files:
        entries, problems = read_raw(path)
        issues.extend(problems)
        if not entries and not problems:
            issues.append(
                Issue(str(path), None, None, "holds no records (an empty record file): add records or leave the file out")
            )
        for pos, entry in enumerate(entries):
            rid = entry.get("id")
            label = _record_label(rid, pos)
            if isinstance(rid, str) and len(rid) > ID_MAX_LENGTH:
                issues.append(Issue(str(path), label, "id", f"id of {len(rid):,} characters (at most {ID_MAX_LENGTH})"))
                continue
            kind = entry.get("kind")
            if kind is None:
                issues.append(Issue(str(path), label, "kind", "missing required field"))
                invalid.append(raw_refs(entry, str(path), label))
                continue
            if not isinstance(kind, str):
                issues.append(Issue(str(path), label, "kind", f"must be text, got {_short(kind)}"))
                continue
            model = RECORD_MODELS.get(kind)
            if model is None:
                issues.append(
                    Issue(str(path), label, "kind", f"unknown kind '{_short(kind)}'", _first(suggest(kind, RECORD_MODELS)))
                )
                invalid.append(raw_refs(entry, str(path), label))
                continue
            try:
                record = model.model_validate(entry)
            except ValidationError as exc:
                issues.extend(_pydantic_issues(str(path), label, exc))
                invalid.append(raw_refs(entry, str(path), label))
                continue
            out.append((record, (str(path), pos)))  # type: ignore[arg-type]
    return out, invalid, issues


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
        elif err["type"] == "value_error":
            msg = msg.removeprefix("Value error, ")
        issues.append(Issue(file, record_id, loc or None, msg, hint))
    return issues


_ENTITY_FIELDS = {
    "mechanism": ("cargo", "axis", "pathways"),
    "hypothesis": ("cargo", "axis", "pathways"),
    "intervention": ("target_entities", "payload"),
    "biomarker": ("markers",),
}
_MECHANISM_KINDS = frozenset({"mechanism", "hypothesis"})


@dataclass(frozen=True)
class RawRefs:
    """What one entry defines and refers to, read from its mapping: a valid record's dump or the
    raw YAML of an invalid one (only well-typed parts are read; the rest was reported already)."""

    file: str
    label: str
    kind: str | None
    id: str | None
    names: tuple[str, ...] = ()
    entities: tuple[tuple[str, str], ...] = ()
    therapies: tuple[tuple[str, str], ...] = ()
    records: tuple[tuple[str, str, frozenset[str]], ...] = ()


def raw_refs(data: Mapping[str, Any], file: str, label: str) -> RawRefs:
    """The references of one entry (see :class:`RawRefs`)."""
    kind = data.get("kind") if isinstance(data.get("kind"), str) else None
    rid = data.get("id") if isinstance(data.get("id"), str) else None

    def strings(value: Any) -> list[tuple[int, str]]:
        return [(i, v) for i, v in enumerate(value) if isinstance(v, str)] if isinstance(value, list) else []

    names: list[str] = []
    entities: list[tuple[str, str]] = []
    therapies: list[tuple[str, str]] = []
    records: list[tuple[str, str, frozenset[str]]] = []
    if kind == "entity":
        names = [n for n in [data.get("name"), *(v for _, v in strings(data.get("aliases")))] if isinstance(n, str)]
    if kind in _MECHANISM_KINDS or kind == "intervention":
        for key in ("cargo", "payload"):
            if isinstance(data.get(key), str) and key in _ENTITY_FIELDS.get(kind, ()):
                entities.append((key, data[key]))
        axis = data.get("axis")
        for i, step in enumerate(axis if isinstance(axis, list) else []):
            if isinstance(step, dict):
                for end in ("source", "target"):
                    if isinstance(step.get(end), str):
                        entities.append((f"axis.{i}.{end}", step[end]))
        for key in ("pathways", "target_entities"):
            if key in _ENTITY_FIELDS.get(kind, ()):
                entities += [(f"{key}.{i}", v) for i, v in strings(data.get(key))]
        effects = data.get("therapies")
        for i, eff in enumerate(effects if isinstance(effects, list) else []):
            if isinstance(eff, dict) and isinstance(eff.get("therapy"), str):
                therapies.append((f"therapies.{i}.therapy", eff["therapy"]))
    if kind in _MECHANISM_KINDS:
        stimuli = {s.value for s in Stimulus}
        therapies += [(f"induced_by.{i}", v) for i, v in strings(data.get("induced_by")) if v not in stimuli]
    if kind == "intervention":
        records += [(f"blocks.{i}", v, frozenset(_MECHANISM_KINDS)) for i, v in strings(data.get("blocks"))]
    if kind == "biomarker":
        entities += [(f"markers.{i}", v) for i, v in strings(data.get("markers"))]
        therapies += [(f"therapies.{i}", v) for i, v in strings(data.get("therapies"))]
        allowed = frozenset({"mechanism", "hypothesis", "intervention", "biomarker"})
        records += [(f"related.{i}", v, allowed) for i, v in strings(data.get("related"))]
    if kind == "therapy":
        records += [(f"components.{i}", v, frozenset({"therapy"})) for i, v in strings(data.get("components"))]
    return RawRefs(file, label, kind, rid, tuple(names), tuple(entities), tuple(therapies), tuple(records))


def _record_refs(rec: Record, file: str) -> RawRefs:
    """:func:`raw_refs` of a valid record, read from its fields (no dump: loading stays fast)."""
    if isinstance(rec, Entity):
        return RawRefs(file, rec.id, rec.kind, rec.id, names=(rec.name, *rec.aliases))
    if isinstance(rec, Mechanism):
        ents = [("cargo", rec.cargo)]
        for i, step in enumerate(rec.axis):
            ents += [(f"axis.{i}.source", step.source), (f"axis.{i}.target", step.target)]
        ents += [(f"pathways.{i}", p) for i, p in enumerate(rec.pathways)]
        ther = [(f"therapies.{i}.therapy", t.therapy) for i, t in enumerate(rec.therapies)]
        ther += [(f"induced_by.{i}", x) for i, x in enumerate(rec.induced_by) if not isinstance(x, Stimulus)]
        return RawRefs(file, rec.id, rec.kind, rec.id, entities=tuple(ents), therapies=tuple(ther))
    if isinstance(rec, Intervention):
        ents = [(f"target_entities.{i}", n) for i, n in enumerate(rec.target_entities)]
        if rec.payload is not None:
            ents.append(("payload", rec.payload))
        blocks = tuple((f"blocks.{i}", r, _MECHANISM_KINDS) for i, r in enumerate(rec.blocks))
        effects = tuple((f"therapies.{i}.therapy", t.therapy) for i, t in enumerate(rec.therapies))
        return RawRefs(file, rec.id, rec.kind, rec.id, entities=tuple(ents), therapies=effects, records=blocks)
    if isinstance(rec, Biomarker):
        allowed = frozenset({"mechanism", "hypothesis", "intervention", "biomarker"})
        return RawRefs(
            file,
            rec.id,
            rec.kind,
            rec.id,
            entities=tuple((f"markers.{i}", n) for i, n in enumerate(rec.markers)),
            therapies=tuple((f"therapies.{i}", r) for i, r in enumerate(rec.therapies)),
            records=tuple((f"related.{i}", r, allowed) for i, r in enumerate(rec.related)),
        )
    assert isinstance(rec, Therapy)
    comps = tuple((f"components.{i}", r, frozenset({"therapy"})) for i, r in enumerate(rec.components))
    return RawRefs(file, rec.id, rec.kind, rec.id, records=comps)


def check_references(records: Sequence[tuple[Record, Origin]], invalid: Sequence[RawRefs] = ()) -> list[Issue]:
    """Whole-KB checks: duplicate ids, unique entity names, and every reference resolves.

    ``invalid`` are the references of entries that failed validation: they are checked too, and
    their ids and names count as defined, so one pass reports every problem without knock-on
    errors."""
    views = [_record_refs(rec, file) for rec, (file, _) in records] + list(invalid)
    issues: list[Issue] = []
    by_id: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for v in views:
        if v.id is None:
            continue
        if v.id in by_id:
            issues.append(Issue(v.file, v.label, "id", f"duplicate id (first defined in {by_id[v.id]})"))
        else:
            by_id[v.id] = v.file
            if v.kind is not None:
                kinds[v.id] = v.kind

    names: dict[str, str] = {}
    for v in views:
        for n in v.names:
            key = n.casefold()
            if key in names and names[key] != (v.id or v.label):
                issues.append(Issue(v.file, v.label, "name", f"name or alias '{n}' is also used by {names[key]}"))
            names[key] = v.id or v.label
    entity_names = sorted({n for v in views for n in v.names})
    therapy_refs = {i for i, k in kinds.items() if k == "therapy"} | {f"class:{c.value}" for c in TherapyClass}

    for v in views:
        for fld, name in v.entities:
            if name.casefold() not in names:
                issues.append(Issue(v.file, v.label, fld, f"unknown entity '{name}'", _first(suggest(name, entity_names))))
        for fld, ref in v.therapies:
            if ref not in therapy_refs:
                issues.append(Issue(v.file, v.label, fld, f"unknown therapy '{ref}'", _first(suggest(ref, therapy_refs))))
        for fld, ref, allowed in v.records:
            if ref not in kinds:
                issues.append(
                    Issue(
                        v.file, v.label, fld, f"reference to a record that does not exist: '{ref}'", _first(suggest(ref, kinds))
                    )
                )
            elif kinds[ref] not in allowed:
                issues.append(Issue(v.file, v.label, fld, f"'{ref}' is a {kinds[ref]}, expected one of {sorted(allowed)}"))
    return issues


def load_validated(paths: Sequence[Path | str] | None = None, extra: Sequence[Path | str] = ()) -> list[tuple[Record, Origin]]:
    """Read and validate records from ``paths`` (files or folders; default: the shipped records)
    together with the ``extra`` files or folders (a user's own records, added to them).

    Returns ``(record, (file, position))`` pairs in file order, ``extra`` last. Raises
    ``KBValidationError`` listing every problem if anything is invalid.
    """
    files = yaml_files(paths)
    extra_files = [f for f in yaml_files(extra) if f not in files] if extra else []
    records, invalid, issues = parse_entries([*files, *extra_files])
    issues.extend(check_references(records, invalid))
    if issues:
        raise KBValidationError(issues)
    return records


def validate_extra(base: Sequence[tuple[Record, Origin]], paths: Sequence[Path | str]) -> list[tuple[Record, Origin]]:
    """``base`` (records already validated together) plus the records of ``paths``, checked
    against them; ``KBValidationError`` lists every problem of the new records."""
    extra_files = yaml_files(paths)
    records, invalid, issues = parse_entries(extra_files)
    issues.extend(check_references([*base, *records], invalid))
    if issues:
        raise KBValidationError(issues)
    return [*base, *records]


@dataclass(frozen=True)
class Validation:
    """What ``kb validate`` checked: the files, the records in them, and the KB they were checked against."""

    files: tuple[Path, ...]
    records: tuple[Record, ...]
    against: int  # records of the shipped KB they were checked against (0 when standalone)


def validate_files(paths: Sequence[Path | str] | None = None, *, standalone: bool = False) -> Validation:
    """Validate record files. By default new files are checked against the shipped KB (their names,
    therapies and references may point to shipped records; an id that repeats a shipped one is a
    duplicate); ``standalone`` checks them on their own. With no ``paths``, the shipped records.
    Raises ``KBValidationError`` listing every problem."""
    files = yaml_files(paths)
    shipped = yaml_files(None)
    base = [] if standalone or not paths or set(files) & set(shipped) else shipped
    base_records, base_invalid, base_issues = parse_entries(base)
    records, invalid, issues = parse_entries(files)
    issues = base_issues + issues + check_references([*base_records, *records], [*base_invalid, *invalid])
    if issues:
        raise KBValidationError(issues)
    return Validation(tuple(files), tuple(r for r, _ in records), len(base_records))
