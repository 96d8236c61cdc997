"""``exoresist model ...`` and ``exoresist simulate``: thin commands over :mod:`exoresist.model`."""

from __future__ import annotations

import csv
import io
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import numpy as np
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
from exoresist.model.api import (
    Scenario,
    build_model,
    describe,
    parameter_table_markdown,
    parameters_with_overrides,
    parse_overrides,
)
from exoresist.model.assemble import knockout_ids
from exoresist.model.spec import ModelSpec

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
    kb = load_kb_for(records, standalone)
    for kind, names in (("therapy", therapy or []), ("intervention", intervention or [])):
        for name in names:
            if kind == "therapy" and "+" in name:
                continue  # a regimen written with '+': its parts are resolved by the model
            resolved = kb.names.resolve(name, kind)
            if resolved.via not in ("name", "id", "label"):
                err_console.print(f"note: --{kind} {resolved.describe()}", highlight=False, markup=False)
    scenario = Scenario(
        context=context.value,
        therapies=tuple(therapy or ()),
        interventions=tuple(intervention or ()),
        knockouts=knockout_ids(kb, knockout or []),
        days=days,
        include_hypotheses=hypotheses,
    )
    return build_model(kb, scenario)


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


SUMMARY = ("tumour_Mcells", "S", "R_total", "C", "tumour_volume_mm3", "tumour_diameter_mm")
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
    from exoresist.ode import simulate

    if days / every > 20000:
        raise typer.BadParameter("too many time points: raise --every")
    spec = _model(context, therapy, intervention, knockout, days, include_hypotheses, records, standalone)
    params = parameters_with_overrides(spec, parse_overrides(param or []))
    times = np.arange(0.0, days + 1e-9, every)
    if times[-1] < days:
        times = np.append(times, days)
    result = simulate(spec, params, t_end_day=days, t_eval_day=times)
    if not bool(result.ok[0]):
        console.print(f"[red]error[/red]: integration failed: {result.messages[0]}")
        raise typer.Exit(1)
    rows = _summary_rows(result, spec)
    if fmt is OutFormat.json:
        typer.echo(
            json.dumps({"model": spec.name, "version": spec.version, "spec_hash": result.spec_hash, "rows": rows}, indent=2)
        )
    elif fmt is OutFormat.csv:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        typer.echo(buf.getvalue(), nl=False)
    else:
        table = Table(
            title=f"{spec.name}: {', '.join([*(therapy or ['untreated']), *(intervention or [])])}", title_justify="left"
        )
        for col in rows[0]:
            table.add_column(HEADERS.get(col, col.replace("conc_", "") + " mg/L"), justify="right", no_wrap=True)
        for row in rows:
            table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row.values()))
        console.print(table)


def _summary_rows(result: Any, spec: ModelSpec) -> list[dict[str, float]]:
    derived = list(result.derived_names)
    species = list(result.species_names)
    drug_cols = [a.name for a in spec.assignments if a.name.startswith("conc_")]
    rows = []
    for k, t in enumerate(result.times_day):
        row: dict[str, float] = {"day": float(t)}
        for col in (*SUMMARY, *drug_cols):
            if col in species:
                row[col] = float(result.states[0, k, species.index(col)])
            elif col in derived:
                row[col] = float(result.derived[0, k, derived.index(col)])
        rows.append(row)
    return rows
