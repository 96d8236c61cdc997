"""``exoresist experiments run``: replay the review's experiments and print pass/fail per claim."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from exoresist.cli.common import RecordsOpt, StandaloneOpt, TableOrJson, console, err_console, fail_on_errors, load_kb_for

app = typer.Typer(help="In-silico replays of the review's experiments.", no_args_is_help=True)


@app.command()
@fail_on_errors
def run(
    fmt: Annotated[TableOrJson, typer.Option("--format")] = TableOrJson.table,
    record: Annotated[list[str] | None, typer.Option("--record", help="Only the claims of these record ids; repeatable.")] = None,
    specificity: Annotated[
        bool, typer.Option("--specificity/--no-specificity", help="Also run the knockout specificity checks.")
    ] = True,
    records: RecordsOpt = None,
    standalone: StandaloneOpt = False,
) -> None:
    """Every experimental claim: record, protocol, expected direction, simulated effect, pass/fail,
    and the published magnitude (where the primary study states one) with the replay's value beside it."""
    from exoresist.experiments import TOLERANCE, claims, magnitude_checks, run_claims, specificity_checks

    kb = load_kb_for(records, standalone)
    selected = claims(kb)
    if record:
        unknown = [r for r in record if r not in kb.by_id]
        if unknown:
            kb.get(unknown[0])  # raises UnknownNameError with suggestions
        selected = [c for c in selected if c.record_id in set(record)]
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("replaying", total=len(selected))

        def step(claim: object) -> None:
            bar.advance(task)

        outcomes = run_claims(kb, selected, progress=step)
    checks = specificity_checks(kb) if specificity and not record else []
    sizes = magnitude_checks(kb, outcomes)
    rows: list[dict[str, Any]] = [
        {
            "record_id": o.claim.record_id,
            "protocol": o.claim.protocol,
            "therapy": o.claim.therapy,
            "expected": o.claim.expected,
            "effect": o.effect,
            "passed": o.passed,
            "detail": o.detail,
            "magnitude_status": m.status,
            "published": m.published,
            "simulated": m.simulated,
            "within_tolerance": m.within_tolerance,
            "magnitude_note": m.note,
        }
        for o, m in zip(outcomes, sizes, strict=True)
    ]
    spec_rows: list[dict[str, Any]] = [
        {"record_id": o.claim.record_id, "passed": o.passed, "detail": o.detail, **o.values} for o in checks
    ]
    n_pass = sum(r["passed"] for r in rows)
    n_published = sum(r["published"] is not None for r in rows)
    n_within = sum(r["within_tolerance"] is True for r in rows)
    if fmt is TableOrJson.json:
        summary = {"passed": n_pass, "total": len(rows), "published": n_published, "within_tolerance": n_within}
        typer.echo(json.dumps({"claims": rows, "specificity": spec_rows, **summary, "tolerance": TOLERANCE}, indent=2))
    else:
        title = (
            f"{n_pass} of {len(rows)} claims reproduced in direction; {n_published} with a published magnitude, "
            f"{n_within} of them within tolerance ({TOLERANCE})"
        )
        table = Table(title=title, title_justify="left")
        for col in ("record", "protocol", "therapy", "expected", "effect", "result", "published", "detail"):
            table.add_column(col, no_wrap=col == "record", overflow="fold")
        for r in rows:
            table.add_row(
                str(r["record_id"]),
                str(r["protocol"]),
                str(r["therapy"] or "-"),
                str(r["expected"]),
                f"{r['effect']:+.4g}",
                "[green]pass[/green]" if r["passed"] else "[red]FAIL[/red]",
                _published_cell(r),
                str(r["detail"]),
            )
        console.print(table)
        if spec_rows:
            st = Table(title="specificity: knockout changes linked drugs, not others", title_justify="left")
            for col in ("record", "result", "detail"):
                st.add_column(col, no_wrap=col == "record", overflow="fold")
            for r in spec_rows:
                st.add_row(str(r["record_id"]), "[green]pass[/green]" if r["passed"] else "[red]FAIL[/red]", str(r["detail"]))
            console.print(st)
    if n_pass < len(rows) or not all(r["passed"] for r in spec_rows):
        raise typer.Exit(1)


_NO_MAGNITUDE = {None: "not searched", "no_number_stated": "none stated", "study_not_found": "study not found"}


def _published_cell(row: dict[str, Any]) -> str:
    """The 'published' column: the study's number and the replay's beside it, or why there is none."""
    pub = row["published"]
    if pub is None:
        return _NO_MAGNITUDE.get(row["magnitude_status"], "none for this setting")
    text = f"{pub['value']:.3g} {pub['unit']} ({pub['readout']})"
    if row["simulated"] is None:
        return f"{text}; not simulated"
    verdict = "[green]within x2[/green]" if row["within_tolerance"] else "[red]outside x2[/red]"
    return f"{text}; model {row['simulated']:.3g}, {verdict}"
