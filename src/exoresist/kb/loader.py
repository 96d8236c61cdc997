"""Read curated YAML records and validate them into typed records.

Validation happens once, here, at the boundary: YAML syntax, record shape (pydantic), then the
checks that need the whole KB (duplicate ids, references between records, entity names). Every
problem is collected and reported together; nothing is returned unless everything is valid.
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
from exoresist.kb.models import RECORD_MODELS, Biomarker, Entity, Intervention, Mechanism, Record, Therapy
from exoresist.kb.vocab import TherapyClass

#: Where a record came from: (file, position in that file).
Origin = tuple[str, int]


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
    """Parse one YAML file into raw entries. Problems are returned, not raised."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return [], [Issue(str(path), None, None, f"malformed YAML{where}: {exc.problem}")]
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return [], [Issue(str(path), None, None, f"malformed YAML: {exc}")]
    if data is None:
        return [], []
    if not isinstance(data, list):
        return [], [Issue(str(path), None, None, f"top level must be a list of records, got {type(data).__name__}")]
    entries: list[dict[str, Any]] = []
    issues: list[Issue] = []
    for i, entry in enumerate(data):
        if not isinstance(entry, dict):
            issues.append(Issue(str(path), f"entry {i + 1}", None, f"a record must be a mapping, got {type(entry).__name__}"))
            continue
        entries.append(entry)
    return entries, issues


def parse_records(files: Iterable[Path]) -> tuple[list[tuple[Record, Origin]], list[Issue]]:
    """Validate each entry's shape; return the records that passed and every issue found."""
    out: list[tuple[Record, Origin]] = []
    issues: list[Issue] = []
    for path in files:
        entries, problems = read_raw(path)
        issues.extend(problems)
        for pos, entry in enumerate(entries):
            rid = entry.get("id")
            label = str(rid) if rid is not None else f"entry {pos + 1}"
            kind = entry.get("kind")
            if kind is None:
                issues.append(Issue(str(path), label, "kind", "missing required field"))
                continue
            model = RECORD_MODELS.get(str(kind))
            if model is None:
                issues.append(
                    Issue(str(path), label, "kind", f"unknown kind '{kind}'", _first(suggest(str(kind), RECORD_MODELS)))
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
        loc = ".".join(str(part) for part in err["loc"])
        msg = err["msg"]
        hint = None
        if err["type"] == "missing":
            msg = "missing required field"
        elif err["type"] == "enum":
            expected = err.get("ctx", {}).get("expected", "")
            choices = [c.strip().strip("'") for c in str(expected).replace(" or ", ",").split(",") if c.strip()]
            got = str(err.get("input"))
            msg = f"unknown term '{got}'"
            hint = _first(suggest(got, choices))
        elif err["type"] == "literal_error":
            msg = f"{msg}, got '{err.get('input')}'"
        elif err["type"] == "string_pattern_mismatch":
            msg = f"'{err.get('input')}' does not match the pattern {err.get('ctx', {}).get('pattern')}"
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
