"""What every CLI command shares: the consoles, error reporting, atomic writes and the scenario options."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console

from exoresist.atomic import DiskFullError, disk_full_error, is_disk_full, write_text
from exoresist.kb.errors import KBValidationError, UnknownNameError
from exoresist.kb.store import StoreError

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


# The scenario options of the model commands (``simulate``, ``model show``, ``model export-sbml``),
# declared once; each command gives the default.
ContextOpt = Annotated[ContextChoice, typer.Option("--context", help="culture, mouse (nude xenograft) or patient.")]
TherapyOpt = Annotated[
    list[str] | None, typer.Option("--therapy", help="Therapy name, alias or regimen (atezolizumab+bevacizumab); repeatable.")
]
InterventionOpt = Annotated[
    list[str] | None,
    typer.Option("--intervention", help="Intervention id, name or short form (secretion-blockade, anti-pigr); repeatable."),
]
KnockoutOpt = Annotated[
    list[str] | None, typer.Option("--knockout", help="Record id to switch off, or a cargo name (all its records); repeatable.")
]
DaysOpt = Annotated[float, typer.Option("--days", min=0.001, help="Simulated days.")]
HypoOpt = Annotated[bool, typer.Option("--include-hypotheses", help="Let hypothesis records act too.")]
ParamOpt = Annotated[list[str] | None, typer.Option("--param", help="NAME=VALUE override; repeatable.")]

P = ParamSpec("P")
R = TypeVar("R")


def fail_on_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the library's user-facing errors into a clear message on stderr and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except KBValidationError as exc:
            err_console.print(f"[red]error[/red]: {len(exc.issues)} problem(s) found; nothing was written", highlight=False)
            for issue in exc.issues:
                err_console.print(f"  - {issue}", highlight=False, markup=False)
            raise typer.Exit(1) from None
        except KeyboardInterrupt as exc:  # Ctrl-C: one line (a run's says what it kept), exit 130
            err_console.print(str(exc) or "interrupted", highlight=False, markup=False)
            raise typer.Exit(130) from None
        except OSError as exc:
            if not is_disk_full(exc):
                raise
            full = exc if isinstance(exc, DiskFullError) else disk_full_error(Path(exc.filename or "."))
            err_console.print(f"[red]error[/red]: {full.strerror}", highlight=False)
            raise typer.Exit(1) from None
        except Exception as exc:
            if not isinstance(exc, (UnknownNameError, StoreError, *_model_errors())):
                raise
            err_console.print(f"[red]error[/red]: {exc}", highlight=False)
            raise typer.Exit(1) from None

    return wrapper


def _model_errors() -> tuple[type[Exception], ...]:
    """User-facing errors of the model stages (imported late: the KB commands must not need them)."""
    from exoresist.cohort.population import PopulationError
    from exoresist.cohort.trial import TrialError
    from exoresist.model.api import ParameterError
    from exoresist.model.assemble import AssemblyError
    from exoresist.model.spec import SpecError

    errors: list[type[Exception]] = [ParameterError, AssemblyError, SpecError, TrialError, PopulationError]
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
