"""Server-rendered pages (Jinja2 + htmx). Each page calls the same functions as the API routes and
renders the library's results; the graph and the plots are drawn in the browser from API JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

import jinja2
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from exoresist.kb import Mechanism, UnknownNameError
from exoresist.kb.browse import EVIDENCE_KIND_MEANING, GRADE_MEANING, entity_uses, facet_choices, facet_counts, record_label
from exoresist.kb.reports import stats
from exoresist.ode.summary import simulate_scenario
from exoresist.report.tables import trial_tables
from exoresist.web import api_kb, api_model, api_trials
from exoresist.web.common import TableFormat, state, table_answer
from exoresist.web.errors import ApiError, problem, unknown_name

router = APIRouter(include_in_schema=False)

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(resources.files("exoresist.web") / "templates")),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # the templates ship with the package
)
_env.filters["label"] = lambda v: str(v).replace("_", " ")
_env.filters["tojson_attr"] = lambda v: json.dumps(v, ensure_ascii=False)

FACET_LABELS = {
    "cargo_class": "cargo class",
    "therapy": "therapy",
    "donor": "donor cell",
    "recipient": "recipient cell",
    "phenotype": "phenotype",
    "evidence": "evidence kind",
    "grade": "evidence grade",
}
PAGE_SIZE = 25


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    st = state(request)
    refs = st.therapy_labels()
    html = _env.get_template(template).render(
        request=request,
        provenance=st.provenance(context.pop("spec_hash", None)),
        path=request.url.path,
        ref=lambda r: refs.get(r, str(r).removeprefix("ther:").removeprefix("class:").replace("_", " ")),
        **context,
    )
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, status: int, detail: list[dict[str, Any]]) -> HTMLResponse:
    return render(request, "error.html.j2", status=status, title=f"Error {status}", code=status, detail=detail)


def _query(request: Request, **change: Any) -> str:
    """The current query string with ``change`` applied (``None`` removes a key)."""
    params = {k: v for k, v in request.query_params.multi_items()}
    for k, v in change.items():
        if v is None:
            params.pop(k, None)
        else:
            params[k] = str(v)
    return urlencode(params)


# --- home and search ------------------------------------------------------------------------------
@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    st = state(request)
    s = stats(st.kb, st.opened.xrefs, st.opened.unresolved)
    return render(request, "home.html.j2", title="exoresist", stats=s)


@router.get("/search", response_class=HTMLResponse)
async def search_page(request: Request, q: Annotated[str, Query(max_length=200)] = "") -> Response:
    """The home box: a name that means one thing goes to its page; anything else to record search."""
    from exoresist.web import names

    found = names.resolve(state(request).kb, q) if q.strip() else {"matches": []}
    matches = found["matches"]
    if len(matches) == 1 and matches[0]["kind"] in ("mechanism", "hypothesis", "therapy", "intervention", "biomarker"):
        return RedirectResponse(f"/records/{matches[0]['id']}", status_code=303)
    if len(matches) == 1 and matches[0]["kind"] == "entity":
        return RedirectResponse(f"/entities/{matches[0]['id']}", status_code=303)
    return RedirectResponse(f"/records?{urlencode({'q': q})}", status_code=303)


@router.get("/records", response_class=HTMLResponse)
async def records_page(
    request: Request,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cargo_class: Annotated[str | None, Query(max_length=120)] = None,
    therapy: Annotated[str | None, Query(max_length=120)] = None,
    donor: Annotated[str | None, Query(max_length=120)] = None,
    recipient: Annotated[str | None, Query(max_length=120)] = None,
    phenotype: Annotated[str | None, Query(max_length=120)] = None,
    evidence: Annotated[str | None, Query(max_length=120)] = None,
    grade: Annotated[str | None, Query(max_length=120)] = None,
    cargo: Annotated[str | None, Query(max_length=120)] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> HTMLResponse:
    st = state(request)
    filters = {
        "cargo": cargo,
        "cargo_class": cargo_class,
        "therapy": therapy,
        "donor": donor,
        "recipient": recipient,
        "phenotype": phenotype,
        "evidence": evidence,
        "grade": grade,
    }
    filters = {k: (v or None) for k, v in filters.items()}
    error: list[dict[str, Any]] | None = None
    try:
        found = api_kb.find_records(st, filters, q=q or None)
    except ApiError as exc:
        error, found = exc.detail, []
    rows = [st.row(m.id) for m in found[offset : offset + PAGE_SIZE]]
    api_query = urlencode({k: v for k, v in {"q": q, **filters}.items() if v})
    choices = facet_choices(st.kb)
    selected = {k: _canonical(st, k, v, choices.get(k, [])) for k, v in filters.items() if v}
    context: dict[str, Any] = {
        "title": "Records",
        "q": q or "",
        "filters": filters,
        "facets": facet_counts(st.kb, found),
        "choices": choices,
        "selected": selected,
        "facet_labels": FACET_LABELS,
        "therapy_tree": [c for c in _therapy_tree(st) if c["therapies"]],
        "rows": rows,
        "total": len(found),
        "offset": offset,
        "page_size": PAGE_SIZE,
        "prev_query": _query(request, offset=max(0, offset - PAGE_SIZE)) if offset else None,
        "next_query": _query(request, offset=offset + PAGE_SIZE) if offset + PAGE_SIZE < len(found) else None,
        "api_query": api_query,
        "error": error,
    }
    template = "records_results.html.j2" if request.headers.get("hx-request") else "records.html.j2"
    return render(request, template, **context)


def _canonical(st: Any, facet: str, value: str, choices: list[str]) -> str:
    """The option of a facet's select that a typed filter value means (``sorafenib`` -> ``ther:sorafenib``)."""
    from exoresist.web import names

    if value in choices:
        return value
    for c in choices:
        if c.casefold() == value.casefold():
            return c
    if facet == "therapy":
        for m in names.resolve(st.kb, value)["matches"]:
            if m["kind"] in ("therapy", "therapy_class"):
                return str(m["id"])
    return value


def _therapy_tree(st: Any) -> list[dict[str, Any]]:
    from exoresist.kb.browse import therapy_hierarchy

    return therapy_hierarchy(st.kb)


# --- record and entity pages ------------------------------------------------------------------------
@router.get("/records/{record_id}", response_class=HTMLResponse)
async def record_page(request: Request, record_id: str) -> HTMLResponse:
    st = state(request)
    item = api_kb.record_item(request, st, record_id)
    rec = st.kb.get(record_id)
    row = st.row(record_id)
    graph_links = []
    if isinstance(rec, Mechanism):
        cargo = st.kb.entity(rec.cargo).name
        graph_links = [{"therapy": t.therapy, "cargo": cargo, "direction": t.direction.value} for t in rec.therapies]
    return render(
        request,
        "record.html.j2",
        title=record_label(rec),
        item=item,
        row=row,
        grade_meaning=GRADE_MEANING,
        kind_meaning=EVIDENCE_KIND_MEANING,
        graph_links=graph_links,
        labels=st.labels,
    )


@router.get("/entities/{name}", response_class=HTMLResponse)
async def entity_page(request: Request, name: str) -> HTMLResponse:
    st = state(request)
    kb = st.kb
    ent = kb.by_id.get(name) if name.startswith("ent:") else None
    if ent is None:
        try:
            ent = kb.entity(name)
        except UnknownNameError as exc:
            raise ApiError(404, [unknown_name(("path", "name"), exc)]) from None
    uses = entity_uses(kb, record_label(ent))
    item = api_kb.record_item(request, st, ent.id)
    cargo_records = [st.row(i) for i in uses["as_cargo"]]
    therapies = sorted({t["therapy"] for r in cargo_records for t in (r["therapies"] or [])})
    return render(
        request,
        "entity.html.j2",
        title=record_label(ent),
        item=item,
        uses=uses,
        cargo_records=cargo_records,
        therapies=therapies,
        labels=st.labels,
    )


@router.get("/fragments/evidence", response_class=HTMLResponse)
async def evidence_fragment(
    request: Request,
    records: Annotated[list[Annotated[str, Query(max_length=160)]] | None, Query(max_length=50)] = None,
) -> HTMLResponse:
    """The evidence of the records behind a graph edge or node (the panel of the graph view)."""
    st = state(request)
    recs = [st.kb.by_id[r] for r in (records or []) if r in st.kb.by_id]
    items = [st.row(r.id) for r in recs]
    meanings: dict[str, Any] = {"grade_meaning": GRADE_MEANING, "kind_meaning": EVIDENCE_KIND_MEANING}
    return render(request, "evidence_fragment.html.j2", items=items, **meanings)


# --- graph view ---------------------------------------------------------------------------------------
@router.get("/graph", response_class=HTMLResponse)
async def graph_page(
    request: Request,
    view: Annotated[str, Query(pattern="^(explain|routes|targets|cargo|node)$")] = "explain",
    cargo: Annotated[str, Query(max_length=120)] = "",
    therapy: Annotated[str, Query(max_length=120)] = "",
    node: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    from exoresist.graph import EXPORTERS

    params = {"view": view, "cargo": cargo, "therapy": therapy, "node": node}
    return render(request, "graph.html.j2", title="Mechanism graph", params=params, exporters=sorted(EXPORTERS))


# --- simulate -------------------------------------------------------------------------------------------
SCENARIO_KEYS = ("context", "therapy", "intervention", "knockout", "days", "every")


def _scenario_request(request: Request, prefix: str) -> dict[str, Any] | None:
    """Scenario ``prefix`` (``a`` or ``b``) of the simulate form, as a ``SimulationRequest`` body."""
    qp = request.query_params
    if not any(k.startswith(prefix + "_") for k in qp):
        return None

    def many(key: str) -> list[str]:
        return [p.strip() for v in qp.getlist(f"{prefix}_{key}") for p in v.split(",") if p.strip()]

    return {
        "context": qp.get(f"{prefix}_context") or "patient",
        "therapies": many("therapy"),
        "interventions": many("intervention"),
        "knockouts": many("knockout"),
        "days": qp.get(f"{prefix}_days") or "365",
        "every": qp.get(f"{prefix}_every") or "7",
    }


def _simulate(request: Request, body: Mapping[str, Any]) -> tuple[dict[str, Any] | None, list[dict[str, Any]] | None]:
    """The API's simulation of ``body``: ``(result, None)`` or ``(None, error detail)``."""
    from pydantic import ValidationError

    st = state(request)
    try:
        req = api_model.SimulationRequest.model_validate(dict(body))
        scenario = api_model.scenario_of(
            st,
            context=req.context,
            therapies=req.therapies,
            interventions=req.interventions,
            knockouts=req.knockouts,
            days=req.days,
            every=req.every,
            include_hypotheses=req.include_hypotheses,
        )
        spec = api_model._built(st, scenario)
        return simulate_scenario(st.kb, scenario, req.params, every=req.every, spec=spec), None
    except ValidationError as exc:
        return None, [problem(tuple(str(x) for x in e["loc"]), e["msg"], e["type"]) for e in exc.errors()]
    except ApiError as exc:
        return None, exc.detail


@router.get("/simulate", response_class=HTMLResponse)
def simulate_page(request: Request) -> HTMLResponse:
    scenarios = []
    for prefix in ("a", "b"):
        body = _scenario_request(request, prefix)
        result, error = _simulate(request, body) if body is not None else (None, None)
        if result is not None and body is not None:  # show the request as the API reads it
            body = api_model.SimulationRequest.model_validate(body).model_dump(exclude_defaults=False)
        scenarios.append({"prefix": prefix, "body": body, "result": result, "error": error})
    return render(
        request,
        "simulate.html.j2",
        title="Simulate",
        scenarios=scenarios,
        query=request.url.query,
        therapies=[t.name for t in state(request).kb.therapies],
        interventions=[i.id for i in state(request).kb.interventions],
    )


@router.get("/simulate/download")
def simulate_download(
    request: Request,
    scenario: Annotated[str, Query(pattern="^[ab]$")] = "a",
    format: TableFormat = TableFormat.csv,
) -> Response:
    body = _scenario_request(request, scenario)
    if body is None:
        raise ApiError(422, [problem(("query", f"{scenario}_context"), f"scenario {scenario} is not given", "missing")])
    result, error = _simulate(request, body)
    if result is None:
        raise ApiError(422, error or [])
    return table_answer(result["rows"], format, f"simulation-{scenario}")


# --- trials ---------------------------------------------------------------------------------------------
@router.get("/trials", response_class=HTMLResponse)
async def trials_page(request: Request) -> HTMLResponse:
    jobs = api_trials.jobs(request).all()
    return render(request, "trials.html.j2", title="Virtual trials", jobs=[j.to_dict() for j in jobs], form={}, error=None)


@router.post("/trials", response_class=HTMLResponse)
async def trials_submit(request: Request) -> Response:
    """The trial form (url-encoded): the same checks and job as ``POST /api/v1/trials``."""
    from pydantic import ValidationError

    raw = (await request.body()).decode("utf-8", errors="replace")
    form = {k: v for k, v in parse_qs(raw, keep_blank_values=True).items()}
    arms = [a.strip() for v in form.get("arm", []) for a in v.splitlines() if a.strip()]
    body = {
        "arms": arms,
        "population": (form.get("population") or ["first-line"])[0],
        "patients": (form.get("patients") or ["40"])[0],
        "months": (form.get("months") or ["12"])[0],
        "seed": (form.get("seed") or ["0"])[0],
        "knockouts": bool(form.get("knockouts")),
    }
    try:
        req = api_trials.TrialRequest.model_validate(body)
        job, _ = api_trials.submit(request, req)
    except ValidationError as exc:
        detail = [problem(tuple(str(x) for x in e["loc"]), e["msg"], e["type"]) for e in exc.errors()]
        return _trials_form_error(request, body, detail)
    except ApiError as exc:
        return _trials_form_error(request, body, exc.detail, exc.status)
    return RedirectResponse(f"/trials/{job.id}", status_code=303)


def _trials_form_error(request: Request, body: dict[str, Any], detail: list[dict[str, Any]], status: int = 422) -> HTMLResponse:
    jobs = api_trials.jobs(request).all()
    listed = [j.to_dict() for j in jobs]
    return render(request, "trials.html.j2", status=status, title="Virtual trials", jobs=listed, form=body, error=detail)


def _job_context(request: Request, job_id: str) -> dict[str, Any]:
    job = api_trials._job(request, job_id)
    body = api_trials.job_body(request, job)
    tables = trial_tables(api_trials.jobs(request).summary(job_id)) if job.state == "done" else []
    return {"job": body, "tables": tables}


@router.get("/trials/{job_id}", response_class=HTMLResponse)
async def trial_page(request: Request, job_id: Annotated[str, Path(pattern="^[0-9a-f]{16}$")]) -> HTMLResponse:
    return render(request, "trial.html.j2", title=f"Trial {job_id}", **_job_context(request, job_id))


@router.get("/trials/{job_id}/progress", response_class=HTMLResponse)
async def trial_progress(request: Request, job_id: str) -> HTMLResponse:
    return render(request, "trial_progress.html.j2", **_job_context(request, job_id))
