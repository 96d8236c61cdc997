"""``exoresist graph ...``: thin commands over :mod:`exoresist.graph`. No logic of its own lives here."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer

from exoresist.cli.common import (
    DbOpt,
    HypoOpt,
    RecordsOpt,
    StandaloneOpt,
    console,
    err_console,
    fail_on_errors,
    load_kb_for,
    output_file_option,
)
from exoresist.graph import (
    EXPORTERS,
    GraphError,
    MechanismGraph,
    build_graph,
    compare,
    explain,
    export_graph,
    routes,
    targets,
)
from exoresist.graph.errors import UnknownFormatError
from exoresist.graph.hints import answer
from exoresist.graph.style import FIGURE_FORMATS
from exoresist.kb import KnowledgeBase

app = typer.Typer(help="The signed mechanism graph: explain, routes, targets, compare, export, draw.", no_args_is_help=True)

P = ParamSpec("P")
R = TypeVar("R")


class OutFormat(StrEnum):
    text = "text"
    json = "json"


ExportFormat = StrEnum("ExportFormat", {name.replace("-", "_"): name for name in EXPORTERS})  # type: ignore[misc]

RecordsOption = RecordsOpt
DbOption = DbOpt
HypOption = HypoOpt
FormatOption = Annotated[OutFormat, typer.Option("--format")]


def _graph_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Graph errors (no route, unsupported export) as a clear message and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except GraphError as exc:
            err_console.print(f"[red]error[/red]: {exc}", highlight=False)
            raise typer.Exit(1) from None

    return wrapper


def _kb(records: list[Path] | None, db: str | None, standalone: bool) -> KnowledgeBase:
    """The KB of ``db`` (a built store) or the shipped records, plus ``--records``."""
    kb: KnowledgeBase = load_kb_for(records, standalone, db)
    return kb


def _notes(kb: KnowledgeBase, **names: str | list[str] | None) -> None:
    """Say how a name was read when it was not taken literally (a class expanded, a brand, a miRBase form)."""
    for option, value in names.items():
        for name in [value] if isinstance(value, str) else value or []:
            resolved = kb.names.resolve(name, option)
            if resolved.expanded or resolved.notes or resolved.via not in ("name", "id", "label"):
                err_console.print(f"note: --{option} {resolved.describe()}", highlight=False, markup=False)


def _graph(
    records: list[Path] | None, include_hypotheses: bool, db: str | None = None, standalone: bool = False
) -> MechanismGraph:
    """The graph of that KB."""
    return build_graph(_kb(records, db, standalone), include_hypotheses=include_hypotheses)


def _emit(result: Any, fmt: OutFormat) -> None:
    if fmt is OutFormat.json:
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        typer.echo(result.text())


@app.command("explain")
@fail_on_errors
@_graph_errors
def explain_cmd(
    cargo: Annotated[str, typer.Option(help="Cargo name or alias, e.g. circCCAR1.")],
    therapy: Annotated[str, typer.Option(help="Drug, alias or class (anti-PD-1 covers nivolumab).")],
    fmt: FormatOption = OutFormat.text,
    records: RecordsOption = None,
    db: DbOption = None,
    include_hypotheses: HypOption = False,
    standalone: StandaloneOpt = False,
) -> None:
    """Every route from a cargo (or its donor cell) to a therapy: net sign, steps, records, weakest evidence."""
    kb = _kb(records, db, standalone)
    _notes(kb, cargo=cargo, therapy=therapy)  # a name of another kind (an intervention target, ...) fails here
    _emit(answer(kb, include_hypotheses, lambda mg: explain(mg, cargo=cargo, therapy=therapy)), fmt)


@app.command("routes")
@fail_on_errors
@_graph_errors
def routes_cmd(
    therapy: Annotated[str, typer.Option(help="Drug, alias or class.")],
    fmt: FormatOption = OutFormat.text,
    records: RecordsOption = None,
    db: DbOption = None,
    include_hypotheses: HypOption = False,
    standalone: StandaloneOpt = False,
) -> None:
    """All cargos and mechanisms that confer resistance to a therapy, by phenotype and by donor cell."""
    kb = _kb(records, db, standalone)
    _notes(kb, therapy=therapy)
    _emit(answer(kb, include_hypotheses, lambda mg: routes(mg, therapy=therapy)), fmt)


@app.command("targets")
@fail_on_errors
@_graph_errors
def targets_cmd(
    therapy: Annotated[str, typer.Option(help="Drug, alias or class.")],
    top: Annotated[int | None, typer.Option(min=1, help="Show only the best K nodes and interventions.")] = None,
    fmt: FormatOption = OutFormat.text,
    records: RecordsOption = None,
    db: DbOption = None,
    include_hypotheses: HypOption = False,
    standalone: StandaloneOpt = False,
) -> None:
    """Nodes and interventions ranked by the share of resistance routes they cut, with the minimum vertex cut."""
    kb = _kb(records, db, standalone)
    _notes(kb, therapy=therapy)
    _emit(answer(kb, include_hypotheses, lambda mg: targets(mg, therapy=therapy, top=top)), fmt)


@app.command("compare")
@fail_on_errors
@_graph_errors
def compare_cmd(
    therapy: Annotated[list[str], typer.Option(help="Give it twice or more: --therapy sorafenib --therapy lenvatinib.")],
    fmt: FormatOption = OutFormat.text,
    records: RecordsOption = None,
    db: DbOption = None,
    include_hypotheses: HypOption = False,
    standalone: StandaloneOpt = False,
) -> None:
    """Mechanisms, cargos and phenotypes shared by the therapies, and those specific to each."""
    if len(therapy) < 2:
        err_console.print("[red]error[/red]: give --therapy at least twice", highlight=False)
        raise typer.Exit(1)
    kb = _kb(records, db, standalone)
    _notes(kb, therapy=therapy)
    _emit(answer(kb, include_hypotheses, lambda mg: compare(mg, therapies=therapy)), fmt)


@app.command("export")
@fail_on_errors
@_graph_errors
def export_cmd(
    fmt: Annotated[ExportFormat, typer.Option("--format", help="Export format.")],
    output: Annotated[Path, output_file_option("-o", "--output", help="File to write (atomically).")],
    records: RecordsOption = None,
    db: DbOption = None,
    include_hypotheses: HypOption = False,
    standalone: StandaloneOpt = False,
) -> None:
    """Write the whole graph as GraphML, Cytoscape JSON, CX2, SBML-qual or DOT."""
    mg = _graph(records, include_hypotheses, db, standalone)
    export_graph(mg, str(fmt.value), output)
    console.print(
        f"wrote {mg.graph.number_of_nodes()} nodes and {mg.graph.number_of_edges()} edges as {fmt.value} to {output}",
        highlight=False,
    )


@app.command("draw")
@fail_on_errors
@_graph_errors
def draw_cmd(
    output: Annotated[Path, output_file_option("-o", "--output", help="Figure file: .png, .svg or .pdf.")],
    therapy: Annotated[str | None, typer.Option(help="Only the routes to this therapy.")] = None,
    cargo: Annotated[str | None, typer.Option(help="Only the routes from this cargo.")] = None,
    interventions: Annotated[bool, typer.Option("--interventions", help="Also draw interventions and what they block.")] = False,
    records: RecordsOption = None,
    db: DbOption = None,
    include_hypotheses: HypOption = False,
    standalone: StandaloneOpt = False,
) -> None:
    """A layered figure: donor cells -> cargos -> genes/pathways -> phenotypes -> therapies."""
    fmt = output.suffix.lstrip(".").lower()
    if fmt not in FIGURE_FORMATS:  # before any work
        raise UnknownFormatError(fmt or str(output), list(FIGURE_FORMATS))
    kb = _kb(records, db, standalone)
    _notes(kb, therapy=therapy, cargo=cargo)
    from exoresist.graph.draw import draw, save_figure  # loads matplotlib

    fig = answer(kb, include_hypotheses, lambda mg: draw(mg, therapy=therapy, cargo=cargo, interventions=interventions))
    save_figure(fig, output)
    console.print(f"wrote {output}", highlight=False)
