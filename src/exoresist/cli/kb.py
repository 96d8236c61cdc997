"""``exoresist kb ...``: thin commands over :mod:`exoresist.kb`. No logic of its own lives here."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from exoresist.cli.common import atomic_write, console, fail_on_errors, write_or_check
from exoresist.kb import KnowledgeBase, load_kb
from exoresist.kb.base import EXPORT_COLUMNS, flat_row, record_row
from exoresist.kb.browse import record_detail
from exoresist.kb.errors import KBValidationError
from exoresist.kb.fmt import format_files
from exoresist.kb.loader import load_validated, parse_records, yaml_files
from exoresist.kb.reports import coverage_markdown, json_schema_text, stats
from exoresist.kb.store import build_resolved_store, open_kb
from exoresist.kb.xrefs import Unresolved, Xref
from exoresist.tabular import delimited

app = typer.Typer(help="The curated knowledge base: validate, build, query, export.", no_args_is_help=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="SQLAlchemy URL of a built store (default for build: $EXORESIST_DB or sqlite:///exoresist-kb.sqlite)."
    ),
]


class QueryFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    json = "json"
    csv = "csv"
    tsv = "tsv"


class TextFormat(StrEnum):
    text = "text"
    json = "json"


def _load(db: str | None) -> tuple[KnowledgeBase, list[Xref], list[Unresolved]]:
    """The KB from a built store when ``--db`` is given, else from the shipped YAML records."""
    opened = open_kb(db)
    return opened.kb, opened.xrefs, opened.unresolved


@app.command()
@fail_on_errors
def validate(
    paths: Annotated[list[Path] | None, typer.Argument(help="YAML files or folders (default: the shipped records).")] = None,
) -> None:
    """Validate curated records: YAML syntax, schema, vocabularies, references, identifier patterns."""
    files = yaml_files(paths)
    records = load_validated(files)
    console.print(f"[green]ok[/green]: {len(records)} records in {len(files)} file(s) are valid")


@app.command()
@fail_on_errors
def build(db: DbOption = None) -> None:
    """Validate the shipped records, resolve identifiers and write the store (atomically)."""
    info, xrefs, unresolved = build_resolved_store(load_kb(), db)
    console.print(
        f"built KB {info.kb_version} ({info.n_records} records, hash {info.content_hash[:12]}) "
        f"at {info.url}; {len(xrefs)} identifiers resolved, {len(unresolved)} names unresolved"
    )


@app.command()
@fail_on_errors
def query(
    cargo: Annotated[str | None, typer.Option(help="Cargo name or alias (case-insensitive).")] = None,
    cargo_class: Annotated[str | None, typer.Option("--cargo-class", help="miRNA, circRNA, lncRNA, protein, ...")] = None,
    therapy: Annotated[str | None, typer.Option(help="Drug, alias or class (anti-PD-1 covers nivolumab).")] = None,
    phenotype: Annotated[str | None, typer.Option(help="e.g. stemness, drug_efflux.")] = None,
    donor: Annotated[str | None, typer.Option(help="Donor cell type, e.g. hcc_cell.")] = None,
    recipient: Annotated[str | None, typer.Option(help="Recipient cell type.")] = None,
    evidence: Annotated[str | None, typer.Option(help="in_vitro, in_vivo or patient_samples.")] = None,
    grade: Annotated[str | None, typer.Option(help="Evidence grade A, B, C or D.")] = None,
    fmt: Annotated[QueryFormat, typer.Option("--format")] = QueryFormat.table,
    db: DbOption = None,
) -> None:
    """Mechanism and hypothesis records matching every filter."""
    kb, _, _ = _load(db)
    found = kb.query(
        cargo=cargo,
        cargo_class=cargo_class,
        therapy=therapy,
        phenotype=phenotype,
        donor=donor,
        recipient=recipient,
        evidence=evidence,
        grade=grade,
    )
    if fmt is QueryFormat.json:
        typer.echo(json.dumps([record_row(kb, m) for m in found], indent=2, ensure_ascii=False))
    elif fmt is QueryFormat.csv:
        typer.echo(delimited([flat_row(kb, m) for m in found], ",", EXPORT_COLUMNS), nl=False)
    else:
        table = Table(title=f"{len(found)} record(s)", show_lines=False)
        for col in ("id", "cargo", "donor", "therapies", "phenotypes", "grade"):
            table.add_column(col, overflow="fold")
        for m in found:
            table.add_row(
                m.id,
                m.cargo,
                ", ".join(c.value for c in m.donor_cells),
                ", ".join(
                    f"{t.therapy}{'' if t.direction.value == 'promotes_resistance' else ' (sensitises)'}" for t in m.therapies
                ),
                ", ".join(p.value for p in m.phenotypes),
                m.evidence_grade.value,
            )
        console.print(table)


@app.command()
@fail_on_errors
def show(record_id: Annotated[str, typer.Argument(help="Record id, e.g. mech:circuhrf1-nk-tim3.")], db: DbOption = None) -> None:
    """One record, in full, with its resolved identifiers."""
    kb, xrefs, unresolved = _load(db)
    typer.echo(json.dumps(record_detail(kb, xrefs, unresolved, record_id), indent=2, ensure_ascii=False))


@app.command("stats")
@fail_on_errors
def stats_cmd(fmt: Annotated[TextFormat, typer.Option("--format")] = TextFormat.text, db: DbOption = None) -> None:
    """Counts by kind, cargo class, therapy and phenotype; Table 1 by cargo class; unresolved names."""
    kb, xrefs, unresolved = _load(db)
    s = stats(kb, xrefs, unresolved)
    if fmt is TextFormat.json:
        typer.echo(json.dumps(s, indent=2, ensure_ascii=False))
        return
    console.print(f"[bold]exoresist KB {s['kb_version']}[/bold]  {s['records']} records  hash {s['content_hash'][:12]}")
    for title, key in (
        ("records by kind", "by_kind"),
        ("mechanisms by cargo class", "by_cargo_class"),
        (f"Table 1 ({s['table1_rows']} rows) by cargo class", "table1_by_cargo_class"),
        ("mechanisms by therapy", "by_therapy"),
        ("mechanisms by phenotype", "by_phenotype"),
    ):
        table = Table(title=title, title_justify="left")
        table.add_column("term")
        table.add_column("n", justify="right")
        for k, v in s[key].items():
            table.add_row(k, str(v))
        console.print(table)
    console.print(f"identifiers resolved: {s['identifiers_resolved']}")
    table = Table(title=f"unresolved names ({len(s['unresolved'])})", title_justify="left")
    for col in ("record", "name", "wanted", "reason"):
        table.add_column(col, overflow="fold")
    for u in s["unresolved"]:
        table.add_row(u["record_id"], u["name"], u["wanted"], u["reason"])
    console.print(table)


@app.command()
@fail_on_errors
def export(
    fmt: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.jsonl,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File to write (default: standard output).")] = None,
    db: DbOption = None,
) -> None:
    """Every record. JSONL: one record per line with the common columns and the full record."""
    kb, _, _ = _load(db)
    if fmt is ExportFormat.jsonl:
        text = "".join(json.dumps(record_row(kb, r), ensure_ascii=False) + "\n" for r in kb.records)
    elif fmt is ExportFormat.json:
        text = json.dumps([record_row(kb, r) for r in kb.records], indent=2, ensure_ascii=False) + "\n"
    else:
        text = delimited([flat_row(kb, r) for r in kb.records], "," if fmt is ExportFormat.csv else "\t", EXPORT_COLUMNS)
    if output is None:
        typer.echo(text, nl=False)
    else:
        atomic_write(output, text)
        console.print(f"wrote {len(kb)} records to {output}", highlight=False)


@app.command()
@fail_on_errors
def coverage(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write here (e.g. docs/coverage.md).")] = None,
    check: Annotated[bool, typer.Option(help="Exit non-zero if OUTPUT differs from what the KB generates.")] = False,
) -> None:
    """The map from each section of the review to its record ids (docs/coverage.md)."""
    text = coverage_markdown(load_kb())
    write_or_check(text, output, check, "exoresist kb coverage -o")


@app.command()
@fail_on_errors
def schema(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write here.")] = None,
    check: Annotated[bool, typer.Option(help="Exit non-zero if OUTPUT differs from the models' schema.")] = False,
) -> None:
    """The JSON schema of the curated records, generated from the pydantic models."""
    write_or_check(json_schema_text(), output, check, "exoresist kb schema -o")


@app.command("format")
@fail_on_errors
def format_cmd(
    paths: Annotated[list[Path] | None, typer.Argument(help="YAML files or folders (default: the shipped records).")] = None,
    check: Annotated[bool, typer.Option(help="Only report files that are not in canonical form.")] = False,
) -> None:
    """Rewrite curated YAML into its canonical formatting (each record's shape is validated first)."""
    files = yaml_files(paths)
    _, issues = parse_records(files)
    if issues:
        raise KBValidationError(issues)
    changed = format_files(files, check=check)
    for f in changed:
        console.print(f"{'would reformat' if check else 'reformatted'} {f}", highlight=False)
    if check and changed:
        raise typer.Exit(1)
    console.print(f"{len(files) - len(changed)} file(s) already canonical", highlight=False)
