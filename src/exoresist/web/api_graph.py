"""``/api/v1/graph``: explain, routes, targets and compare (the JSON of the CLI's ``--format json``),
focused views for the browser, and whole-graph exports."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from exoresist.graph import EXPORTERS
from exoresist.graph.elements import NEIGHBOURS_PER_NODE
from exoresist.web.common import (
    TABLE_MEDIA,
    Hypotheses,
    Name,
    OptName,
    TableFormat,
    json_answer,
    list_table,
    media,
    state,
    table_answer,
    text_answer,
)
from exoresist.web.errors import fields

router = APIRouter(prefix="/api/v1/graph", tags=["mechanism graph"])

GraphExport = StrEnum("GraphExport", {name.replace("-", "_"): name for name in EXPORTERS})  # type: ignore[misc]
TableName = Annotated[str | None, Query(max_length=40, description="For csv/tsv: which list of the answer (default the first).")]

_MEDIA = {
    "graphml": "application/graphml+xml",
    "cyjs": "application/json",
    "cx2": "application/json",
    "sbml-qual": "application/sbml+xml",
    "dot": "text/vnd.graphviz",
}


def _answer(request: Request, result: dict[str, Any], fmt: TableFormat, table: str | None, stem: str) -> Response:
    if fmt is TableFormat.json:
        return json_answer(result, state(request))
    name, rows = list_table(result, table)
    return table_answer(rows, fmt, f"{stem}-{name}")


@router.get(
    "/explain",
    summary="Every route from a cargo (or its donor cell) to a therapy (`graph explain --format json`)",
    responses=media(*TABLE_MEDIA),
)
async def explain(
    request: Request,
    cargo: Name,
    therapy: Name,
    include_hypotheses: Hypotheses = False,
    format: TableFormat = TableFormat.json,
    table: TableName = None,
) -> Response:
    with fields("query", {"cargo": cargo, "therapy": therapy}):
        result = state(request).explain(cargo, therapy, include_hypotheses)
    return _answer(request, result, format, table, "explain")


@router.get(
    "/routes",
    summary="Cargos and mechanisms conferring resistance to a therapy (`graph routes --format json`)",
    responses=media(*TABLE_MEDIA),
)
async def routes(
    request: Request,
    therapy: Name,
    include_hypotheses: Hypotheses = False,
    format: TableFormat = TableFormat.json,
    table: TableName = None,
) -> Response:
    with fields("query", {"therapy": therapy}):
        result = state(request).routes(therapy, include_hypotheses)
    return _answer(request, result, format, table, "routes")


@router.get(
    "/targets",
    summary="Nodes and interventions ranked by resistance routes cut (`graph targets --format json`)",
    responses=media(*TABLE_MEDIA),
)
async def targets(
    request: Request,
    therapy: Name,
    top: Annotated[int | None, Query(ge=1, le=1000)] = None,
    include_hypotheses: Hypotheses = False,
    format: TableFormat = TableFormat.json,
    table: TableName = None,
) -> Response:
    with fields("query", {"therapy": therapy}):
        result = state(request).targets(therapy, top, include_hypotheses)
    return _answer(request, result, format, table, "targets")


@router.get("/compare", summary="Mechanisms shared by therapies and specific to each (`graph compare --format json`)")
async def compare(
    request: Request,
    therapy: Annotated[list[Annotated[str, Query(min_length=1, max_length=120)]], Query(min_length=2, max_length=6)],
    include_hypotheses: Hypotheses = False,
) -> Response:
    with fields("query", {"therapy": therapy}):
        result = state(request).compare(tuple(therapy), include_hypotheses)
    return json_answer(result, state(request))


@router.get("/view", summary="A focused view as Cytoscape.js elements: a query's routes plus expanded nodes")
async def view(
    request: Request,
    view: Literal["explain", "routes", "targets", "cargo", "node"] = "node",
    cargo: OptName = None,
    therapy: OptName = None,
    expand: Annotated[
        list[Annotated[str, Query(min_length=1, max_length=200)]] | None,
        Query(max_length=100, description="Node ids to show the neighbours of; give one twice for more."),
    ] = None,
    per_node: Annotated[int, Query(ge=1, le=200)] = NEIGHBOURS_PER_NODE,
    include_hypotheses: Hypotheses = False,
) -> Response:
    given = {"cargo": cargo, "therapy": therapy, "expand": expand}
    with fields("query", given):
        result = state(request).view(view, cargo, therapy, tuple(expand or ()), per_node, include_hypotheses)
    return json_answer(result, state(request))


@router.get(
    "/export",
    summary="The whole graph as GraphML, CX2, Cytoscape JSON, SBML-qual or DOT (`graph export`)",
    responses=media(*sorted(set(_MEDIA.values()))),
)
def export(request: Request, format: GraphExport, include_hypotheses: Hypotheses = False) -> Response:
    fmt = str(format.value)
    text = state(request).export(fmt, include_hypotheses)
    return text_answer(text, _MEDIA[fmt], f"exoresist-graph{EXPORTERS[fmt].suffix}")
