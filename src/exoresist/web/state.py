"""What the server holds in memory: the KB it opened, its graphs, and caches of library results.

Everything here is a library call; results are cached because the KB does not change while the
server runs (restart ``exoresist serve`` after ``exoresist kb build``).
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

import exoresist
from exoresist.graph import MechanismGraph, build_graph, compare, explain, find_routes, routes, targets
from exoresist.graph.elements import focused_view
from exoresist.graph.export import render
from exoresist.kb import KB_VERSION, KnowledgeBase
from exoresist.kb.base import record_row
from exoresist.kb.browse import SearchIndex, record_label
from exoresist.kb.store import StoredKB, open_kb
from exoresist.model.api import MODEL_VERSION, Scenario, build_model, describe
from exoresist.model.spec import ModelSpec
from exoresist.web.settings import Settings


class AppState:
    """The opened KB, its provenance and cached graph and model results (thread-safe)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.opened: StoredKB = open_kb(settings.db)
        self.kb: KnowledgeBase = self.opened.kb
        self._lock = threading.Lock()
        self._graphs: dict[bool, MechanismGraph] = {}
        self.index = SearchIndex(self.kb)
        self._rows: dict[str, dict[str, Any]] = {}
        self.labels: dict[str, str] = {r.id: record_label(r) for r in self.kb.records}

    def row(self, record_id: str) -> dict[str, Any]:
        """The export row of a record (``kb query --format json``), computed once per record."""
        row = self._rows.get(record_id)
        if row is None:
            row = self._rows[record_id] = record_row(self.kb, self.kb.get(record_id))
        return row

    # --- provenance ---------------------------------------------------------------------------
    def provenance(self, spec_hash: str | None = None) -> dict[str, Any]:
        """What every answer is computed from: KB version and content hash, where the KB was read
        from, model version, package version, and the model's spec hash where one was built."""
        meta = self.opened.meta
        out: dict[str, Any] = {
            "package_version": exoresist.__version__,
            "kb_version": meta.get("kb_version", KB_VERSION),
            "kb_content_hash": meta.get("content_hash", self.kb.content_hash),
            "kb_source": meta.get("source", "records"),
            "kb_backend": meta.get("backend", "yaml"),
            "model_version": MODEL_VERSION,
        }
        if meta.get("built_at"):
            out["kb_built_at"] = meta["built_at"]
        if spec_hash is not None:
            out["spec_hash"] = spec_hash
        return out

    # --- graph --------------------------------------------------------------------------------
    def graph(self, include_hypotheses: bool = False) -> MechanismGraph:
        with self._lock:
            if include_hypotheses not in self._graphs:
                self._graphs[include_hypotheses] = build_graph(self.kb, include_hypotheses=include_hypotheses)
            return self._graphs[include_hypotheses]

    @lru_cache(maxsize=512)  # noqa: B019 - one AppState per server; the cache lives as long as it
    def explain(self, cargo: str, therapy: str, include_hypotheses: bool) -> dict[str, Any]:
        return explain(self.graph(include_hypotheses), cargo=cargo, therapy=therapy).to_dict()

    @lru_cache(maxsize=256)  # noqa: B019
    def routes(self, therapy: str, include_hypotheses: bool) -> dict[str, Any]:
        return routes(self.graph(include_hypotheses), therapy=therapy).to_dict()

    @lru_cache(maxsize=256)  # noqa: B019
    def targets(self, therapy: str, top: int | None, include_hypotheses: bool) -> dict[str, Any]:
        return targets(self.graph(include_hypotheses), therapy=therapy, top=top).to_dict()

    @lru_cache(maxsize=256)  # noqa: B019
    def compare(self, therapies: tuple[str, ...], include_hypotheses: bool) -> dict[str, Any]:
        return compare(self.graph(include_hypotheses), therapies=list(therapies)).to_dict()

    @lru_cache(maxsize=16)  # noqa: B019
    def export(self, fmt: str, include_hypotheses: bool) -> str:
        return render(self.graph(include_hypotheses), fmt)

    @lru_cache(maxsize=256)  # noqa: B019
    def view(
        self,
        view: str,
        cargo: str | None,
        therapy: str | None,
        expand: tuple[str, ...],
        per_node: int,
        include_hypotheses: bool,
    ) -> dict[str, Any]:
        """A focused Cytoscape view: the routes of ``explain`` (cargo and therapy) or of the
        resistance routes to ``therapy`` (``routes`` and ``targets``), plus expanded nodes."""
        mg = self.graph(include_hypotheses)
        if view == "explain" and cargo and therapy:
            found = list(explain(mg, cargo=cargo, therapy=therapy).routes)
        elif view in ("routes", "targets") and therapy:
            found = list(routes(mg, therapy=therapy).routes)
        elif view == "cargo" and cargo:
            found = find_routes(mg, None, cargo=cargo)
        else:
            found = []
        return focused_view(mg, found, expand=expand, per_node=per_node)

    def therapy_labels(self) -> dict[str, str]:
        """Display names of therapy references: ``ther:...`` by drug name, ``class:...`` as the graph labels them."""
        with self._lock:
            cached: dict[str, str] | None = getattr(self, "_therapy_labels", None)
        if cached is None:
            nodes = self.graph(False).graph.nodes
            kinds = ("therapy", "therapy_class")
            cached = {str(d.get("record") or n): str(d["label"]) for n, d in nodes(data=True) if d["node_type"] in kinds}
            cached.update({t.id: t.name for t in self.kb.therapies})
            self._therapy_labels = cached
        return cached

    # --- model --------------------------------------------------------------------------------
    @lru_cache(maxsize=128)  # noqa: B019
    def model(self, scenario: Scenario) -> ModelSpec:
        """The assembled model of ``scenario`` (a spec is a pure function of the KB and the scenario)."""
        return build_model(self.kb, scenario)

    @lru_cache(maxsize=128)  # noqa: B019
    def describe(self, scenario: Scenario) -> dict[str, Any]:
        return describe(self.model(scenario))
