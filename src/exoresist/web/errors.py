"""The library's user-facing errors as HTTP answers: ``{"detail": [{"loc", "msg", "type", ...}]}``.

An unknown name is 422 with the field it came from and the resolver's suggestions; arguments the
model or the trial code refuse are 422; a known name without a route is 404; a limit of this
server is the 4xx its handler gives (413, 429, 422). Nothing a client sends gives a 500.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from exoresist.kb import KBValidationError, UnknownNameError
from exoresist.kb.errors import StoreError
from exoresist.web import names


class ApiError(Exception):
    """An answer other than 200, with FastAPI's ``detail`` list."""

    def __init__(self, status: int, detail: list[dict[str, Any]], headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail[0]["msg"] if detail else str(status))
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})


def jsonable(value: Any) -> Any:
    """``value`` as strict JSON: non-finite floats and objects JSON has no type for become strings."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def problem(loc: tuple[str, ...], msg: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"loc": list(loc), "msg": msg, "type": kind, **extra}


def unknown_name(loc: tuple[str, ...], exc: UnknownNameError) -> dict[str, Any]:
    return problem(loc, str(exc), "unknown_name", input=exc.name, what=exc.what, suggestions=names.suggestions(exc))


def user_errors() -> tuple[type[Exception], ...]:
    """Errors in which the library says what was wrong with the user's arguments."""
    from exoresist.cohort.arms import TrialError
    from exoresist.cohort.population import PopulationError
    from exoresist.model.api import ParameterError
    from exoresist.model.assemble import AssemblyError
    from exoresist.model.spec import SpecError
    from exoresist.ode import SimulationInputError
    from exoresist.ode.summary import IntegrationError

    return (ParameterError, AssemblyError, SpecError, TrialError, PopulationError, SimulationInputError, IntegrationError)


@contextmanager
def field(*loc: str) -> Iterator[None]:
    """Turn a library error raised for the argument at ``loc`` (e.g. ``("query", "cargo")``) into a 422."""
    try:
        yield
    except UnknownNameError as exc:
        raise ApiError(422, [unknown_name(loc, exc)]) from None
    except user_errors() as exc:
        raise ApiError(422, [problem(loc, str(exc), "value_error")]) from None


@contextmanager
def fields(location: str, given: Mapping[str, Any]) -> Iterator[None]:
    """Like :func:`field` for a call that takes several named arguments: the field reported is
    the argument whose value the unknown name is (every such argument when several are)."""
    try:
        yield
    except UnknownNameError as exc:
        hit = [k for k, v in given.items() if v == exc.name or (isinstance(v, (list, tuple)) and exc.name in v)]
        raise ApiError(422, [unknown_name((location, k), exc) for k in hit or [""]]) from None
    except user_errors() as exc:
        raise ApiError(422, [problem((location,), str(exc), "value_error")]) from None


def library_error_status(exc: Exception) -> tuple[int, list[dict[str, Any]]] | None:
    """The answer for a library error that escaped the routes' own handling (``None``: not one)."""
    from exoresist.graph import GraphError, NoRouteError
    from exoresist.graph.elements import UnknownNodeError

    if isinstance(exc, UnknownNameError):
        return 422, [unknown_name(("query",), exc)]
    if isinstance(exc, NoRouteError | UnknownNodeError):
        return 404, [problem(("query",), str(exc), "not_found")]
    if isinstance(exc, GraphError):
        return 422, [problem(("query",), str(exc), "value_error")]
    if isinstance(exc, KBValidationError):
        return 422, [problem(("body",), str(i), "invalid_record") for i in exc.issues]
    if isinstance(exc, StoreError):
        return 503, [problem((), str(exc), "store_unavailable")]
    if isinstance(exc, user_errors()):
        return 422, [problem(("query",), str(exc), "value_error")]
    return None
