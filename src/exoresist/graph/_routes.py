"""Resistance routes and the queries built on them: explain, routes, targets, compare.

A *route* is a path donor cell -> cargo -> ... -> phenotype -> therapy. It is kept only when one
record (its *anchor*) asserts its first step out of the cargo and every ``leads_to`` and therapy
step: a record must claim that this cargo acts on this therapy, and ``leads_to`` signs are
relative to the anchor's own axis. Molecular axis steps in between may come from other records
that share nodes with the anchor (the route is then ``composed``); a route is as strong as its
weakest edge. Routes never pass through a recipient cell, a class -> drug edge or an
intervention; therapy names resolve by alias and class via ``kb.therapy_refs``.

A route may cross cells: a record's phenotype that turns its recipient into a new cell state
(``caf_activation`` -> ``cancer_associated_fibroblast``, a ``becomes`` edge) can continue into a
record whose donor is that state. Such a *chain* is a series of *segments*, each anchored in its
own record by the rule above; the chain's last record names the therapy.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from exoresist.graph._build import AXIS_RELATIONS, RESISTANCE_RELATIONS, MechanismGraph, cell_node, therapy_node
from exoresist.graph._signs import path_sign, sign_word, weakest_grade
from exoresist.graph.errors import NoRouteError
from exoresist.kb import Mechanism

EdgeKey = tuple[str, str, str]
"""(source node, target node, edge key)."""

MAX_STEPS = 12
"""Longest segment searched, in edges (the longest curated axis has well under ten steps)."""

MAX_CELLS = 3
"""Most cell segments in one chain (donor -> state -> state)."""

_WORDS = {
    "secretes": "secretes",
    "taken_up_by": "is taken up by",
    "becomes": "turns its recipient into",
    "leads_to": "leads to",
    "promotes_resistance_to": "promotes resistance to",
    "sensitises_to": "sensitises to",
    "blocks": "blocks",
    "includes": "includes",
}


@dataclass(frozen=True)
class Step:
    """One edge of a route, with the records behind it."""

    source: str
    target: str
    relation: str
    sign: int
    records: tuple[str, ...]
    grade: str | None
    source_label: str
    target_label: str
    precursors: tuple[str, ...] = ()
    """For a ``becomes`` step: the recipient cells the phenotype turns into the new state."""

    def words(self) -> str:
        verb = _WORDS.get(self.relation, self.relation)
        if self.relation == "leads_to" and self.sign < 0:
            verb = "opposes (its loss leads to)"
        if self.relation == "becomes" and self.precursors:
            verb = f"turns {'/'.join(p.replace('_', ' ') for p in self.precursors)} into"
        return f"{self.source_label} {verb} {self.target_label}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "source_label": self.source_label,
            "relation": self.relation,
            "sign": self.sign,
            "target": self.target,
            "target_label": self.target_label,
            "records": list(self.records),
            "grade": self.grade,
            **({"precursors": list(self.precursors)} if self.relation == "becomes" else {}),
        }


@dataclass(frozen=True)
class Route:
    """One route from a donor cell (or, when the record names none, the cargo) to a therapy."""

    steps: tuple[Step, ...]
    anchors: tuple[str, ...]
    sign: int
    grade: str
    records: tuple[str, ...]
    composed: bool
    cargo: str
    donor: str | None
    phenotype: str
    therapy: str
    segments: tuple[tuple[str, ...], ...] = ()
    """Anchor records of each cell segment, in chain order (one segment unless the route crosses cells)."""
    context_records: tuple[str, ...] = ()
    """Anchor records without an exosomal step (``exosomal: false``)."""

    @property
    def is_chain(self) -> bool:
        return len(self.segments) > 1

    @property
    def cells(self) -> tuple[str, ...]:
        """The donor cells along the route, in order (one unless it is a chain)."""
        return tuple(s.source for s in self.steps if s.relation == "secretes")

    @property
    def nodes(self) -> tuple[str, ...]:
        return (self.steps[0].source, *(s.target for s in self.steps))

    @property
    def edges(self) -> tuple[EdgeKey, ...]:
        return tuple((s.source, s.target, f"{s.relation}{sign_word(s.sign)}") for s in self.steps)

    @property
    def effect(self) -> str:
        return "resistance" if self.sign > 0 else "sensitisation"

    def text(self) -> str:
        """The route in words, one clause per step."""
        return "; ".join(s.words() for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "effect": self.effect,
            "net_sign": self.sign,
            "weakest_evidence": self.grade,
            "cargo": self.cargo,
            "donor": self.donor,
            "phenotype": self.phenotype,
            "therapy": self.therapy,
            "anchor_records": list(self.anchors),
            "segments": [list(a) for a in self.segments],
            "cells": list(self.cells),
            "non_exosomal_records": list(self.context_records),
            "records": list(self.records),
            "composed": self.composed,
            "nodes": list(self.nodes),
            "text": self.text(),
            "steps": [s.to_dict() for s in self.steps],
        }


def _route_graph(mg: MechanismGraph) -> Any:
    """The edges a segment may use after leaving the cargo: axis steps, leads_to and therapy
    edges out of phenotypes (not recipient cells, class -> drug edges, interventions, or the
    ``becomes`` and ``secretes`` edges that join segments)."""
    g = mg.graph
    keep = [
        (u, v, k)
        for u, v, k, d in g.edges(keys=True, data=True)
        if d["relation"] in AXIS_RELATIONS
        or d["relation"] == "leads_to"
        or (d["relation"] in RESISTANCE_RELATIONS and g.nodes[u]["node_type"] == "phenotype")
    ]
    return g.edge_subgraph(keep)


def _step(mg: MechanismGraph, u: str, v: str, k: str) -> Step:
    d = mg.graph.edges[u, v, k]
    return Step(
        u,
        v,
        d["relation"],
        d["sign"],
        tuple(d["records"]),
        d["grade"],
        mg.label(u),
        mg.label(v),
        tuple(d.get("precursors", ())),
    )


Chain = tuple[list[EdgeKey], list[set[str]]]
"""Edges of a partial route and the anchor records of each of its segments."""


class _Search:
    """Segment and chain search over one graph, with the segment paths cached."""

    def __init__(self, mg: MechanismGraph, max_steps: int) -> None:
        self.mg = mg
        self.rg = _route_graph(mg)
        self.max_steps = max_steps
        self.by_id = {m.id: m for m in mg.mechanisms()}
        self._paths: dict[tuple[str, str], list[list[EdgeKey]]] = {}

    def cargo_node(self, m: Mechanism) -> str:
        return f"entity:{self.mg.kb.entity(m.cargo).id}"

    def segments(self, m: Mechanism, target: str) -> list[list[EdgeKey]]:
        """Paths from ``m``'s cargo to ``target`` that ``m`` anchors."""
        key = (self.cargo_node(m), target)
        if key not in self._paths:
            self._paths[key] = _paths(self.rg, *key, self.max_steps)
        return [p for p in self._paths[key] if _anchored(self.mg, p, m.id)]

    def prefixes(self, m: Mechanism, cells_left: int) -> list[Chain]:
        """Ways to reach ``m``'s cargo: from each donor cell directly and, while ``cells_left``,
        through a chain that turns another record's recipient into that donor."""
        cargo = self.cargo_node(m)
        if not m.donor_cells:
            return [([], [])]
        out: list[Chain] = []
        for d in m.donor_cells:
            secretes = (cell_node(d), cargo, "secretes+")
            out.append(([secretes], []))
            if cells_left > 0:
                out += [([*edges, secretes], anchors) for edges, anchors in self.upstream(cell_node(d), cells_left)]
        return out

    def upstream(self, cell: str, cells_left: int) -> list[Chain]:
        """Chains that end with a ``becomes`` edge into ``cell``, each segment anchored in its record."""
        out: list[Chain] = []
        g = self.mg.graph
        for phen, _, key, d in g.in_edges(cell, keys=True, data=True):
            if d["relation"] != "becomes":
                continue
            for rec in d["records"]:
                m = self.by_id.get(rec)
                if m is None:
                    continue
                for seg in self.segments(m, phen):
                    for edges, anchors in self.prefixes(m, cells_left - 1):
                        out.append(([*edges, *seg, (phen, cell, key)], [*anchors, {m.id}]))
        return out


def find_routes(
    mg: MechanismGraph,
    therapy: str | None,
    *,
    cargo: str | None = None,
    max_steps: int = MAX_STEPS,
    max_cells: int = MAX_CELLS,
) -> list[Route]:
    """Every route (resistance and sensitisation) to ``therapy`` (to any therapy when ``None``),
    optionally from one ``cargo``; a chain's cargo is the first one on it.

    Names resolve case-insensitively, by alias, and (for therapies) by class; an unknown name
    raises ``UnknownNameError`` with suggestions. Routes are sorted strongest evidence first.
    """
    kb = mg.kb
    refs = kb.therapy_refs(therapy) if therapy is not None else None
    want_cargo = mg.entity_node(cargo) if cargo is not None else None
    search = _Search(mg, max_steps)
    found: dict[tuple[EdgeKey, ...], list[set[str]]] = {}
    for m in mg.mechanisms():
        targets = sorted({therapy_node(e.therapy) for e in m.therapies if refs is None or e.therapy in refs})
        for target in targets:
            segs = search.segments(m, target)
            if not segs:
                continue
            for prefix, anchors in search.prefixes(m, max_cells - 1):
                first_cargo = prefix[0][1] if prefix else search.cargo_node(m)
                if want_cargo is not None and first_cargo != want_cargo:
                    continue
                for seg in segs:
                    chain = [*anchors, {m.id}]
                    entry = found.setdefault(tuple(prefix + seg), [set() for _ in chain])
                    for have, add in zip(entry, chain, strict=True):
                        have.update(add)
    context = {m.id for m in mg.mechanisms() if not m.exosomal}
    routes = [_make_route(mg, list(edges), segments, context) for edges, segments in found.items()]
    routes.sort(key=lambda r: (r.grade, -r.sign, r.cargo, -len(r.segments), len(r.steps), r.nodes))
    return routes


def _anchored(mg: MechanismGraph, path: list[EdgeKey], record: str) -> bool:
    """The record claims the segment: it asserts the first step out of the cargo and every
    leads_to and therapy step (whose signs are relative to that record's own axis). Only
    molecular axis steps, which hold whatever record states them, may come from other records."""
    edges = mg.graph.edges
    if record not in edges[path[0]]["records"]:
        return False
    return all(record in edges[e]["records"] for e in path if edges[e]["relation"] not in AXIS_RELATIONS)


def _paths(rg: Any, source: str, target: str, max_steps: int) -> list[list[EdgeKey]]:
    if source not in rg or target not in rg:
        return []
    keep = (nx.ancestors(rg, target) | {target}) & (nx.descendants(rg, source) | {source})
    sub = rg.subgraph(keep)
    return [list(p) for p in nx.all_simple_edge_paths(sub, source, target, cutoff=max_steps)]


def _make_route(mg: MechanismGraph, edges: list[EdgeKey], segments: list[set[str]], context: set[str]) -> Route:
    steps = tuple(_step(mg, *e) for e in edges)
    anchors = set().union(*segments)
    records = sorted({r for s in steps for r in s.records})
    grades = [s.grade for s in steps if s.grade is not None]
    composed = any(not anchors & set(s.records) for s in steps)
    first = steps[0]
    donor = first.source if first.relation == "secretes" else None
    cargo = first.target if donor else first.source
    return Route(
        steps=steps,
        anchors=tuple(sorted(anchors)),
        sign=path_sign(s.sign for s in steps),
        grade=weakest_grade(grades),
        records=tuple(records),
        composed=composed,
        cargo=cargo,
        donor=donor,
        phenotype=steps[-1].source,
        therapy=steps[-1].target,
        segments=tuple(tuple(sorted(a)) for a in segments),
        context_records=tuple(sorted(anchors & context)),
    )


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
            others = [x for x in r.records if x not in r.anchors]
            claimed = " then ".join(", ".join(seg) for seg in r.segments) if r.is_chain else ", ".join(r.anchors)
            lines.append(
                f"{i}. {r.effect} (net sign {sign_word(r.sign)}), weakest evidence {r.grade}, "
                f"claimed by {claimed}{' [composed]' if r.composed else ''}"
                + (f" [chain across {len(r.segments)} cells]" if r.is_chain else "")
                + (f"; steps also supported by {', '.join(others)}" if others else "")
                + (f"; non-exosomal context: {', '.join(r.context_records)}" if r.context_records else "")
            )
            lines.append(f"   {r.text()}")
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
    labels = {n: mg.label(n) for r in found for n in r.nodes}
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
