"""Stage 2: the typed, signed mechanism graph compiled from the knowledge base.

Public API::

    from exoresist.kb import load_kb
    from exoresist.graph import build_graph, explain, routes, targets, compare, export_graph, draw

    mg = build_graph(load_kb())                          # hypotheses excluded by default
    explain(mg, cargo="circCCAR1", therapy="anti-PD-1")  # every route, signed, with records
    routes(mg, therapy="sorafenib")                      # grouped by phenotype and donor cell
    targets(mg, therapy="sorafenib", top=10)             # what to block, min vertex cut
    compare(mg, therapies=["sorafenib", "lenvatinib"])
    export_graph(mg, "cx2", "graph.cx2")                 # graphml, cyjs, cx2, sbml-qual, dot
    save_figure(draw(mg, therapy="sorafenib"), "sorafenib.png")

See ``docs/graph.md`` for the node and edge model and the sign rules.
"""

from exoresist.graph._build import NODE_TYPES, MechanismGraph, build_graph
from exoresist.graph._queries import Comparison, Explanation, RouteSummary, compare, explain, routes
from exoresist.graph._routes import Route, Step, find_routes
from exoresist.graph._signs import best_grade, path_sign, relation_sign, weakest_grade
from exoresist.graph._targets import InterventionTarget, NodeTarget, TargetReport, targets
from exoresist.graph.errors import GraphError, NoRouteError, UnknownFormatError, UnsupportedFeatureError
from exoresist.graph.export import EXPORTERS, export_graph, render


def __getattr__(name: str) -> object:
    """``draw`` and ``save_figure`` load matplotlib: imported on first use, so that commands which
    draw nothing (``trial run``, ``kb query``) start without it."""
    if name in ("draw", "save_figure"):
        import importlib

        module = importlib.import_module("exoresist.graph.draw")
        # importing the submodule bound the package's ``draw`` to it: bind the functions instead
        globals().update(draw=module.draw, save_figure=module.save_figure)
        return globals()[name]
    raise AttributeError(f"module 'exoresist.graph' has no attribute {name!r}")


__all__ = [
    "EXPORTERS",
    "NODE_TYPES",
    "Comparison",
    "Explanation",
    "GraphError",
    "InterventionTarget",
    "MechanismGraph",
    "NoRouteError",
    "NodeTarget",
    "Route",
    "RouteSummary",
    "Step",
    "TargetReport",
    "UnknownFormatError",
    "UnsupportedFeatureError",
    "best_grade",
    "build_graph",
    "compare",
    "draw",
    "explain",
    "export_graph",
    "find_routes",
    "path_sign",
    "relation_sign",
    "render",
    "routes",
    "save_figure",
    "targets",
    "weakest_grade",
]
