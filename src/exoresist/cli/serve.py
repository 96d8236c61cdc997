"""``exoresist serve``: the web application and REST API over the whole library (``exoresist.web``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from exoresist import preflight
from exoresist.cli.common import DbOpt, checked, err_console, fail_on_errors, output_dir_option


@fail_on_errors
def serve_command(
    host: Annotated[str, typer.Option("--host", help="Address to bind; other than loopback opens the server to the network.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    db: DbOpt = None,
    data: Annotated[Path, output_dir_option("--data", help="Folder for trial jobs (resumed after a restart).")] = Path("out/web"),
    scheduler: Annotated[
        str,
        typer.Option(
            "--scheduler",
            parser=checked(preflight.serve_scheduler, "--scheduler"),
            metavar="ADDRESS",
            help="'local' (a Dask cluster on 127.0.0.1), 'serial', or a Dask scheduler address (tcp://HOST:PORT).",
        ),
    ] = "local",
    trial_workers: Annotated[int, typer.Option("--trial-workers", min=1, help="Worker processes of the local Dask cluster.")] = 1,
    max_patients: Annotated[int, typer.Option("--max-patients", min=1, help="Patients per arm of one trial job.")] = 2000,
    max_jobs: Annotated[int, typer.Option("--max-jobs", min=1, help="Trial jobs queued or running at once.")] = 2,
    max_days: Annotated[float, typer.Option("--max-days", min=1, help="Days of one simulation.")] = 3650.0,
) -> None:
    """Serve the web pages and the REST API (/api/v1, docs at /docs) until interrupted."""
    import sys

    import uvicorn

    from exoresist.web import Settings, create_app
    from exoresist.web.settings import LOOPBACK_HOSTS

    if host not in LOOPBACK_HOSTS:
        err_console.print(
            f"[yellow]warning[/yellow]: binding {host}: anyone who can reach this machine can use the server "
            "and start trial jobs (there is no authentication)",
            highlight=False,
        )
    settings = Settings(
        db=db,
        data_dir=data,
        scheduler=scheduler,
        trial_workers=trial_workers,
        max_patients=max_patients,
        max_jobs=max_jobs,
        max_days=max_days,
    )
    # Hand the GIL between the event loop, simulations and serial trial jobs every millisecond
    # (default 5 ms), so a request never waits long behind a computing thread.
    sys.setswitchinterval(0.001)
    app = create_app(settings)
    err_console.print(f"exoresist serving on http://{host}:{port}/ (API docs at /docs); jobs in {data}", highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
