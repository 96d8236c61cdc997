"""Focused graph views (Cytoscape.js elements): routes of a query, neighbourhoods, fetch more."""

from __future__ import annotations

import pytest

from exoresist.graph import build_graph, explain
from exoresist.graph.elements import UnknownNodeError, focused_view, incident_edges
from exoresist.kb import KnowledgeBase


def test_route_view_holds_exactly_the_route_edges(kb: KnowledgeBase) -> None:
    mg = build_graph(kb)
    found = explain(mg, cargo="circUHRF1", therapy="anti-PD-1").routes
    view = focused_view(mg, found)
    edge_ids = {e["data"]["id"] for e in view["elements"]["edges"]}
    want = {f"{u}|{k}|{v}" for r in found for u, v, k in r.edges}
    assert edge_ids == want
    assert view["n_edges"] == len(want)
    for e in view["elements"]["edges"]:
        assert e["data"]["sign"] in (1, -1) and e["data"]["records"]
    assert all("position" in n for n in view["elements"]["nodes"])


def test_expand_pages_through_a_nodes_neighbours(kb: KnowledgeBase) -> None:
    mg = build_graph(kb)
    node = "therapy:ther:sorafenib"
    total = len(incident_edges(mg, node))
    assert total > 6
    one = focused_view(mg, expand=[node], per_node=3)
    assert one["n_edges"] == 3
    assert one["hidden"][node] == mg.graph.degree(node) - 3
    two = focused_view(mg, expand=[node, node], per_node=3)
    assert two["n_edges"] == 6
    everything = focused_view(mg, expand=[node] * 100, per_node=3)
    assert everything["n_edges"] == total and node not in everything["hidden"]


def test_unknown_node_is_an_error(kb: KnowledgeBase) -> None:
    with pytest.raises(UnknownNodeError, match="no node"):
        focused_view(build_graph(kb), expand=["entity:ent:nope"])
