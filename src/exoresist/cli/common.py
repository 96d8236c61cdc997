"""What every CLI command shares: the consoles, error reporting, atomic writes, the scenario options,
and the options that name outputs, stores, schedulers and extra records - each checked (by
:mod:`exoresist.preflight`) while the command line is parsed, before any work starts."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console

from exoresist import preflight
from exoresist.atomic import DiskFullError, disk_full_error, is_disk_full, write_text
from exoresist.kb.errors import KBValidationError, StoreError, UnknownNameError

# piped or captured output (CI logs, `make demo`) has no terminal width: give tables room
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, soft_wrap=True)


class TableOrJson(StrEnum):
    """``--format`` of the commands that print a table or JSON."""

    table = "table"
    json = "json"


class ContextChoice(StrEnum):
    """``--context`` of the model commands."""

    culture = "culture"
    mouse = "mouse"
    patient = "patient"


def fail(message: str) -> NoReturn:
    """Print ``error: message`` (one line) on stderr and exit with status 1."""
    err_console.print(f"[red]error[/red]: {message}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(1)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


# --- checked options --------------------------------------------------------------------------------
def checked(check: Callable[[str, str], Any], option: str) -> Callable[[Any], Any]:
    """A typer ``parser`` running ``check(value, option)`` on the raw text: a bad value ends the
    command at once with one line (exit status 1)."""

    def parse(value: Any) -> Any:
        try:
            return check(value, option)
        except preflight.PreflightError as exc:
            fail(_escape(str(exc)))

    parse.checked_by = check.__name__  # type: ignore[attr-defined]  # lets tests find every checked option
    return parse


def output_file_option(*names: str, help: str) -> Any:
    """An option naming a file to write: checked (not empty, not a folder, writable place) at parse time."""
    return typer.Option(*names, parser=checked(preflight.output_file, names[-1]), help=help, metavar="FILE")


def output_dir_option(*names: str, help: str) -> Any:
    """An option naming a folder to write into: checked (not empty, not a file, writable place) at parse time."""
    return typer.Option(*names, parser=checked(preflight.output_dir, names[-1]), help=help, metavar="DIR")


def _db_read(value: str, option: str) -> str:
    return preflight.db_url(value, option, write=False)


def _db_write(value: str, option: str) -> str:
    return preflight.db_url(value, option, write=True)


DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        parser=checked(_db_read, "--db"),
        metavar="URL",
        help="SQLAlchemy URL of a store built by 'exoresist kb build' (sqlite:///PATH or postgresql+psycopg://...), "
        "read instead of the shipped YAML records.",
    ),
]
DbWriteOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        parser=checked(_db_write, "--db"),
        metavar="URL",
        help="SQLAlchemy URL to write (default $EXORESIST_DB or sqlite:///exoresist-kb.sqlite); an existing file that "
        "is not a KB store is never replaced.",
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        parser=checked(preflight.scheduler_address, "--scheduler"),
        metavar="ADDRESS",
        help="Dask scheduler address (tcp://HOST:PORT); default a local cluster; 'serial' runs in this process.",
    ),
]
RecordsOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--records",
        metavar="PATH",
        help="Your own YAML record files or folders, validated and added to the KB (repeatable).",
    ),
]
StandaloneOpt = Annotated[bool, typer.Option("--standalone", help="Use only the --records files, without the shipped KB.")]

HYPOTHESES_HELP = (
    "Include hypothesis records (claims the review makes without direct evidence in HCC, grade D). "
    "Every command leaves them out unless given this option."
)
HypoOpt = Annotated[bool, typer.Option("--include-hypotheses", help=HYPOTHESES_HELP)]
#: The same default, said in a command's description.
HYPOTHESES_DEFAULT = (
    "Hypothesis records (claims without direct evidence in HCC, grade D) are left out unless --include-hypotheses "
    "is given, as in every command."
)


def load_kb_for(records: Sequence[Path] | None, standalone: bool = False, db: str | None = None) -> Any:
    """The KB a command reads: the shipped records (or the store at ``db``) plus ``records``;
    with ``standalone``, the ``records`` alone."""
    from exoresist.kb import extend_kb, load_kb
    from exoresist.kb.store import read_store

    if standalone and not records:
        fail("--standalone needs --records: give the record files to use instead of the shipped KB")
    if db is not None:
        if standalone:
            fail("--standalone reads only --records; leave out --db")
        kb = read_store(db).kb
        return extend_kb(kb, records) if records else kb
    if standalone:
        return load_kb(records)
    return load_kb(extra=records or ())


# --- the scenario options of the model commands ---------------------------------------------------
ContextOpt = Annotated[ContextChoice, typer.Option("--context", help="culture, mouse (nude xenograft) or patient.")]
TherapyOpt = Annotated[
    list[str] | None,
    typer.Option("--therapy", help="Therapy name, alias, brand or regimen (atezolizumab+bevacizumab); repeatable."),
]
InterventionOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--intervention",
        help="Intervention id, name, alias, payload or compound (secretion-blockade, anti-pIgR, GW4869); repeatable.",
    ),
]
KnockoutOpt = Annotated[
    list[str] | None, typer.Option("--knockout", help="Record id to switch off, or a cargo name (all its records); repeatable.")
]
DaysOpt = Annotated[float, typer.Option("--days", min=0.001, help="Simulated days.")]
ParamOpt = Annotated[list[str] | None, typer.Option("--param", help="NAME=VALUE override; repeatable.")]

P = ParamSpec("P")
R = TypeVar("R")


def fail_on_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the library's user-facing errors into one clear line on stderr and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except KBValidationError as exc:
            err_console.print(f"[red]error[/red]: {len(exc.issues)} problem(s) found in the records", highlight=False)
            for issue in exc.issues:
                err_console.print(f"  - {issue}", highlight=False, markup=False)
            raise typer.Exit(1) from None
        except KeyboardInterrupt as exc:  # Ctrl-C: one line (a run's says what it kept), exit 130
            err_console.print(str(exc) or "interrupted", highlight=False, markup=False)
            raise typer.Exit(130) from None
        except (UnknownNameError, StoreError, preflight.PreflightError) as exc:
            fail(_escape(str(exc)))
        except OSError as exc:
            if is_disk_full(exc):
                full = exc if isinstance(exc, DiskFullError) else disk_full_error(Path(exc.filename or "."))
                fail(_escape(str(full.strerror)))
            where = f" {exc.filename}" if exc.filename else ""
            fail(_escape(f"cannot write or read{where}: {exc.strerror or exc}"))
        except Exception as exc:
            if not isinstance(exc, _model_errors()):
                raise
            fail(_escape(str(exc)))

    return wrapper


def _model_errors() -> tuple[type[Exception], ...]:
    """User-facing errors of the model stages (imported late: the KB commands must not need them)."""
    from exoresist.biomarkers.errors import BiomarkerError
    from exoresist.cohort.arms import TrialError
    from exoresist.cohort.population import PopulationError
    from exoresist.model.api import ParameterError
    from exoresist.model.assemble import AssemblyError
    from exoresist.model.spec import SpecError

    errors: list[type[Exception]] = [ParameterError, AssemblyError, SpecError, TrialError, PopulationError, BiomarkerError]
    try:
        from exoresist.ode import SimulationInputError

        errors.append(SimulationInputError)
    except ImportError:  # pragma: no cover - the engine ships with the package
        pass
    return tuple(errors)


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, so a reader never sees half a file."""
    write_text(path, text)


def write_or_check(text: str, output: Path | None, check: bool, how: str) -> None:
    """Print ``text``, or write it to ``output`` atomically, or with ``check`` exit 1 if ``output``
    differs from it (generated files must match what the code generates)."""
    if output is None:
        typer.echo(text, nl=False)
    elif check:
        if not output.exists() or output.read_text(encoding="utf-8") != text:
            console.print(f"[red]{output} is out of date[/red]: regenerate it with '{how} {output}'", highlight=False)
            raise typer.Exit(1)
        console.print(f"{output} is up to date", highlight=False)
    else:
        atomic_write(output, text)
        console.print(f"wrote {output}", highlight=False)
