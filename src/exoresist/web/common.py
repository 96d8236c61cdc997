"""What the API routes share: the app state, paging, JSON and table answers, query parameter types."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response

from exoresist.tabular import delimited
from exoresist.web.errors import ApiError, problem
from exoresist.web.state import AppState

MAX_LIMIT = 500
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")]
Name = Annotated[str, Query(min_length=1, max_length=120)]
OptName = Annotated[str | None, Query(min_length=1, max_length=120)]
Hypotheses = Annotated[bool, Query(description="Also use hypothesis records (claims without direct evidence in HCC).")]


class TableFormat(StrEnum):
    json = "json"
    csv = "csv"
    tsv = "tsv"


class ExportFormat(StrEnum):
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    tsv = "tsv"


TABLE_MEDIA = ("application/json", "text/csv", "text/tab-separated-values")


def media(*types: str) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of an operation whose 200 answer is one of these media types."""
    return {200: {"content": {t: {} for t in types}, "description": "The answer in the requested format."}}


def state(request: Request) -> AppState:
    st: AppState = request.app.state.exoresist
    return st


def page(items: Sequence[Any], limit: int, offset: int) -> dict[str, Any]:
    """One page of ``items``: ``{"items", "total", "limit", "offset"}`` (no cap beyond paging)."""
    return {"items": list(items[offset : offset + limit]), "total": len(items), "limit": limit, "offset": offset}


def json_answer(data: Mapping[str, Any], st: AppState, *, spec_hash: str | None = None, status: int = 200) -> JSONResponse:
    """``data`` with the provenance of the answer added (``provenance`` key; headers too)."""
    prov = st.provenance(spec_hash)
    body = {**data, "provenance": prov}
    headers = {"X-Spec-Hash": spec_hash} if spec_hash else {}
    return JSONResponse(body, status_code=status, headers=headers)


def text_answer(text: str, media_type: str, filename: str | None = None, headers: Mapping[str, str] | None = None) -> Response:
    h = dict(headers or {})
    if filename:
        h["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(text, media_type=media_type, headers=h)


def table_answer(
    rows: Sequence[Mapping[str, Any]], fmt: TableFormat | ExportFormat, stem: str, columns: Sequence[str] | None = None
) -> Response:
    """Rows as a CSV/TSV/JSON/JSONL download."""
    if fmt.value == "csv":
        return text_answer(delimited(rows, ",", columns), "text/csv; charset=utf-8", f"{stem}.csv")
    if fmt.value == "tsv":
        return text_answer(delimited(rows, "\t", columns), "text/tab-separated-values; charset=utf-8", f"{stem}.tsv")
    if fmt.value == "jsonl":
        body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        return text_answer(body, "application/x-ndjson", f"{stem}.jsonl")
    return text_answer(json.dumps(list(rows), indent=1, ensure_ascii=False), "application/json", f"{stem}.json")


def list_table(result: Mapping[str, Any], table: str | None) -> tuple[str, list[dict[str, Any]]]:
    """The table ``table`` of a library result: a key whose value is a list of objects (default:
    the first such key). A 422 names the tables there are when ``table`` is not one."""
    names = [k for k, v in result.items() if isinstance(v, list) and all(isinstance(x, dict) for x in v)]
    if table is None and names:
        table = names[0]
    if table not in names:
        raise ApiError(422, [problem(("query", "table"), f"no table '{table}' here; choose one of: {', '.join(names)}", "enum")])
    return table, list(result[table])
