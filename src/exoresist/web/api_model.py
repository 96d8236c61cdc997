"""``/api/v1/simulations`` and ``/api/v1/model``: simulate a scenario, describe its model, export SBML."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from exoresist.model.api import Scenario, make_scenario, parameters_with_overrides, parse_overrides
from exoresist.model.spec import ModelSpec
from exoresist.ode.summary import simulate_scenario
from exoresist.web.common import TABLE_MEDIA, Hypotheses, TableFormat, json_answer, media, state, table_answer, text_answer
from exoresist.web.errors import ApiError, field, fields, problem
from exoresist.web.state import AppState

router = APIRouter(prefix="/api/v1", tags=["model"])

Short = Annotated[str, Field(min_length=1, max_length=120)]
Context = Literal["culture", "mouse", "patient"]


class SimulationRequest(BaseModel):
    """A scenario to simulate (the options of ``exoresist simulate``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    context: Context = "patient"
    therapies: list[Short] = Field(default_factory=list, max_length=8, description="Names, aliases or regimens.")
    interventions: list[Short] = Field(default_factory=list, max_length=8)
    knockouts: list[Short] = Field(default_factory=list, max_length=50, description="Record ids or cargo names to switch off.")
    days: float = Field(365.0, gt=0, le=3650, description="Simulated days (the server may allow fewer).")
    every: float = Field(7.0, gt=0, le=3650, description="Days between output rows.")
    params: dict[Annotated[str, Field(min_length=1, max_length=120)], float] = Field(
        default_factory=dict, max_length=100, description="Parameter overrides NAME: VALUE (non-negative)."
    )
    include_hypotheses: bool = False


def scenario_of(
    st: AppState,
    *,
    context: Context,
    therapies: list[str],
    interventions: list[str],
    knockouts: list[str],
    days: float,
    every: float | None,
    include_hypotheses: bool,
    where: str = "body",
) -> Scenario:
    """The scenario of a request; 422 naming the field of an unknown knockout or a limit passed."""
    limits = st.settings
    if days > limits.max_days:
        raise ApiError(422, [problem((where, "days"), f"at most {limits.max_days:g} days on this server", "limit")])
    if every is not None and days / every > limits.max_points:
        raise ApiError(
            422, [problem((where, "every"), f"at most {limits.max_points} time points on this server: raise every", "limit")]
        )
    with field(where, "knockouts" if where == "body" else "knockout"):  # the names resolved here; the others in _built
        return make_scenario(
            st.kb,
            context=context,
            therapies=therapies,
            interventions=interventions,
            knockouts=knockouts,
            days=days,
            include_hypotheses=include_hypotheses,
        )


def _built(st: AppState, scenario: Scenario, where: str = "body") -> ModelSpec:
    """The model of ``scenario``; an unknown therapy or intervention names its field."""
    names = ("therapies", "interventions") if where == "body" else ("therapy", "intervention")
    given = dict(zip(names, (list(scenario.therapies), list(scenario.interventions)), strict=True))
    with fields(where, given):
        return st.model(scenario)


@router.post(
    "/simulations",
    summary="Simulate one scenario: the trajectory rows of `simulate --format json`",
    responses=media(*TABLE_MEDIA),
)
def simulations(
    request: Request,
    body: SimulationRequest,
    format: TableFormat = TableFormat.json,
) -> Response:
    st = state(request)
    scenario = scenario_of(
        st,
        context=body.context,
        therapies=body.therapies,
        interventions=body.interventions,
        knockouts=body.knockouts,
        days=body.days,
        every=body.every,
        include_hypotheses=body.include_hypotheses,
    )
    spec = _built(st, scenario)
    for name, value in body.params.items():
        if not math.isfinite(value):
            raise ApiError(422, [problem(("body", "params", name), "must be a finite number", "value_error")])
    with field("body", "params"):
        out = simulate_scenario(st.kb, scenario, body.params, every=body.every, spec=spec)
    if format is not TableFormat.json:
        return table_answer(out["rows"], format, "simulation")
    return json_answer(out, st, spec_hash=out["spec_hash"])


ContextQ = Annotated[Context, Query()]
ListQ = Annotated[list[Annotated[str, Query(min_length=1, max_length=120)]] | None, Query(max_length=50)]
DaysQ = Annotated[float, Query(gt=0, le=3650)]


def _scenario_q(
    st: AppState,
    context: Context,
    therapy: list[str] | None,
    intervention: list[str] | None,
    knockout: list[str] | None,
    days: float,
    include_hypotheses: bool,
) -> Scenario:
    return scenario_of(
        st,
        context=context,
        therapies=therapy or [],
        interventions=intervention or [],
        knockouts=knockout or [],
        days=days,
        every=None,
        include_hypotheses=include_hypotheses,
        where="query",
    )


@router.get("/model", summary="The scenario's model as data: species, processes, parameters, events, each with its records")
def model(
    request: Request,
    context: ContextQ = "patient",
    therapy: ListQ = None,
    intervention: ListQ = None,
    knockout: ListQ = None,
    days: DaysQ = 365.0,
    include_hypotheses: Hypotheses = False,
) -> Response:
    st = state(request)
    scenario = _scenario_q(st, context, therapy, intervention, knockout, days, include_hypotheses)
    _built(st, scenario, "query")
    data = st.describe(scenario)
    return json_answer(data, st, spec_hash=data["spec_hash"])


@router.get(
    "/model/sbml",
    summary="The scenario's model as SBML Level 3 core, dosing as events (`model export-sbml`)",
    responses=media("application/sbml+xml"),
)
def model_sbml(
    request: Request,
    context: ContextQ = "patient",
    therapy: ListQ = None,
    intervention: ListQ = None,
    knockout: ListQ = None,
    days: DaysQ = 365.0,
    include_hypotheses: Hypotheses = False,
    param: Annotated[
        list[Annotated[str, Query(min_length=1, max_length=160)]] | None, Query(max_length=100, description="NAME=VALUE")
    ] = None,
) -> Response:
    from exoresist.model.sbml import to_sbml

    st = state(request)
    scenario = _scenario_q(st, context, therapy, intervention, knockout, days, include_hypotheses)
    spec = _built(st, scenario, "query")
    with field("query", "param"):
        values = parameters_with_overrides(spec, parse_overrides(param or []))[0]
    text = to_sbml(spec, dict(zip(spec.parameter_names, values.tolist(), strict=True)))
    spec_hash = spec.content_hash()
    return text_answer(text, "application/sbml+xml", f"{spec.name}.sbml", {"X-Spec-Hash": spec_hash})
