"""Say when hypothesis records would answer a question that the evidence-backed graph cannot.

Every command leaves hypothesis records (grade D) out unless asked. When a graph query then finds
no route, :func:`answer` asks the same question of the graph with hypotheses, and if that one
answers, the error says so (and which hypothesis records carry the answer) instead of a bare
"no route".

>>> from exoresist.kb import load_kb
>>> from exoresist.graph import explain
>>> answer(load_kb(), False, lambda mg: explain(mg, cargo="PD-L1", therapy="anti-PD-1"))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
exoresist.graph.errors.NoRouteError: no route from PD-L1 to anti-PD-1 ...; --include-hypotheses finds 1 route(s), ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from exoresist.graph._build import MechanismGraph, build_graph
from exoresist.graph.errors import NoRouteError
from exoresist.kb import KnowledgeBase

T = TypeVar("T")


def answer(kb: KnowledgeBase, include_hypotheses: bool, question: Callable[[MechanismGraph], T]) -> T:
    """``question(graph of kb)``; a ``NoRouteError`` without hypotheses says whether they would answer."""
    mg = build_graph(kb, include_hypotheses=include_hypotheses)
    try:
        return question(mg)
    except NoRouteError as exc:
        if include_hypotheses or not any(m.kind == "hypothesis" for m in kb.mechanisms):
            raise
        try:
            found = question(build_graph(kb, include_hypotheses=True))
        except NoRouteError:
            raise exc from None
        routes = getattr(found, "routes", ())
        hyps = sorted({r for route in routes for r in getattr(route, "records", ()) if r.startswith("hyp:")})
        through = f", through {', '.join(hyps)}" if hyps else ""
        raise NoRouteError(f"{exc}; --include-hypotheses finds {len(routes)} route(s){through}") from None
