"""The FastAPI application: API routers, pages, static files, limits, headers and error answers."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

import exoresist
from exoresist.web import api_graph, api_kb, api_model, api_trials, pages
from exoresist.web.errors import ApiError, jsonable, library_error_status, problem
from exoresist.web.jobs import JobManager
from exoresist.web.settings import Settings
from exoresist.web.state import AppState

log = logging.getLogger("exoresist.web")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "connect-src 'self'; font-src 'self' data:; frame-ancestors 'self'; base-uri 'none'; form-action 'self'"
)
"""Pages load scripts, data and styles from this server only (the vendored JavaScript)."""

STATIC = Path(str(resources.files("exoresist.web") / "static"))


class BodyLimit:
    """Refuse request bodies above ``max_bytes`` with 413 (by Content-Length, or while reading)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            response = JSONResponse(
                {"detail": [problem(("body",), f"request body over {self.max_bytes} bytes", "too_large")]}, status_code=413
            )
            await response(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise StarletteHTTPException(413, f"request body over {self.max_bytes} bytes")
            return message

        await self.app(scope, limited, send)


class Headers:
    """Provenance and security headers on every answer."""

    def __init__(self, app: ASGIApp, provenance: dict[str, Any]) -> None:
        self.app = app
        self.extra = [
            (b"x-exoresist-version", str(provenance["package_version"]).encode()),
            (b"x-kb-version", str(provenance["kb_version"]).encode()),
            (b"x-kb-content-hash", str(provenance["kb_content_hash"]).encode()),
            (b"x-model-version", str(provenance["model_version"]).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"content-security-policy", CSP.encode()),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.extra]
            await send(message)

        await self.app(scope, receive, with_headers)


def _error_answer(request: Request, status: int, detail: list[dict[str, Any]], headers: dict[str, str] | None = None) -> Response:
    if request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", ""):
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    return pages.error_page(request, status, detail)


def _install_error_handlers(app: FastAPI) -> None:
    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return _error_answer(request, exc.status, exc.detail, exc.headers)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, list) else [problem((), str(exc.detail), "http_error")]
        return _error_answer(request, exc.status_code, detail, dict(exc.headers or {}))

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        detail = jsonable(list(exc.errors()))
        for d in detail:
            d.pop("url", None)
        return _error_answer(request, 422, detail)

    async def library_error(request: Request, exc: Exception) -> Response:
        mapped = library_error_status(exc)
        if mapped is None:
            log.exception("internal error on %s", request.url.path, exc_info=exc)
            return _error_answer(request, 500, [problem((), "internal error (logged on the server)", "internal")])
        return _error_answer(request, *mapped)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, library_error)
    from exoresist.graph import GraphError
    from exoresist.kb import KBValidationError, UnknownNameError
    from exoresist.kb.errors import StoreError
    from exoresist.web.errors import user_errors

    for cls in (UnknownNameError, GraphError, KBValidationError, StoreError, *user_errors()):
        app.add_exception_handler(cls, library_error)


def _warm_up(st: AppState) -> None:
    """Build the graph and compile the simulator once, so the first users do not wait for it."""
    try:
        from exoresist.model.api import make_scenario
        from exoresist.ode.summary import simulate_scenario

        st.graph(False)
        contexts: tuple[Literal["patient", "culture"], ...] = ("patient", "culture")
        for context in contexts:
            therapies = ("sorafenib",)
            scenario = make_scenario(st.kb, context=context, therapies=therapies, days=30)
            simulate_scenario(st.kb, scenario, every=7, spec=st.model(scenario))
    except Exception:  # pragma: no cover - warming up is an optimisation only
        log.exception("warm-up failed")


def create_app(settings: Settings | None = None, *, warm_up: bool = True) -> FastAPI:
    """The exoresist web application over the KB that ``settings.db`` names (default: the shipped records)."""
    settings = settings or Settings()
    st = AppState(settings)
    manager = JobManager(
        st.kb,
        settings.data_dir,
        scheduler=settings.scheduler,
        trial_workers=settings.trial_workers,
        serial_patient_arms=settings.serial_patient_arms,
        max_jobs=settings.max_jobs,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resumed = manager.resume_all()
        if resumed:
            log.warning("resuming %d trial job(s): %s", len(resumed), ", ".join(resumed))
        if warm_up:
            threading.Thread(target=_warm_up, args=(st,), daemon=True, name="warm-up").start()
        yield
        manager.close()

    app = FastAPI(
        title="exoresist",
        version=exoresist.__version__,
        summary="Exosome-mediated therapy resistance in HCC: knowledge base, mechanism graph, model and virtual trials.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.exoresist = st
    app.state.jobs = manager
    _install_error_handlers(app)
    for router in (api_kb.router, api_graph.router, api_model.router, api_trials.router, pages.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response((STATIC / "favicon.svg").read_bytes(), media_type="image/svg+xml")

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        return pages.render(request, "docs.html.j2", title="API")

    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(Headers, provenance=st.provenance())
    return app
