"""The review's own examples, on the shipped KB."""

from __future__ import annotations

from exoresist.graph import MechanismGraph, compare, explain, routes, targets


def _labels(mg: MechanismGraph, nodes: tuple[str, ...]) -> list[str]:
    return [mg.label(n) for n in nodes]


def test_circccar1_to_anti_pd1(full: MechanismGraph) -> None:
    e = explain(full, cargo="circCCAR1", therapy="anti-PD-1")
    res = [r for r in e.routes if r.sign > 0]
    assert res and all(r.anchors == ("mech:circccar1-pdl1-pd1-cd8",) for r in res)
    paths = [_labels(full, r.nodes) for r in res]
    assert any(p[:4] == ["hcc cell", "circCCAR1", "β-catenin", "PD-L1"] for p in paths)
    assert any(p[:3] == ["hcc cell", "circCCAR1", "PD-1"] for p in paths)
    assert {full.label(r.phenotype) for r in res} == {"cd8 t cell dysfunction", "immune checkpoint upregulation"}
    assert all(r.grade == "A" and r.therapy == "class:anti_pd1" for r in res)
    # nivolumab is an anti-PD-1 drug: the same routes
    assert {r.nodes for r in explain(full, cargo="circCCAR1", therapy="nivolumab").routes} == {r.nodes for r in e.routes}


def test_circtmem181_to_anti_pd1_via_adenosine(full: MechanismGraph) -> None:
    e = explain(full, cargo="circTMEM181", therapy="anti-PD-1")
    assert e.routes and all(r.sign > 0 for r in e.routes)
    for r in e.routes:
        labels = _labels(full, r.nodes)
        assert labels[:5] == ["hcc cell", "circTMEM181", "miR-488-3p", "CD39", "adenosine"]
        assert [s.relation for s in r.steps][1:4] == ["sponges", "downregulates", "induces"]
        assert full.label(r.phenotype) == "cd8 t cell dysfunction"


def test_linc_vldlr_abcg2_chemotherapy(full: MechanismGraph) -> None:
    e = explain(full, cargo="linc-VLDLR", therapy="chemotherapy")
    assert e.routes
    for r in e.routes:
        assert _labels(full, r.nodes)[:4] == ["hcc cell", "linc-VLDLR", "ABCG2", "drug efflux"] and r.sign > 0
    assert {full.label(r.therapy) for r in e.routes} == {"camptothecin", "doxorubicin"}


def test_mir1247_caf_stemness_sorafenib(full: MechanismGraph) -> None:
    e = explain(full, cargo="miR-1247-3p", therapy="sorafenib")
    assert e.routes and all(r.sign > 0 for r in e.routes)
    phenos = {full.label(r.phenotype) for r in e.routes}
    assert {"caf activation", "stemness"} <= phenos
    assert full.graph.has_edge("entity:" + full.kb.entity("miR-1247-3p").id, "cell:fibroblast", "taken_up_by+")
    first = e.routes[0]
    assert _labels(full, first.nodes)[1:3] == ["miR-1247-3p", "B4GALT3"]


def test_every_query_answers_for_the_main_therapies(full: MechanismGraph) -> None:
    for therapy in ("sorafenib", "anti-PD-1", "chemotherapy", "lenvatinib"):
        r = routes(full, therapy=therapy)
        assert r.routes and r.mechanisms
        t = targets(full, therapy=therapy, top=5)
        assert t.nodes and t.min_cut and t.min_cut_with_cells
        # every route passes through the molecular cut
        for route in r.routes:
            assert set(route.nodes) & set(t.min_cut)
    c = compare(full, therapies=["sorafenib", "anti-PD-1"]).to_dict()
    assert c["mechanisms"]["only"]["sorafenib"] and c["mechanisms"]["only"]["anti-PD-1"]
