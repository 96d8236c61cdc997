"""``/api/v1`` over the knowledge base: records, entities, therapies, interventions, biomarkers, names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from exoresist.kb import Mechanism, Record, UnknownNameError
from exoresist.kb.base import EXPORT_COLUMNS, flat_row
from exoresist.kb.browse import (
    EVIDENCE_KIND_MEANING,
    GRADE_MEANING,
    citation,
    entity_uses,
    facet_counts,
    record_detail,
    record_label,
    therapy_hierarchy,
)
from exoresist.kb.reports import stats
from exoresist.kb.vocab import EntityType, TherapyClass
from exoresist.web import names
from exoresist.web.common import (
    TABLE_MEDIA,
    ExportFormat,
    Limit,
    Offset,
    OptName,
    TableFormat,
    json_answer,
    media,
    page,
    state,
    table_answer,
)
from exoresist.web.errors import ApiError, field, fields, problem, unknown_name
from exoresist.web.state import AppState

router = APIRouter(prefix="/api/v1", tags=["knowledge base"])

RecordId = Annotated[str, Path(pattern=r"^[a-z]{2,5}:[a-z0-9][a-z0-9-]{0,150}$", description="e.g. mech:circuhrf1-nk-tim3")]
Text = Annotated[str | None, Query(max_length=200, description="Words to find in ids, names, aliases, axes and findings.")]


QUERY_FILTERS = ("cargo", "cargo_class", "therapy", "phenotype", "donor", "recipient", "evidence", "grade")
"""The filters of ``kb.query`` (and of ``exoresist kb query``)."""


def find_records(
    st: AppState,
    filters: Mapping[str, str | None],
    *,
    q: str | None = None,
    kind: str | None = None,
    include_hypotheses: bool = True,
) -> list[Mechanism]:
    """``kb.query`` with ``filters`` (a 422 names the filter of an unknown name), then ``search`` for ``q``."""
    given = {k: filters.get(k) for k in QUERY_FILTERS}
    with fields("query", given):
        found = st.kb.query(
            cargo=given["cargo"],
            cargo_class=given["cargo_class"],
            therapy=given["therapy"],
            phenotype=given["phenotype"],
            donor=given["donor"],
            recipient=given["recipient"],
            evidence=given["evidence"],
            grade=given["grade"],
            include_hypotheses=include_hypotheses,
        )
    if kind is not None:
        found = [m for m in found if m.kind == kind]
    if q:
        found = [r for r in st.index.search(q, found) if isinstance(r, Mechanism)]
    return found


def record_url(request: Request, st: AppState, record_id: str) -> str:
    base = st.settings.base_url or str(request.base_url).rstrip("/")
    return f"{base}/records/{record_id}"


def record_item(request: Request, st: AppState, record_id: str) -> dict[str, Any]:
    """``kb show`` of one record, with its citation and what its evidence grade means."""
    kb = st.kb
    try:
        rec = kb.get(record_id)
    except UnknownNameError as exc:
        raise ApiError(404, [unknown_name(("path", "record_id"), exc)]) from None
    detail = record_detail(kb, st.opened.xrefs, st.opened.unresolved, record_id)
    prov = st.provenance()
    detail["url"] = record_url(request, st, record_id)
    detail["citation"] = citation(rec, kb_version=prov["kb_version"], content_hash=prov["kb_content_hash"], url=detail["url"])
    grade = getattr(rec, "evidence_grade", None)
    detail["evidence_grade_meaning"] = GRADE_MEANING[grade.value] if grade is not None else None
    return detail


def _rows(st: AppState, records: list[Any]) -> list[dict[str, Any]]:
    return [st.row(r.id) for r in records]


@dataclass(frozen=True)
class RecordQuery:
    """The record filters shared by ``/records`` and ``/records/export`` (the filters of ``kb query``,
    the text search and the record kind), declared once as query parameters."""

    filters: dict[str, str | None]
    q: str | None
    kind: str | None
    include_hypotheses: bool

    def find(self, st: AppState) -> list[Mechanism]:
        return find_records(st, self.filters, q=self.q, kind=self.kind, include_hypotheses=self.include_hypotheses)


def record_query(
    cargo: OptName = None,
    cargo_class: OptName = None,
    therapy: OptName = None,
    phenotype: OptName = None,
    donor: OptName = None,
    recipient: OptName = None,
    evidence: OptName = None,
    grade: OptName = None,
    q: Text = None,
    kind: Literal["mechanism", "hypothesis"] | None = None,
    include_hypotheses: bool = True,
) -> RecordQuery:
    filters = {
        "cargo": cargo,
        "cargo_class": cargo_class,
        "therapy": therapy,
        "phenotype": phenotype,
        "donor": donor,
        "recipient": recipient,
        "evidence": evidence,
        "grade": grade,
    }
    return RecordQuery(filters, q, kind, include_hypotheses)


Records = Annotated[RecordQuery, Depends(record_query)]


@router.get("/records", summary="Mechanism and hypothesis records matching every filter (the filters of `kb query`)")
async def list_records(
    request: Request,
    query: Records,
    facets: Annotated[bool, Query(description="Also count each facet's values over all matches.")] = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> JSONResponse:
    st = state(request)
    found = query.find(st)
    body = page(_rows(st, found[offset : offset + limit]), limit, 0)
    body.update(total=len(found), offset=offset)
    if facets:
        body["facets"] = facet_counts(st.kb, found)
    return json_answer(body, st)


@router.get(
    "/records/export",
    summary="Every matching record as JSON, JSONL, CSV or TSV (no paging)",
    responses=media("application/json", "application/x-ndjson", "text/csv", "text/tab-separated-values"),
)
async def export_records(request: Request, query: Records, format: ExportFormat = ExportFormat.json) -> Response:
    st = state(request)
    found = query.find(st)
    if format in (ExportFormat.csv, ExportFormat.tsv):
        return table_answer([flat_row(st.kb, m) for m in found], format, "records", EXPORT_COLUMNS)
    return table_answer(_rows(st, found), format, "records")


@router.get(
    "/records/{record_id}",
    summary="One record of any kind in full (`kb show`), with citation and grade explained",
    responses=media(*TABLE_MEDIA),
)
async def get_record(request: Request, record_id: RecordId, format: TableFormat = TableFormat.json) -> Response:
    st = state(request)
    item = record_item(request, st, record_id)
    if format is not TableFormat.json:
        return table_answer([flat_row(st.kb, st.kb.get(record_id))], format, record_id.replace(":", "_"), EXPORT_COLUMNS)
    return json_answer(item, st)


def _kind_list(
    request: Request, records: list[Record], q: str | None, limit: int, offset: int, extra: dict[str, Any] | None = None
) -> JSONResponse:
    st = state(request)
    if q:
        records = st.index.search(q, records)
    body = page(_rows(st, records[offset : offset + limit]), limit, 0)
    body.update(total=len(records), offset=offset, **(extra or {}))
    return json_answer(body, st)


@router.get("/entities", summary="Entities: the molecules, vesicles and pathways records refer to by name")
async def list_entities(
    request: Request,
    type: EntityType | None = None,
    q: Text = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> JSONResponse:
    kb = state(request).kb
    return _kind_list(request, [e for e in kb.entities if type is None or e.entity_type is type], q, limit, offset)


@router.get("/entities/{name}", summary="One entity by id (ent:...), name or alias: the record and where it is used")
async def get_entity(request: Request, name: Annotated[str, Path(min_length=1, max_length=120)]) -> JSONResponse:
    st = state(request)
    try:
        ent = st.kb.by_id[name] if name.startswith("ent:") and name in st.kb.by_id else st.kb.entity(name)
    except UnknownNameError as exc:
        raise ApiError(404, [unknown_name(("path", "name"), exc)]) from None
    body = record_item(request, st, ent.id)
    body["uses"] = entity_uses(st.kb, record_label(ent))
    return json_answer(body, st)


@router.get("/therapies", summary="Therapies (drugs, antibodies, radiation, regimens)")
async def list_therapies(
    request: Request,
    therapy_class: Annotated[TherapyClass | None, Query(alias="class")] = None,
    q: Text = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> JSONResponse:
    kb = state(request).kb
    recs: list[Record] = [t for t in kb.therapies if therapy_class is None or therapy_class in t.therapy_classes]
    return _kind_list(request, recs, q, limit, offset)


@router.get("/therapies/classes", summary="The therapy classes with the therapies in each")
async def therapy_classes(request: Request, limit: Limit = 50, offset: Offset = 0) -> JSONResponse:
    st = state(request)
    return json_answer(page(therapy_hierarchy(st.kb), limit, offset), st)


@router.get("/therapies/{name}", summary="One therapy by id, name or alias")
async def get_therapy(request: Request, name: Annotated[str, Path(min_length=1, max_length=120)]) -> JSONResponse:
    st = state(request)
    with field("path", "name"):
        t = st.kb.therapy(name)
    body = record_item(request, st, t.id)
    with field("path", "name"):
        body["therapy_refs"] = sorted(st.kb.therapy_refs(name))
    return json_answer(body, st)


@router.get("/interventions", summary="Interventions against exosome-mediated resistance")
async def list_interventions(request: Request, q: Text = None, limit: Limit = 50, offset: Offset = 0) -> JSONResponse:
    return _kind_list(request, list(state(request).kb.interventions), q, limit, offset)


@router.get("/interventions/{record_id}", summary="One intervention by id")
async def get_intervention(request: Request, record_id: RecordId) -> JSONResponse:
    return _one_of_kind(request, record_id, "intervention")


@router.get("/biomarkers", summary="Exosomal biomarkers")
async def list_biomarkers(request: Request, q: Text = None, limit: Limit = 50, offset: Offset = 0) -> JSONResponse:
    return _kind_list(request, list(state(request).kb.biomarkers), q, limit, offset)


@router.get("/biomarkers/{record_id}", summary="One biomarker by id")
async def get_biomarker(request: Request, record_id: RecordId) -> JSONResponse:
    return _one_of_kind(request, record_id, "biomarker")


def _one_of_kind(request: Request, record_id: str, kind: str) -> JSONResponse:
    st = state(request)
    body = record_item(request, st, record_id)
    if body["kind"] != kind:
        msg = f"'{record_id}' is a {body['kind']} record, not a {kind}"
        raise ApiError(404, [problem(("path", "record_id"), msg, "not_found")])
    return json_answer(body, st)


@router.get("/names", summary="What a name means: records, entities, therapies, classes, interventions (with suggestions)")
async def resolve_name(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=120)],
    limit: Limit = 50,
    offset: Offset = 0,
) -> JSONResponse:
    st = state(request)
    found = names.resolve(st.kb, q)
    body = page(found["matches"], limit, offset)
    body.update(query=found["query"], suggestions=found["suggestions"])
    return json_answer(body, st)


@router.get("/stats", summary="Counts by kind, cargo class, therapy, phenotype; unresolved names (`kb stats`)")
async def kb_stats(request: Request) -> JSONResponse:
    st = state(request)
    return json_answer(stats(st.kb, st.opened.xrefs, st.opened.unresolved), st)


@router.get("/vocabulary", summary="What evidence grades and kinds mean")
async def vocabulary(request: Request) -> JSONResponse:
    return json_answer({"evidence_grade": GRADE_MEANING, "evidence_kind": EVIDENCE_KIND_MEANING}, state(request))
