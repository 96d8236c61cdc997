"""Queries over mechanism records, with what each name resolved to and why a result is empty.

:meth:`KnowledgeBase.search` returns a :class:`QueryResult`: the records, how every filter's
name resolved (and what a class or parent cell type expanded to), how many records each filter
matches on its own, and the hypothesis records that match but were left out. An empty result
says which filter emptied it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from exoresist.kb.errors import UnknownNameError
from exoresist.kb.models import Mechanism
from exoresist.kb.names import NameKind, Resolved
from exoresist.kb.vocab import CargoClass, CellType, EvidenceGrade, EvidenceKind, Phenotype

if TYPE_CHECKING:
    from exoresist.kb.base import KnowledgeBase

#: The filters, in the order they apply, with the kind of name each takes.
FILTERS: dict[str, NameKind] = {
    "cargo": NameKind.CARGO,
    "cargo_class": NameKind.CARGO_CLASS,
    "therapy": NameKind.THERAPY,
    "phenotype": NameKind.PHENOTYPE,
    "donor": NameKind.CELL,
    "recipient": NameKind.CELL,
    "evidence": NameKind.EVIDENCE,
}


def option_name(filter_name: str) -> str:
    """``cargo_class`` -> ``--cargo-class``."""
    return "--" + filter_name.replace("_", "-")


@dataclass(frozen=True)
class Filter:
    """One filter of a query: the option, the name given, what it resolved to, and how many of the
    records considered it matches on its own."""

    name: str
    value: str
    resolved: Resolved
    matches_alone: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "filter": self.name,
            "value": self.value,
            "resolved": self.resolved.to_dict(),
            "matches_alone": self.matches_alone,
        }


@dataclass(frozen=True)
class QueryResult:
    """Records matching every filter, and how the query was read."""

    records: tuple[Mechanism, ...]
    filters: tuple[Filter, ...]
    include_hypotheses: bool
    considered: int
    hypotheses_left_out: tuple[str, ...]

    def notes(self) -> list[str]:
        """One line per filter whose name was not taken literally (alias, class, subtype, miRBase form)."""
        return [
            f"{option_name(f.name)} {f.resolved.describe()}"
            for f in self.filters
            if f.resolved.expanded or f.resolved.notes or f.resolved.via not in ("name", "id", "label")
        ]

    def hypotheses_hint(self) -> str | None:
        if self.include_hypotheses or not self.hypotheses_left_out:
            return None
        ids = ", ".join(self.hypotheses_left_out)
        return (
            f"{len(self.hypotheses_left_out)} hypothesis record(s) also match ({ids}): add --include-hypotheses to include them"
        )

    def empty_reason(self) -> str | None:
        """Why nothing matched (None when something did): the filter that emptied the result."""
        if self.records:
            return None
        kinds = "mechanism and hypothesis records" if self.include_hypotheses else "mechanism records"
        if not self.filters:
            return f"the KB holds no {kinds}"
        for f in self.filters:
            if f.matches_alone == 0:
                what = f.resolved.name if not f.resolved.expanded else f"{f.resolved.name} ({', '.join(f.resolved.covers)})"
                text = f"no record matches {option_name(f.name)} {f.value}: none of the {self.considered} {kinds} names {what}"
                hint = self.hypotheses_hint()
                return text + (f"; {hint}" if hint else "")
        alone = ", ".join(f"{option_name(f.name)} {f.value}: {f.matches_alone}" for f in self.filters)
        text = f"each filter matches records on its own ({alone}) but no record matches them all"
        hint = self.hypotheses_hint()
        return text + (f"; {hint}" if hint else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_records": len(self.records),
            "records": [m.id for m in self.records],
            "filters": [f.to_dict() for f in self.filters],
            "include_hypotheses": self.include_hypotheses,
            "hypotheses_left_out": list(self.hypotheses_left_out),
            "empty_reason": self.empty_reason(),
        }


def _grade(value: str) -> EvidenceGrade:
    try:
        return EvidenceGrade(value.strip().upper())
    except ValueError:
        raise UnknownNameError("evidence grade", value, [g.value for g in EvidenceGrade]) from None


def run_query(kb: KnowledgeBase, *, include_hypotheses: bool = False, **given: str | None) -> QueryResult:
    """The records matching every filter in ``given`` (keys from :data:`FILTERS`, and ``grade``:
    the evidence grade A-D)."""
    grade = given.pop("grade", None)
    unknown = set(given) - set(FILTERS)
    if unknown:
        raise TypeError(f"unknown query filter(s): {', '.join(sorted(unknown))}")
    tests: list[tuple[Filter, Callable[[Mechanism], bool]]] = []
    everything = kb.mechanisms
    if grade is not None:
        level = _grade(grade)
        everything = [m for m in everything if m.evidence_grade is level]
    pool = [m for m in everything if include_hypotheses or m.kind == "mechanism"]
    for name, kind in FILTERS.items():
        value = given.get(name)
        if value is None:
            continue
        resolved = kb.names.resolve(value, kind)
        test = _test(kb, name, resolved)
        tests.append((Filter(name, value, resolved, sum(1 for m in pool if test(m))), test))
    found = [m for m in pool if all(t(m) for _, t in tests)]
    left_out = (
        () if include_hypotheses else tuple(m.id for m in everything if m.kind == "hypothesis" and all(t(m) for _, t in tests))
    )
    return QueryResult(tuple(found), tuple(f for f, _ in tests), include_hypotheses, len(pool), left_out)


def _test(kb: KnowledgeBase, name: str, r: Resolved) -> Callable[[Mechanism], bool]:
    ids = set(r.expands_to)
    if name == "cargo":
        return lambda m: kb.entity(m.cargo).id in ids
    if name == "cargo_class":
        cc = CargoClass(r.id.split(":", 1)[1])
        return lambda m: kb.cargo_class(m) is cc
    if name == "therapy":
        return lambda m: any(t.therapy in ids for t in m.therapies)
    if name == "phenotype":
        ph = Phenotype(r.id.split(":", 1)[1])
        return lambda m: ph in m.phenotypes
    if name in ("donor", "recipient"):
        cells = {CellType(i.removeprefix("cell:")) for i in ids}
        if name == "donor":
            return lambda m: bool(cells & set(m.donor_cells))
        return lambda m: bool(cells & set(m.recipient_cells))
    kind = EvidenceKind(r.id.split(":", 1)[1])
    return lambda m: any(kind in e.kinds for e in m.evidence)
