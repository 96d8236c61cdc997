"""``exoresist kb ...``: thin commands over :mod:`exoresist.kb`. No logic of its own lives here."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from exoresist.cli.common import (
    HYPOTHESES_DEFAULT,
    HYPOTHESES_HELP,
    DbOpt,
    DbWriteOpt,
    RecordsOpt,
    StandaloneOpt,
    atomic_write,
    console,
    err_console,
    fail_on_errors,
    load_kb_for,
    output_file_option,
    write_or_check,
)
from exoresist.kb import KnowledgeBase, evidence_grades_text, load_kb
from exoresist.kb.base import EXPORT_COLUMNS, flat_row, record_row
from exoresist.kb.browse import record_detail
from exoresist.kb.errors import KBValidationError
from exoresist.kb.fmt import format_files
from exoresist.kb.loader import parse_records, validate_files, yaml_files
from exoresist.kb.reports import coverage_markdown, json_schema_text, stats
from exoresist.kb.xrefs import Unresolved, Xref, resolve
from exoresist.tabular import delimited

app = typer.Typer(help="The curated knowledge base: validate, build, query, export.", no_args_is_help=True)


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


def _load(
    db: str | None, records: list[Path] | None = None, standalone: bool = False
) -> tuple[KnowledgeBase, list[Xref], list[Unresolved]]:
    """The KB from a built store when ``--db`` is given, else from the shipped YAML records; plus
    the user's ``--records``."""
    if db is not None and not records:
        from exoresist.kb.store import open_kb  # SQLAlchemy, only with --db

        opened = open_kb(db)
        return opened.kb, opened.xrefs, opened.unresolved
    kb = load_kb_for(records, standalone, db)
    xrefs, unresolved = resolve(kb)
    return kb, xrefs, unresolved


@app.command()
@fail_on_errors
def validate(
    paths: Annotated[list[Path] | None, typer.Argument(help="YAML files or folders (default: the shipped records).")] = None,
    standalone: Annotated[
        bool, typer.Option("--standalone", help="Check the files on their own, not against the shipped KB.")
    ] = False,
) -> None:
    """Validate records: YAML syntax, schema, vocabularies, references, identifier patterns.

    New files are checked against the shipped KB by default (their names, therapies and references
    may point to shipped records; an id that repeats a shipped one is a duplicate). Every problem
    is reported in one pass. Nothing is written.
    """
    result = validate_files(paths, standalone=standalone)
    against = f", checked against the shipped KB ({result.against} records)" if result.against else ""
    console.print(
        f"[green]ok[/green]: {len(result.records)} record(s) in {len(result.files)} file(s) are valid{against}", highlight=False
    )


@app.command()
@fail_on_errors
def build(db: DbWriteOpt = None, records: RecordsOpt = None, standalone: StandaloneOpt = False) -> None:
    """Validate the shipped records (and --records), resolve identifiers and write the store (atomically)."""
    from exoresist.kb.store import build_resolved_store

    info, xrefs, unresolved = build_resolved_store(load_kb_for(records, standalone), db)
    console.print(
        f"built KB {info.kb_version} ({info.n_records} records, hash {info.content_hash[:12]}) "
        f"at {info.url}; {len(xrefs)} identifiers resolved, {len(unresolved)} names unresolved"
    )


@app.command(
    help="Mechanism records matching every filter. Names match by alias, brand, class and subtype "
    "(--therapy immunotherapy covers anti-PD-1 and its drugs; --donor macrophage covers M2 macrophages; "
    "see 'exoresist names'); an unknown name is an error with suggestions. "
    f"{HYPOTHESES_DEFAULT} Evidence grades: {evidence_grades_text()}."
)
@fail_on_errors
def query(
    cargo: Annotated[str | None, typer.Option(help="Cargo name, alias or miRBase form (hsa-miR-21-5p).")] = None,
    cargo_class: Annotated[str | None, typer.Option("--cargo-class", help="miRNA, circRNA, lncRNA, protein, ...")] = None,
    therapy: Annotated[str | None, typer.Option(help="Drug, alias, brand or class (anti-PD-1 covers nivolumab).")] = None,
    phenotype: Annotated[str | None, typer.Option(help="e.g. stemness, drug_efflux, EMT.")] = None,
    donor: Annotated[str | None, typer.Option(help="Donor cell type or a parent type (macrophage, MSC, CAF, TAM).")] = None,
    recipient: Annotated[str | None, typer.Option(help="Recipient cell type or a parent type.")] = None,
    evidence: Annotated[str | None, typer.Option(help="in_vitro, in_vivo or patient_samples (clinical).")] = None,
    grade: Annotated[str | None, typer.Option(help="Evidence grade A, B, C or D.")] = None,
    include_hypotheses: Annotated[bool, typer.Option("--include-hypotheses", help=HYPOTHESES_HELP)] = False,
    fmt: Annotated[QueryFormat, typer.Option("--format")] = QueryFormat.table,
    db: DbOpt = None,
    records: RecordsOpt = None,
    standalone: StandaloneOpt = False,
) -> None:
    kb = load_kb_for(records, standalone, db)
    result = kb.search(
        cargo=cargo,
        cargo_class=cargo_class,
        therapy=therapy,
        phenotype=phenotype,
        donor=donor,
        recipient=recipient,
        evidence=evidence,
        grade=grade,
        include_hypotheses=include_hypotheses,
    )
    for note in result.notes():
        err_console.print(f"note: {note}", highlight=False, markup=False)
    found = list(result.records)
    if fmt is QueryFormat.json:
        typer.echo(json.dumps([record_row(kb, m) for m in found], indent=2, ensure_ascii=False))
    elif fmt is QueryFormat.csv:
        typer.echo(delimited([flat_row(kb, m) for m in found], ",", EXPORT_COLUMNS), nl=False)
    else:
        table = Table(title=f"{len(found)} record(s)", show_lines=False)
        table.add_column("id", no_wrap=True)
        for col in ("cargo", "donor", "therapies", "phenotypes", "grade"):
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
    reason = result.empty_reason()
    if reason:
        err_console.print(f"note: {reason}", highlight=False, markup=False)
    elif result.hypotheses_hint():
        err_console.print(f"note: {result.hypotheses_hint()}", highlight=False, markup=False)


@app.command()
@fail_on_errors
def show(
    record_id: Annotated[str, typer.Argument(help="Record id, e.g. mech:circuhrf1-nk-tim3.")],
    db: DbOpt = None,
    records: RecordsOpt = None,
    standalone: StandaloneOpt = False,
) -> None:
    """One record, in full, with its resolved identifiers."""
    kb, xrefs, unresolved = _load(db, records, standalone)
    typer.echo(json.dumps(record_detail(kb, xrefs, unresolved, record_id), indent=2, ensure_ascii=False))


@app.command("stats")
@fail_on_errors
def stats_cmd(
    fmt: Annotated[TextFormat, typer.Option("--format")] = TextFormat.text,
    db: DbOpt = None,
    records: RecordsOpt = None,
    standalone: StandaloneOpt = False,
) -> None:
    """Counts by kind, cargo class, therapy and phenotype; Table 1 by cargo class; unresolved names."""
    kb, xrefs, unresolved = _load(db, records, standalone)
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
    table.add_column("record", no_wrap=True)
    for col in ("name", "wanted", "reason"):
        table.add_column(col, overflow="fold")
    for u in s["unresolved"]:
        table.add_row(u["record_id"], u["name"], u["wanted"], u["reason"])
    console.print(table)


@app.command()
@fail_on_errors
def export(
    fmt: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.jsonl,
    output: Annotated[Path | None, output_file_option("-o", "--output", help="File to write (default: standard output).")] = None,
    db: DbOpt = None,
    records: RecordsOpt = None,
    standalone: StandaloneOpt = False,
) -> None:
    """Every record. JSONL: one record per line with the common columns and the full record."""
    kb = load_kb_for(records, standalone, db)
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
    output: Annotated[Path | None, output_file_option("-o", "--output", help="Write here (e.g. docs/coverage.md).")] = None,
    check: Annotated[bool, typer.Option(help="Exit non-zero if OUTPUT differs from what the KB generates.")] = False,
) -> None:
    """The map from each section of the review to its record ids (docs/coverage.md)."""
    text = coverage_markdown(load_kb())
    write_or_check(text, output, check, "exoresist kb coverage -o")


@app.command()
@fail_on_errors
def schema(
    output: Annotated[Path | None, output_file_option("-o", "--output", help="Write here.")] = None,
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
