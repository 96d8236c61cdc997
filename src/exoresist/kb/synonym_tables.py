"""The synonym tables shipped in ``exoresist/kb/synonyms/*.yaml``, validated when they are read.

They hold what the records do not: the therapy-class and cell-type hierarchies, brand names of
drugs and drugs the KB has no record of, compounds an intervention record covers, and the words
users type for vocabulary terms - each synonym with its source. :mod:`exoresist.kb.names`
combines them with the records into one resolver.

A malformed table raises ``KBValidationError`` naming the file, the entry and the field, like a
malformed record.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from exoresist.kb.errors import Issue, KBValidationError
from exoresist.kb.vocab import CargoClass, CellType, EvidenceKind, Phenotype, TherapyClass

SYNONYM_FILES = ("therapy_classes.yaml", "cell_types.yaml", "therapies.yaml", "interventions.yaml", "terms.yaml")

_Text = Field(min_length=1, max_length=200, pattern=r"^\S(.*\S)?$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Alias(_Strict):
    """One spelling of a name, with where it comes from and an optional note shown when it is used."""

    name: str = _Text
    source: str = Field(min_length=3)
    note: str | None = None


class _WithAliases(_Strict):
    aliases: tuple[Alias, ...] = ()
    alias_source: str | None = None
    note: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _plain_aliases(cls, data: Any) -> Any:
        """Aliases may be plain strings: they take ``alias_source`` (and the entry's ``note``)."""
        if isinstance(data, dict) and isinstance(data.get("aliases"), list):
            src, note = data.get("alias_source"), data.get("note")
            if any(isinstance(a, str) for a in data["aliases"]) and not src:
                raise ValueError("plain-string aliases need alias_source")
            data = {
                **data,
                "aliases": [{"name": a, "source": src, "note": note} if isinstance(a, str) else a for a in data["aliases"]],
            }
        return data


class HierarchyNode(_WithAliases):
    """A therapy class or cell type; ``vocabulary: false`` marks a grouping no record can name."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    label: str = _Text
    parent: str | None = None
    vocabulary: bool = True


class Brand(_Strict):
    brand: str = _Text
    drug: str = _Text
    source: str = Field(min_length=3)


class KnownDrug(_Strict):
    """A drug users ask for that the KB holds no record of."""

    drug: str = _Text
    classes: tuple[TherapyClass, ...] = Field(min_length=1)
    description: str = Field(min_length=3)


class TherapySynonyms(_Strict):
    brands: tuple[Brand, ...] = ()
    known_drugs: tuple[KnownDrug, ...] = ()


class CompoundSynonym(_Strict):
    """A compound or common name that an intervention record covers."""

    name: str = _Text
    intervention: str = Field(pattern=r"^int:[a-z0-9][a-z0-9-]*$")
    relation: Literal["compound", "compound class", "synonym"]
    note: str = Field(min_length=3)
    source: str = Field(min_length=3)

    @field_validator("source")
    @classmethod
    def _no_placeholder(cls, v: str) -> str:
        if "TODO" in v:
            raise ValueError("a source is still to be found (TODO); leave the synonym out until it has one")
        return v


class TermAliases(_WithAliases):
    term: str = _Text


class TermSynonyms(_Strict):
    phenotype: tuple[TermAliases, ...] = ()
    evidence: tuple[TermAliases, ...] = ()
    cargo_class: tuple[TermAliases, ...] = ()


@dataclass(frozen=True)
class SynonymTables:
    """Every shipped synonym table, validated."""

    therapy_classes: tuple[HierarchyNode, ...]
    cell_types: tuple[HierarchyNode, ...]
    therapies: TherapySynonyms
    interventions: tuple[CompoundSynonym, ...]
    terms: TermSynonyms

    def term_aliases(self, vocabulary: str) -> tuple[TermAliases, ...]:
        out: tuple[TermAliases, ...] = getattr(self.terms, vocabulary)
        return out


def synonyms_dir() -> Path:
    """The folder of synonym tables shipped inside the package."""
    return Path(str(resources.files("exoresist.kb") / "synonyms"))


@functools.cache
def load_synonyms(folder: Path | None = None) -> SynonymTables:
    """Read and validate the synonym tables (cached per folder). ``KBValidationError`` lists every problem."""
    folder = folder or synonyms_dir()
    issues: list[Issue] = []
    data: dict[str, Any] = {}
    for name in SYNONYM_FILES:
        path = folder / name
        try:
            data[name] = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
            issues.append(Issue(str(path), None, None, f"cannot read synonym table: {exc}".splitlines()[0]))
    if issues:
        raise KBValidationError(issues)

    def parse(file: str, model: type[BaseModel], raw: Any, label: str) -> Any:
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"]) or None
                issues.append(Issue(str(folder / file), label, loc, err["msg"]))
            return None

    def nodes(file: str) -> tuple[HierarchyNode, ...]:
        raw = data[file]
        if not isinstance(raw, list):
            issues.append(Issue(str(folder / file), None, None, "top level must be a list of entries"))
            return ()
        parsed = [
            parse(file, HierarchyNode, e, str(e.get("id")) if isinstance(e, dict) else f"entry {i + 1}")
            for i, e in enumerate(raw)
        ]
        return tuple(n for n in parsed if n is not None)

    tc = nodes("therapy_classes.yaml")
    ct = nodes("cell_types.yaml")
    th = parse("therapies.yaml", TherapySynonyms, data["therapies.yaml"] or {}, "therapies")
    iv_raw = data["interventions.yaml"] or []
    iv = tuple(
        c
        for c in (
            parse("interventions.yaml", CompoundSynonym, e, str(e.get("name")) if isinstance(e, dict) else f"entry {i + 1}")
            for i, e in enumerate(iv_raw if isinstance(iv_raw, list) else [])
        )
        if c is not None
    )
    terms = parse("terms.yaml", TermSynonyms, data["terms.yaml"] or {}, "terms")
    _check_hierarchy(str(folder / "therapy_classes.yaml"), tc, {c.value for c in TherapyClass}, issues)
    _check_hierarchy(str(folder / "cell_types.yaml"), ct, {c.value for c in CellType}, issues)
    if terms is not None:
        for vocab, members in (("phenotype", Phenotype), ("evidence", EvidenceKind), ("cargo_class", CargoClass)):
            values = {m.value for m in members}
            for entry in getattr(terms, vocab):
                if entry.term not in values:
                    issues.append(Issue(str(folder / "terms.yaml"), entry.term, vocab, f"unknown {vocab} term '{entry.term}'"))
    if issues:
        raise KBValidationError(issues)
    return SynonymTables(tc, ct, th, iv, terms)


def _check_hierarchy(file: str, nodes: tuple[HierarchyNode, ...], vocabulary: set[str], issues: list[Issue]) -> None:
    """Each vocabulary term exactly once, grouping nodes outside the vocabulary, parents known, no cycles."""
    ids: dict[str, HierarchyNode] = {}
    for n in nodes:
        if n.id in ids:
            issues.append(Issue(file, n.id, "id", "listed twice"))
        ids[n.id] = n
        if n.vocabulary and n.id not in vocabulary:
            issues.append(Issue(file, n.id, "id", "not a vocabulary term: mark a grouping node 'vocabulary: false'"))
        if not n.vocabulary and n.id in vocabulary:
            issues.append(Issue(file, n.id, "vocabulary", "is a vocabulary term, so it cannot be a grouping node"))
    for missing in sorted(vocabulary - set(ids)):
        issues.append(Issue(file, None, None, f"vocabulary term '{missing}' is missing from the hierarchy"))
    for n in nodes:
        if n.parent is not None and n.parent not in ids:
            issues.append(Issue(file, n.id, "parent", f"unknown parent '{n.parent}'"))
    for n in nodes:
        seen = {n.id}
        p = n.parent
        while p is not None and p in ids:
            if p in seen:
                issues.append(Issue(file, n.id, "parent", "the parents form a cycle"))
                break
            seen.add(p)
            p = ids[p].parent


def parents(nodes: tuple[HierarchyNode, ...]) -> Mapping[str, str | None]:
    """``node id -> parent id`` of a validated hierarchy."""
    return {n.id: n.parent for n in nodes}
