"""explain, routes, targets and compare on the hand-made KB."""

from __future__ import annotations

import pytest

from exoresist.graph import MechanismGraph, NoRouteError, build_graph, compare, explain, routes, targets
from exoresist.kb import UnknownNameError


def test_explain_resolves_aliases(mini: MechanismGraph) -> None:
    e = explain(mini, cargo="circRNA-X", therapy="Nexavar")
    assert e.cargo == "circX" and len(e.routes) == 1
    d = e.to_dict()
    assert d["routes"][0]["weakest_evidence"] == "B" and d["routes"][0]["net_sign"] == 1
    assert "circX sponges miR-1-3p" in e.text()


def test_class_queries_reach_member_drugs_and_back(mini: MechanismGraph) -> None:
    by_class = explain(mini, cargo="miR-2", therapy="anti-PD-1")
    by_drug = explain(mini, cargo="miR-2", therapy="nivolumab")
    assert {r.therapy for r in by_class.routes} == {r.therapy for r in by_drug.routes} == {"class:anti_pd1"}
    assert "ther:pembrolizumab" in by_class.therapy_refs


def test_unknown_names_are_errors_with_suggestions(mini: MechanismGraph) -> None:
    with pytest.raises(UnknownNameError, match="circX"):
        explain(mini, cargo="circY", therapy="sorafenib")
    with pytest.raises(UnknownNameError, match="sorafenib"):
        routes(mini, therapy="sorafenbi")


def test_known_but_unlinked_names_are_errors(mini: MechanismGraph) -> None:
    with pytest.raises(NoRouteError, match="its records name: ther:sorafenib"):
        explain(mini, cargo="circX", therapy="anti-PD-1")
    with pytest.raises(NoRouteError):
        explain(mini, cargo="PTEN", therapy="sorafenib")


def test_hypotheses_add_routes_when_included(mini: MechanismGraph) -> None:
    with_hyp = build_graph(mini.kb, include_hypotheses=True)
    e = explain(with_hyp, cargo="circX", therapy="anti-PD-1")
    assert e.routes[0].anchors == ("hyp:circx-pd1",) and e.routes[0].grade == "D"


def test_routes_group_by_phenotype_and_donor(mini: MechanismGraph) -> None:
    d = routes(mini, therapy="sorafenib").to_dict()
    assert d["n_routes"] == 3  # the sensitising miR-S route is not a resistance route
    assert set(d["by_phenotype"]) == {"apoptosis evasion", "CAF activation", "stemness"}
    assert d["by_phenotype"]["stemness"]["cargos"] == ["miR-2"]
    assert d["by_donor"]["HCC cell"]["mechanisms"] == ["mech:circx-pten", "mech:mir2-caf"]


def test_targets_rank_cuts_and_interventions(mini: MechanismGraph) -> None:
    t = targets(mini, therapy="sorafenib")
    assert t.n_routes == 3
    assert len(t.min_cut) == 2  # one node on the circX branch and one on the miR-2 branch
    assert t.min_cut_with_cells == ("cell:hcc_cell",)
    top = t.nodes[0]
    assert top.node == "cell:hcc_cell" and top.share == 1.0
    share = {n.node: n.share for n in t.nodes}
    assert share["entity:ent:mir-2"] == pytest.approx(2 / 3)
    ivs = {i.intervention: i for i in t.interventions}
    assert ivs["intervention:int:rab27a-kd"].routes_cut == 3
    assert ivs["intervention:int:anti-mir2"].routes_cut == 2
    assert "mech:mir2-caf" in ivs["intervention:int:anti-mir2"].records
    assert len(targets(mini, therapy="sorafenib", top=1).nodes) == 1


def test_compare_splits_shared_and_specific(mini: MechanismGraph) -> None:
    c = compare(mini, therapies=["sorafenib", "anti-PD-1"]).to_dict()
    assert c["mechanisms"]["shared"] == ["mech:mir2-caf"]
    assert c["mechanisms"]["only"] == {"sorafenib": ["mech:circx-pten"], "anti-PD-1": []}
    with pytest.raises(ValueError):
        compare(mini, therapies=["sorafenib"])
