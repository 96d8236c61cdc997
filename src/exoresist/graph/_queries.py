"""The queries over the routes: explain (one cargo and therapy), routes (by phenotype and donor),
compare (shared and specific mechanisms). ``targets`` lives in :mod:`exoresist.graph._targets`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from exoresist.graph._build import MechanismGraph
from exoresist.graph._routes import Route, find_routes
from exoresist.graph._signs import sign_word
from exoresist.graph.errors import NoRouteError
from exoresist.kb import Mechanism


# --- explain ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Explanation:
    cargo: str
    therapy: str
    therapy_refs: tuple[str, ...]
    routes: tuple[Route, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": {"cargo": self.cargo, "therapy": self.therapy, "therapy_refs": list(self.therapy_refs)},
            "n_routes": len(self.routes),
            "routes": [r.to_dict() for r in self.routes],
        }

    def text(self) -> str:
        lines = [f"{len(self.routes)} route(s) from {self.cargo} to {self.therapy} ({', '.join(self.therapy_refs)})"]
        for i, r in enumerate(self.routes, 1):
            # records that state the same molecular steps (every record with the phenotype and the
            # therapy shares the last step, which says nothing about the mechanism)
            others = sorted({x for s in r.steps[:-1] for x in s.records} - set(r.anchors))
            claimed = " then ".join(", ".join(seg) for seg in r.segments) if r.is_chain else ", ".join(r.anchors)
            lines.append(
                f"{i}. {r.effect} (net sign {sign_word(r.sign)}), weakest evidence {r.grade}, claimed by {claimed}"
                + (f" [chain across {len(r.segments)} cells]" if r.is_chain else "")
                + (f"; steps also stated by {', '.join(others)}" if others else "")
                + (f"; non-exosomal context: {', '.join(r.context_records)}" if r.context_records else "")
            )
            lines.append(f"   {r.text()}")
            if r.pathways:
                lines.append(f"   pathways the record names: {', '.join(r.pathways)}")
        return "\n".join(lines)


def explain(mg: MechanismGraph, *, cargo: str, therapy: str) -> Explanation:
    """Every route from ``cargo`` (or its donor cells) to ``therapy``, with net sign, steps,
    records and weakest evidence. Raises ``NoRouteError`` if the names are known but unlinked."""
    routes = find_routes(mg, therapy, cargo=cargo)
    name = mg.kb.entity(cargo).name
    if not routes:
        raise NoRouteError(f"no route from {name} to {therapy} in the graph; {_linked_therapies(mg, cargo)}")
    return Explanation(name, therapy, tuple(sorted(mg.kb.therapy_refs(therapy))), tuple(routes))


def _linked_therapies(mg: MechanismGraph, cargo: str) -> str:
    ent = mg.kb.entity(cargo)
    refs = sorted({e.therapy for m in mg.mechanisms() if mg.kb.entity(m.cargo).id == ent.id for e in m.therapies})
    return f"its records name: {', '.join(refs)}" if refs else "no included record names it as a cargo"


def resistance_routes(mg: MechanismGraph, therapy: str) -> list[Route]:
    """Routes with net sign +1 to ``therapy``; ``NoRouteError`` if there are none."""
    routes = [r for r in find_routes(mg, therapy) if r.sign > 0]
    if not routes:
        refs = mg.kb.therapy_refs(therapy)
        hyps = [m.id for m in mg.kb.mechanisms if m.kind == "hypothesis" and any(t.therapy in refs for t in m.therapies)]
        hint = (
            f"; hypothesis records name it ({', '.join(hyps)}): include them to see their routes"
            if hyps and not mg.include_hypotheses
            else ""
        )
        raise NoRouteError(f"no resistance route to {therapy} in the graph{hint}")
    return routes


# --- routes ---------------------------------------------------------------------------------------
@dataclass
class _Group:
    cargos: set[str] = field(default_factory=set)
    mechanisms: set[str] = field(default_factory=set)
    n_routes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"n_routes": self.n_routes, "cargos": sorted(self.cargos), "mechanisms": sorted(self.mechanisms)}


@dataclass(frozen=True)
class RouteSummary:
    therapy: str
    therapy_refs: tuple[str, ...]
    routes: tuple[Route, ...]
    mechanisms: tuple[Mechanism, ...]
    labels: dict[str, str]

    def _grouped(self, attr: str) -> dict[str, _Group]:
        groups: dict[str, _Group] = defaultdict(_Group)
        for r in self.routes:
            key = getattr(r, attr)
            g = groups[self.labels[key] if key else "unspecified donor"]
            g.cargos.add(self.labels[r.cargo])
            g.mechanisms.update(r.anchors)
            g.n_routes += 1
        return dict(sorted(groups.items()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": {"therapy": self.therapy, "therapy_refs": list(self.therapy_refs)},
            "n_routes": len(self.routes),
            "n_mechanisms": len(self.mechanisms),
            "by_phenotype": {k: v.to_dict() for k, v in self._grouped("phenotype").items()},
            "by_donor": {k: v.to_dict() for k, v in self._grouped("donor").items()},
            "mechanisms": [
                {
                    "id": m.id,
                    "title": m.title,
                    "cargo": m.cargo,
                    "donor_cells": [c.value for c in m.donor_cells],
                    "phenotypes": [p.value for p in m.phenotypes],
                    "evidence_grade": m.evidence_grade.value,
                }
                for m in self.mechanisms
            ],
        }

    def text(self) -> str:
        lines = [f"{len(self.routes)} resistance route(s) to {self.therapy} from {len(self.mechanisms)} mechanism(s)"]
        for title, attr in (("by phenotype", "phenotype"), ("by donor cell", "donor")):
            lines.append(title + ":")
            for k, g in self._grouped(attr).items():
                lines.append(
                    f"  {k} ({g.n_routes} routes): cargos {', '.join(sorted(g.cargos))}; "
                    f"records {', '.join(sorted(g.mechanisms))}"
                )
        return "\n".join(lines)


def routes(mg: MechanismGraph, *, therapy: str) -> RouteSummary:
    """All cargos and mechanisms that confer resistance to ``therapy``, grouped by phenotype and donor."""
    found = resistance_routes(mg, therapy)
    anchor_ids = {a for r in found for a in r.anchors}
    mechs = tuple(m for m in mg.mechanisms() if m.id in anchor_ids)
    labels = {n: mg.label(n) for r in found for n in (*r.nodes, r.cargo)}
    return RouteSummary(therapy, tuple(sorted(mg.kb.therapy_refs(therapy))), tuple(found), mechs, labels)


# --- compare --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Comparison:
    therapies: tuple[str, ...]
    mechanisms: dict[str, tuple[str, ...]]  # therapy -> anchor mechanism ids
    cargos: dict[str, tuple[str, ...]]
    phenotypes: dict[str, tuple[str, ...]]
    titles: dict[str, str]

    def _split(self, table: dict[str, tuple[str, ...]]) -> dict[str, Any]:
        sets = [set(table[t]) for t in self.therapies]
        shared = set.intersection(*sets)
        return {"shared": sorted(shared), "only": {t: sorted(set(table[t]) - shared) for t in self.therapies}}

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": {"therapies": list(self.therapies)},
            "mechanisms": self._split(self.mechanisms),
            "cargos": self._split(self.cargos),
            "phenotypes": self._split(self.phenotypes),
            "titles": dict(sorted(self.titles.items())),
        }

    def text(self) -> str:
        lines: list[str] = []
        for what, table in (("mechanisms", self.mechanisms), ("cargos", self.cargos), ("phenotypes", self.phenotypes)):
            split = self._split(table)
            lines.append(f"{what} shared by {' and '.join(self.therapies)}: {', '.join(split['shared']) or '-'}")
            for t, only in split["only"].items():
                lines.append(f"  only {t}: {', '.join(only) or '-'}")
        return "\n".join(lines)


def compare(mg: MechanismGraph, *, therapies: Sequence[str]) -> Comparison:
    """Mechanisms, cargos and phenotypes of the resistance routes shared by every therapy, and
    those specific to each."""
    if len(therapies) < 2:
        raise ValueError("compare needs at least two therapies")
    mechs: dict[str, tuple[str, ...]] = {}
    cargos: dict[str, tuple[str, ...]] = {}
    phens: dict[str, tuple[str, ...]] = {}
    for t in therapies:
        found = resistance_routes(mg, t)
        mechs[t] = tuple(sorted({a for r in found for a in r.anchors}))
        cargos[t] = tuple(sorted({mg.label(r.cargo) for r in found}))
        phens[t] = tuple(sorted({mg.label(r.phenotype) for r in found}))
    titles = {m.id: m.title for m in mg.mechanisms() if any(m.id in v for v in mechs.values())}
    return Comparison(tuple(therapies), mechs, cargos, phens, titles)
