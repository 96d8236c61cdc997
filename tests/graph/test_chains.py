"""Routes across cells: a phenotype turns its recipient into a new donor (``becomes`` edges)."""

from __future__ import annotations

from pathlib import Path

import pytest

from exoresist.graph import MechanismGraph, build_graph, explain, find_routes, targets
from exoresist.graph._layout import estimate_size, layout
from exoresist.kb import load_kb
from tests.graph.conftest import _EVIDENCE, ENTITIES, INTERVENTIONS, MECHANISMS, write_graph_kb

CAF_RECORD = (
    """\
- kind: mechanism
  id: mech:caf-cytokine
  title: CAFs secrete cytokine K that raises stemness
  review_sections: [stemness_emt]
  exosomal: false
  donor_cells: [cancer_associated_fibroblast]
  cargo: cytokine K
  recipient_cells: [hcc_cell]
  phenotypes: [stemness]
  therapies: [{therapy: ther:sorafenib, direction: promotes_resistance}]
  evidence_grade: B"""
    + _EVIDENCE
)
CAF_ENTITY = "- {kind: entity, id: ent:cytokine-k, name: cytokine K, entity_type: gene}\n"
IV_ON_CAF = """\
- kind: intervention
  id: int:caf-release
  name: exosome release inhibitor on CAFs
  intervention_kind: biogenesis_inhibitor
  target_donors: [cancer_associated_fibroblast]
  process: block_secretion
  review_sections: [interventions]
  evidence_grade: D
"""


@pytest.fixture
def chained(tmp_path: Path) -> MechanismGraph:
    folder = write_graph_kb(
        tmp_path, entities=ENTITIES + CAF_ENTITY, mechanisms=MECHANISMS + CAF_RECORD, interventions=INTERVENTIONS + IV_ON_CAF
    )
    return build_graph(load_kb([folder]))


def test_no_becomes_edge_without_a_donor_of_the_new_state(mini: MechanismGraph) -> None:
    assert not [e for e in mini.graph.edges(keys=True) if e[2] == "becomes+"]


def test_becomes_edge_comes_from_the_record_giving_the_phenotype(chained: MechanismGraph) -> None:
    d = chained.graph.edges["phenotype:caf_activation@fibroblast", "cell:cancer_associated_fibroblast", "becomes+"]
    assert d["records"] == ("mech:mir2-caf",) and d["grade"] == "C" and d["precursors"] == ("fibroblast",)


def test_chain_route_is_anchored_segment_by_segment(chained: MechanismGraph) -> None:
    e = explain(chained, cargo="miR-2", therapy="sorafenib")
    chain = [r for r in e.routes if r.is_chain]
    assert len(chain) == 1
    r = chain[0]
    assert [s.relation for s in r.steps] == [
        "secretes",
        "taken_up_by",
        "downregulates",
        "leads_to",
        "becomes",
        "secretes",
        "acts_on",
        "leads_to",
        "promotes_resistance_to",
    ]
    assert [s.cell for s in r.steps] == [
        "hcc_cell",
        "fibroblast",
        "fibroblast",
        "fibroblast",
        "fibroblast",
        "cancer_associated_fibroblast",
        "hcc_cell",
        "hcc_cell",
        "hcc_cell",
    ]
    assert r.segments == (("mech:mir2-caf",), ("mech:caf-cytokine",))
    assert r.anchors == ("mech:caf-cytokine", "mech:mir2-caf") and set(r.anchors) <= set(r.records)
    assert r.cargo == "entity:ent:mir-2" and r.donor == "cell:hcc_cell" and r.phenotype == "phenotype:stemness@hcc_cell"
    assert r.grade == "C" and r.sign == 1  # weakest edge: the miR-2 record's grade C
    assert r.context_records == ("mech:caf-cytokine",)
    d = r.to_dict()
    assert d["segments"] == [["mech:mir2-caf"], ["mech:caf-cytokine"]]
    assert d["cells"] == ["cell:hcc_cell", "cell:cancer_associated_fibroblast"]
    assert d["in_cells"] == ["cell:hcc_cell", "cell:fibroblast", "cell:cancer_associated_fibroblast"]
    assert d["pathways"] == ["IL-6 signalling"]  # miR-2's annotation, not a step
    # the CAF record on its own still answers from its own donor
    own = explain(chained, cargo="cytokine K", therapy="sorafenib").routes
    assert [x.segments for x in own] == [(("mech:caf-cytokine",),)]


def test_chain_needs_the_last_record_to_name_the_therapy(chained: MechanismGraph) -> None:
    # mech:caf-cytokine names only sorafenib: no anti-PD-1 chain, though miR-2 names anti-PD-1
    assert not [r for r in find_routes(chained, "anti-PD-1", cargo="miR-2") if r.is_chain]
    assert not [r for r in find_routes(chained, "sorafenib", max_cells=1) if r.is_chain]


def test_exosome_release_blockade_does_not_cut_secreted_cytokines(chained: MechanismGraph) -> None:
    t = targets(chained, therapy="sorafenib")
    # the only route through the CAF is the non-exosomal cytokine: blocking CAF exosome release cuts nothing
    assert "intervention:int:caf-release" not in {i.intervention for i in t.interventions}
    # the molecular cut still passes through every route, chains included
    for r in find_routes(chained, "sorafenib"):
        if r.sign > 0:
            assert set(r.nodes) & set(t.min_cut)


def test_layout_puts_the_new_state_right_of_the_phenotype_that_makes_it(chained: MechanismGraph) -> None:
    g = chained.graph
    lay = layout(g, {n: estimate_size(str(d["label"])) for n, d in g.nodes(data=True)})
    col = lay.column
    assert col["cell:hcc_cell"] < col["phenotype:caf_activation@fibroblast"] < col["cell:cancer_associated_fibroblast"]
    assert col["cell:cancer_associated_fibroblast"] < col["entity:ent:cytokine-k@hcc_cell"] < col["phenotype:stemness@hcc_cell"]
    assert col["phenotype:stemness@hcc_cell"] < col["therapy:ther:sorafenib"]
    assert lay.lane["phenotype:caf_activation@fibroblast"] == "fibroblast"
    assert lay.lane["cell:cancer_associated_fibroblast"] == "cancer_associated_fibroblast"
    assert lay.lane["entity:ent:mir-2"] == "hcc_cell"  # the cargo between cells, in its donor's lane
