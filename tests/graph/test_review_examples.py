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
    assert full.graph.has_edge("entity:" + full.kb.entity("miR-1247-3p").id, "cell:fibroblast", "taken_up_by+")
    # the full chain comes first: HCC cell -> miR-1247-3p -> (fibroblast) -> CAF -> IL-6/IL-8 -> stemness -> sorafenib
    chains = [r for r in e.routes if r.is_chain]
    assert chains and e.routes[0].is_chain
    assert all(
        r.segments == (("mech:mir1247-3p-caf-il6-il8-sorafenib",), ("mech:caf-il6-il8-stemness-sorafenib",)) for r in chains
    )
    stem = next(r for r in chains if full.label(r.phenotype) == "stemness")
    labels = _labels(full, stem.nodes)
    assert labels[:3] == ["hcc cell", "miR-1247-3p", "B4GALT3"]
    assert labels[-5:] == ["caf activation", "cancer associated fibroblast", "IL-6/IL-8 signalling", "stemness", "sorafenib"]
    becomes = next(s for s in stem.steps if s.relation == "becomes")
    assert becomes.precursors == ("fibroblast",) and "turns fibroblast into cancer associated fibroblast" in stem.text()
    assert stem.cells == ("cell:hcc_cell", "cell:cancer_associated_fibroblast") and stem.grade == "B"
    assert stem.context_records == ("mech:caf-il6-il8-stemness-sorafenib",)  # IL-6/IL-8 are secreted, not exosomal
    assert {full.label(r.phenotype) for r in chains} == {"stemness", "emt"}
    assert "[chain across 2 cells]" in e.text()


def test_m2_chains_follow_the_records(full: MechanismGraph) -> None:
    # miR-4669 polarises macrophages to M2, the donors of miR-27a-3p and miR-21-5p ...
    edge = full.graph.edges["phenotype:m2_polarisation", "cell:m2_macrophage", "becomes+"]
    assert edge["records"] == ("mech:mir4669-m2-sorafenib",) and edge["precursors"] == ("macrophage",)
    for cargo in ("miR-27a-3p", "miR-21-5p"):
        assert full.graph.has_edge("cell:m2_macrophage", full.entity_node(cargo), "secretes+")
    # ... but neither M2 record names a therapy, so no chain route ends at one: the sorafenib
    # route of miR-4669 stays the single-record route its record claims
    routes_4669 = explain(full, cargo="miR-4669", therapy="sorafenib").routes
    assert routes_4669 and not any(r.is_chain for r in routes_4669)


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
