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
    RecordsOpt,
    StandaloneOpt,
    TherapyOpt,
    console,
    err_console,
    fail_on_errors,
    load_kb_for,
    output_file_option,
    write_or_check,
)
from exoresist.kb import KnowledgeBase
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
    records: list[Path] | None = None,
    standalone: bool = False,
) -> ModelSpec:
    """Load the KB once (with the user's --records) and assemble the scenario the options describe."""
    kb, scenario = _scenario(context, therapy, intervention, knockout, days, hypotheses, records, standalone)
    return build_model(kb, scenario)


def _scenario(
    context: ContextChoice,
    therapy: list[str] | None,
    intervention: list[str] | None,
    knockout: list[str] | None,
    days: float,
    hypotheses: bool,
    records: list[Path] | None = None,
    standalone: bool = False,
) -> tuple[KnowledgeBase, Scenario]:
    """The KB (with the user's --records) and the scenario of the options; a note for every name
    that was not taken literally (a brand, class or miRBase form)."""
    kb = load_kb_for(records, standalone)
    for kind, names in (("therapy", therapy or []), ("intervention", intervention or [])):
        for name in names:
            if kind == "therapy" and "+" in name:
                continue  # a regimen written with '+': its parts are resolved by the model
            resolved = kb.names.resolve(name, kind)
            if resolved.via not in ("name", "id", "label"):
                err_console.print(f"note: --{kind} {resolved.describe()}", highlight=False, markup=False)
    return kb, make_scenario(
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
    records: RecordsOpt = None,
    standalone: StandaloneOpt = False,
) -> None:
    """Species, processes, parameters and events of a scenario's model, each with its records."""
    spec = _model(context, therapy, intervention, knockout, days, include_hypotheses, records, standalone)
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
            table.add_column(c, no_wrap=c == "name", overflow="fold")
        for row in rows:
            table.add_row(*(", ".join(row[c]) if isinstance(row[c], list) else str(row[c]) for c in cols))
        console.print(table)
    for note in spec.notes:
        console.print(f"note: {note}", highlight=False)


@app.command("export-sbml")
@fail_on_errors
def export_sbml(
    output: Annotated[Path, output_file_option("-o", "--output", help="SBML file to write.")],
    context: ContextOpt = ContextChoice.patient,
    therapy: TherapyOpt = None,
    intervention: InterventionOpt = None,
    knockout: KnockoutOpt = None,
    days: DaysOpt = 365.0,
    include_hypotheses: HypoOpt = False,
    param: ParamOpt = None,
    records: RecordsOpt = None,
    standalone: StandaloneOpt = False,
) -> None:
    """SBML Level 3 core of a scenario's model, with units and dosing as events."""
    from exoresist.model.sbml import write_sbml

    spec = _model(context, therapy, intervention, knockout, days, include_hypotheses, records, standalone)
    values = parameters_with_overrides(spec, parse_overrides(param or []))[0]
    write_sbml(spec, output, dict(zip(spec.parameter_names, values.tolist(), strict=True)))
    console.print(
        f"wrote {output} ({len(spec.species)} species, {len(spec.reactions)} reactions, {len(spec.events)} events)",
        highlight=False,
    )


@app.command()
@fail_on_errors
def parameters(
    output: Annotated[Path | None, output_file_option("-o", "--output", help="Write here (docs/parameters.md).")] = None,
    check: Annotated[bool, typer.Option(help="Exit non-zero if OUTPUT is out of date.")] = False,
    records: RecordsOpt = None,
    standalone: StandaloneOpt = False,
) -> None:
    """The parameter table (unit, default, prior, source), as Markdown; with --records, also the
    strength parameters that your mechanism records add."""
    kb = load_kb_for(records, standalone) if records else None
    added = [r.id for r in kb.added_records()] if kb is not None else []
    write_or_check(parameter_table_markdown(kb, added), output, check, "exoresist model parameters -o")


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
    records: RecordsOpt = None,
    standalone: StandaloneOpt = False,
) -> None:
    """Simulate one scenario and print tumour cells by state, volume, diameter and drug exposure."""
    from exoresist.ode.summary import IntegrationError, simulate_scenario

    kb, scenario = _scenario(context, therapy, intervention, knockout, days, include_hypotheses, records, standalone)
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
