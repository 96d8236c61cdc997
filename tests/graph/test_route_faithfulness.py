"""Every step of every route is a relation one of the records it cites states, in that cell.

The claims of a record are derived here from its fields directly (donors, recipients, the axis
with the cells ``Mechanism.step_cells`` places it in, the outcomes, the therapy effects), not from
the graph, and each step of each route of every cargo x therapy pair is looked up among the claims
of every record the step cites.
"""

from __future__ import annotations

from math import prod
from typing import Any

import pytest

from exoresist.graph import MechanismGraph, build_graph, find_routes
from exoresist.graph._routes import Route, Step, all_routes
from exoresist.kb import KnowledgeBase, Mechanism
from exoresist.kb.vocab import RELATION_SIGN, Direction, TherapyClass

Key = tuple[Any, ...]
Claim = tuple[str, Key, Key, int, str | None]


def _claims(kb: KnowledgeBase, m: Mechanism) -> set[Claim]:
    """What the record states, as (relation, source, target, sign, cell)."""
    cargo = kb.entity(m.cargo).id
    out: set[Claim] = set()
    hosts = {c for step, cells in zip(m.axis, m.step_cells(), strict=True) if step.source == m.cargo for c in cells}
    hosts |= {c for node, c, _, _ in m.placed_outcomes() if node == m.cargo and c is not None}
    for host in hosts:
        inside = ("in", cargo, host.value)
        if host in m.recipient_cells and m.donor_cells:
            transfer = "taken_up_by" if m.exosomal else "acts_on"
            out.add((transfer, ("cargo", cargo), inside, 1, host.value))
            out |= {("secretes", ("cell", d.value), ("cargo", cargo), 1, d.value) for d in m.donor_cells}
        elif host not in m.recipient_cells and host in m.donor_cells:
            out.add(("expresses", ("cell", host.value), inside, 1, host.value))
    sign_at = {m.cargo: 1}
    for step, cells in zip(m.axis, m.step_cells(), strict=True):
        s = RELATION_SIGN[step.relation]
        sign_at.setdefault(step.target, sign_at[step.source] * s)
        src, tgt = kb.entity(step.source).id, kb.entity(step.target).id
        out |= {(step.relation.value, ("in", src, c.value), ("in", tgt, c.value), s, c.value) for c in cells}
    for node, node_cell, ph_cell, ph in m.placed_outcomes():
        assert node_cell is not None and ph_cell is not None, f"{m.id}: a phenotype in no cell"
        phen = ("ph", ph.value, ph_cell.value)
        out.add(("leads_to", ("in", kb.entity(node).id, node_cell.value), phen, sign_at[node], ph_cell.value))
        for eff in m.therapies:
            if eff.direction is Direction.PROMOTES_RESISTANCE:
                out.add(("promotes_resistance_to", phen, ("ther", eff.therapy), 1, ph_cell.value))
            else:
                out.add(("sensitises_to", phen, ("ther", eff.therapy), -1, ph_cell.value))
        out.add(("gives", phen, (), 1, ph_cell.value))  # what a becomes step needs of its record
    return out


def _key(mg: MechanismGraph, node: str) -> Key:
    d = mg.graph.nodes[node]
    kind = d["node_type"]
    if kind == "cell":
        return ("cell", d["cell"])
    if kind == "cargo":
        return ("cargo", d["record"])
    if kind in {"entity", "pathway"}:
        return ("in", d["record"], d["cell"])
    if kind == "phenotype":
        return ("ph", d["phenotype"], d["cell"])
    if kind == "therapy_class":
        assert TherapyClass(node.removeprefix("class:"))
        return ("ther", node)
    return ("ther", d["record"])


def _step_claim(mg: MechanismGraph, s: Step) -> Claim:
    if s.relation == "becomes":  # the record gives the phenotype in the cell it turns
        return ("gives", _key(mg, s.source), (), 1, s.cell)
    return (s.relation, _key(mg, s.source), _key(mg, s.target), s.sign, s.cell)


def _check_route(mg: MechanismGraph, r: Route, claims: dict[str, set[Claim]]) -> None:
    # a path in the graph ...
    assert all(a.target == b.source for a, b in zip(r.steps, r.steps[1:], strict=False)), r.text()
    assert r.sign == prod(s.sign for s in r.steps)
    segment = 0
    for s in r.steps:
        # ... every step placed in a cell and cited by a record of its own segment ...
        assert s.cell is not None and s.to_dict()["cell"] == f"cell:{s.cell}", (r.text(), s)
        assert set(s.records) & set(r.segments[segment]), (r.text(), s, r.segments)
        # ... and stated, with its sign and cell, by every record it cites
        claim = _step_claim(mg, s)
        for rec in s.records:
            assert claim in claims[rec], f"{rec} does not state {claim} (route: {r.text()})"
        if s.relation == "becomes":
            segment += 1
    assert segment == len(r.segments) - 1
    assert r.steps[-1].relation in {"promotes_resistance_to", "sensitises_to"}


@pytest.mark.parametrize("include_hypotheses", [False, True])
def test_every_step_of_every_route_is_stated_by_its_records(kb: KnowledgeBase, include_hypotheses: bool) -> None:
    mg = build_graph(kb, include_hypotheses=include_hypotheses)
    claims = {m.id: _claims(kb, m) for m in mg.mechanisms()}
    cargos = sorted({kb.entity(m.cargo).name for m in mg.mechanisms()})
    therapies = sorted({t.name for t in kb.therapies} | {c.value for c in TherapyClass})
    seen: set[tuple[str, ...]] = set()
    pairs = 0
    for cargo in cargos:
        for therapy in therapies:
            found = find_routes(mg, therapy, cargo=cargo)
            pairs += bool(found)
            for r in found:
                _check_route(mg, r, claims)
                assert r.cargo == mg.entity_node(cargo)
                seen.add(r.edges)  # type: ignore[arg-type]
    # the walk covered every route of the graph, and there are many
    assert {r.edges for r in all_routes(mg)} == seen
    assert len(seen) > 60 and pairs > 40
    if include_hypotheses:
        assert any(a.startswith("hyp:") for r in all_routes(mg) for a in r.anchors)


def test_the_checker_catches_an_invented_step(kb: KnowledgeBase, full: MechanismGraph) -> None:
    """The defect of issue 12: PD-1 'leads to' Wnt/beta-catenin is not a claim of the circCCAR1 record."""
    claims = _claims(kb, next(m for m in full.mechanisms() if m.id == "mech:circccar1-pdl1-pd1-cd8"))
    (r,) = [r for r in find_routes(full, "anti-PD-1", cargo="circCCAR1") if r.steps[-1].cell == "cd8_t_cell"]
    pd1 = r.steps[2]
    assert pd1.relation == "stabilises" and pd1.target_label == "PD-1"
    assert _step_claim(full, pd1) in claims
    wnt = ("in", kb.entity("Wnt/β-catenin").id, "cd8_t_cell")
    assert ("leads_to", _key(full, pd1.target), wnt, 1, "cd8_t_cell") not in claims
    # a step moved to another cell, or with the other sign, is not a claim either
    moved = Step(pd1.source, pd1.target, pd1.relation, pd1.sign, pd1.records, "A", "", "", cell="hcc_cell")
    flipped = Step(pd1.source, pd1.target, pd1.relation, -1, pd1.records, "A", "", "", cell="cd8_t_cell")
    assert _step_claim(full, moved) not in claims and _step_claim(full, flipped) not in claims
