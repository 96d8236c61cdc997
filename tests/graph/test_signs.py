"""Sign and evidence rules, on their own and on small hand-made graphs."""

from __future__ import annotations

import pytest

from exoresist.graph import MechanismGraph, best_grade, find_routes, path_sign, relation_sign, weakest_grade
from exoresist.kb.vocab import RELATION_SIGN, Relation


def test_relation_signs_follow_the_vocabulary() -> None:
    for rel, sign in RELATION_SIGN.items():
        assert relation_sign(rel) == sign == relation_sign(rel.value)
    assert relation_sign("sponges") == -1 and relation_sign("stabilises") == 1


def test_sponge_of_an_inhibitor_is_a_net_activation() -> None:
    assert path_sign([relation_sign(Relation.SPONGES), relation_sign(Relation.INHIBITS)]) == 1
    assert path_sign([relation_sign("sponges"), relation_sign("downregulates"), relation_sign("induces")]) == 1
    assert path_sign([relation_sign("activates"), relation_sign("inhibits")]) == -1
    assert path_sign([]) == 1


def test_path_sign_rejects_non_unit_steps() -> None:
    with pytest.raises(ValueError):
        path_sign([1, 2])


def test_grades_weakest_and_best() -> None:
    assert weakest_grade(["A", "C", "B"]) == "C"
    assert weakest_grade(["A"]) == "A"
    assert best_grade(["D", "B", "C"]) == "B"


def test_circx_route_is_sponge_then_inhibit_then_resistance(mini: MechanismGraph) -> None:
    (route,) = find_routes(mini, "sorafenib", cargo="circX")
    assert [s.relation for s in route.steps] == [
        "secretes",
        "taken_up_by",
        "sponges",
        "inhibits",
        "leads_to",
        "promotes_resistance_to",
    ]
    assert [s.sign for s in route.steps] == [1, 1, -1, -1, 1, 1]
    assert {s.cell for s in route.steps} == {"hcc_cell"}
    assert route.sign == 1 and route.effect == "resistance"
    assert route.donor == "cell:hcc_cell" and route.cargo == "entity:ent:circx"
    assert route.grade == "B" and route.anchors == ("mech:circx-pten",)


def test_loss_of_an_axis_node_leads_to_the_phenotype_with_a_negative_step(mini: MechanismGraph) -> None:
    routes = find_routes(mini, "sorafenib", cargo="miR-2")
    assert {mini.place_label(r.phenotype) for r in routes} == {"CAF activation (fibroblast)", "stemness (HCC cell)"}
    for r in routes:
        # miR-2 -| GENEB, and GENEB's *loss* leads on: that leads_to step is negative, the route positive
        assert [s.sign for s in r.steps] == [1, 1, -1, -1, 1]
        assert r.sign == 1 and r.grade == "C"
        assert "GENEB opposes (its loss leads to)" in r.text()


def test_sensitising_route_has_a_negative_net_sign(mini: MechanismGraph) -> None:
    (route,) = find_routes(mini, "sorafenib", cargo="miR-S")
    assert route.sign == -1 and route.effect == "sensitisation"
    assert route.steps[-1].relation == "sensitises_to"


def test_routes_use_only_their_anchors_steps(mini: MechanismGraph) -> None:
    # miR-S and miR-2 both act on GENEB, but in different cells and with different claims: miR-S
    # gets no route through miR-2's phenotypes, and miR-2 none through miR-S's
    for r in find_routes(mini, "sorafenib", cargo="miR-S"):
        assert {mini.label(r.phenotype)} == {"drug sensitisation"}
        assert all(s.records == ("mech:mirs-sensitises",) for s in r.steps)
    for r in find_routes(mini, None):
        assert all(set(s.records) & set(r.anchors) for s in r.steps)


def test_route_grade_is_its_weakest_edge(full: MechanismGraph) -> None:
    for r in find_routes(full, "sorafenib") + find_routes(full, "anti-PD-1"):
        assert r.grade == weakest_grade(s.grade for s in r.steps if s.grade)
        assert r.sign == path_sign(s.sign for s in r.steps)
