"""``exoresist model ...`` and ``exoresist simulate``: thin commands over :mod:`exoresist.model`."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from exoresist.cli.common import (
    ContextChoice,
    ContextOpt,
    DaysOpt,
    HypoOpt,
    InterventionOpt,
    KnockoutOpt,
    ParamOpt,
    TherapyOpt,
    console,
    fail_on_errors,
    write_or_check,
)
from exoresist.kb import KnowledgeBase, load_kb
from exoresist.model.api import (
    Scenario,
    build_model,
    describe,
    make_scenario,
    parameter_table_markdown,
    parameters_with_overrides,
    parse_overrides,
)
from exoresist.model.spec import ModelSpec
from exoresist.tabular import delimited

app = typer.Typer(help="The executable model assembled from the KB.", no_args_is_help=True)


class OutFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class ShowFormat(StrEnum):
    text = "text"
    json = "json"


def _model(
    context: ContextChoice,
    therapy: list[str] | None,
    intervention: list[str] | None,
    knockout: list[str] | None,
    days: float,
    hypotheses: bool,
) -> ModelSpec:
    """Load the KB once and assemble the scenario the options describe."""
    kb = load_kb()
    return build_model(kb, _scenario(kb, context, therapy, intervention, knockout, days, hypotheses))


def _scenario(
    kb: KnowledgeBase,
    context: ContextChoice,
    therapy: list[str] | None,
    intervention: list[str] | None,
    knockout: list[str] | None,
    days: float,
    hypotheses: bool,
) -> Scenario:
    return make_scenario(
        kb,
        context=context.value,
        therapies=therapy or (),
        interventions=intervention or (),
        knockouts=knockout or (),
        days=days,
        include_hypotheses=hypotheses,
    )


@app.command()
@fail_on_errors
def show(
    context: ContextOpt = ContextChoice.patient,
    therapy: TherapyOpt = None,
    intervention: InterventionOpt = None,
    knockout: KnockoutOpt = None,
    days: DaysOpt = 365.0,
    include_hypotheses: HypoOpt = False,
    fmt: Annotated[ShowFormat, typer.Option("--format")] = ShowFormat.text,
) -> None:
    """Species, processes, parameters and events of a scenario's model, each with its records."""
    spec = _model(context, therapy, intervention, knockout, days, include_hypotheses)
    data = describe(spec)
    if fmt is ShowFormat.json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    console.print(f"[bold]{spec.name}[/bold] v{spec.version}  hash {data['spec_hash'][:12]}")
    console.print(
        f"{len(spec.species)} species, {len(spec.reactions)} processes, {len(spec.assignments)} derived quantities, "
        f"{len(spec.parameters)} parameters, {len(spec.events)} events"
    )
    for title, rows, cols in (
        ("species", data["species"], ("name", "unit", "description", "records")),
        ("processes", data["processes"], ("name", "description", "records")),
    ):
        table = Table(title=title, title_justify="left")
        for c in cols:
            table.add_column(c, overflow="fold")
        for row in rows:
            table.add_row(*(", ".join(row[c]) if isinstance(row[c], list) else str(row[c]) for c in cols))
        console.print(table)
    for note in spec.notes:
        console.print(f"note: {note}", highlight=False)


@app.command("export-sbml")
@fail_on_errors
def export_sbml(
    output: Annotated[Path, typer.Option("-o", "--output", help="SBML file to write.")],
    context: ContextOpt = ContextChoice.patient,
    therapy: TherapyOpt = None,
    intervention: InterventionOpt = None,
    knockout: KnockoutOpt = None,
    days: DaysOpt = 365.0,
    include_hypotheses: HypoOpt = False,
    param: ParamOpt = None,
) -> None:
    """SBML Level 3 core of a scenario's model, with units and dosing as events."""
    from exoresist.model.sbml import write_sbml

    spec = _model(context, therapy, intervention, knockout, days, include_hypotheses)
    values = parameters_with_overrides(spec, parse_overrides(param or []))[0]
    write_sbml(spec, output, dict(zip(spec.parameter_names, values.tolist(), strict=True)))
    console.print(
        f"wrote {output} ({len(spec.species)} species, {len(spec.reactions)} reactions, {len(spec.events)} events)",
        highlight=False,
    )


@app.command()
@fail_on_errors
def parameters(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write here (docs/parameters.md).")] = None,
    check: Annotated[bool, typer.Option(help="Exit non-zero if OUTPUT is out of date.")] = False,
) -> None:
    """The parameter table (unit, default, prior, source), as Markdown."""
    write_or_check(parameter_table_markdown(), output, check, "exoresist model parameters -o")


HEADERS = {
    "day": "day",
    "tumour_Mcells": "tumour Mcells",
    "S": "sensitive",
    "R_total": "resistant",
    "C": "stem-like",
    "tumour_volume_mm3": "volume mm3",
    "tumour_diameter_mm": "diam. mm",
}


def simulate_command(
    context: ContextOpt = ContextChoice.patient,
    therapy: TherapyOpt = None,
    intervention: InterventionOpt = None,
    knockout: KnockoutOpt = None,
    days: DaysOpt = 365.0,
    include_hypotheses: HypoOpt = False,
    param: ParamOpt = None,
    every: Annotated[float, typer.Option("--every", min=0.001, help="Days between printed time points.")] = 7.0,
    fmt: Annotated[OutFormat, typer.Option("--format")] = OutFormat.table,
) -> None:
    """Simulate one scenario and print tumour cells by state, volume, diameter and drug exposure."""
    from exoresist.ode.summary import IntegrationError, simulate_scenario

    kb = load_kb()
    scenario = _scenario(kb, context, therapy, intervention, knockout, days, include_hypotheses)
    try:
        out = simulate_scenario(kb, scenario, parse_overrides(param or []), every=every)
    except IntegrationError as exc:
        console.print(f"[red]error[/red]: {exc}")
        raise typer.Exit(1) from None
    rows = out["rows"]
    spec_name = out["model"]
    if fmt is OutFormat.json:
        typer.echo(json.dumps(out, indent=2))
    elif fmt is OutFormat.csv:
        typer.echo(delimited(rows, ","), nl=False)
    else:
        table = Table(
            title=f"{spec_name}: {', '.join([*(therapy or ['untreated']), *(intervention or [])])}", title_justify="left"
        )
        for col in rows[0]:
            table.add_column(HEADERS.get(col, col.replace("conc_", "") + " mg/L"), justify="right", no_wrap=True)
        for row in rows:
            table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row.values()))
        console.print(table)
