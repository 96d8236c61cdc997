"""``exoresist names``: every name, alias and class the commands accept, or what one name means."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from exoresist.cli.common import DbOpt, RecordsOpt, StandaloneOpt, TableOrJson, console, fail_on_errors, load_kb_for
from exoresist.kb.names import NameKind

KindChoice = StrEnum("KindChoice", {k.name.lower(): k.value for k in NameKind})  # type: ignore[misc]


@fail_on_errors
def names_command(
    query: Annotated[str | None, typer.Argument(help="A name to look up (every kind it means); leave out to list all.")] = None,
    kind: Annotated[KindChoice | None, typer.Option("--kind", help="Only names of this kind.")] = None,
    fmt: Annotated[TableOrJson, typer.Option("--format")] = TableOrJson.table,
    records: RecordsOpt = None,
    standalone: StandaloneOpt = False,
    db: DbOpt = None,
) -> None:
    """Every name, alias, brand and class the commands accept, with its source and what it expands
    to (a class covers its sub-classes and drugs; a parent cell type its subtypes) - or, given a
    NAME, what it resolves to in each kind."""
    kb = load_kb_for(records, standalone, db)
    kind_value = NameKind(kind.value) if kind is not None else None
    if query is not None:
        found = [kb.names.resolve(query, kind_value)] if kind_value is not None else kb.names.lookup(query)
        if fmt is TableOrJson.json:
            typer.echo(json.dumps([r.to_dict() for r in found], indent=2, ensure_ascii=False))
        else:
            for r in found:
                console.print(r.describe(), highlight=False, markup=False)
        return
    entries = kb.names.entries(kind_value)
    if fmt is TableOrJson.json:
        typer.echo(json.dumps([e.to_dict() for e in entries], indent=2, ensure_ascii=False))
        return
    table = Table(title=f"{len(entries)} name(s)" + (f" of kind {kind_value.value}" if kind_value else ""), title_justify="left")
    table.add_column("kind", no_wrap=True)
    table.add_column("id", no_wrap=True)
    for col in ("name", "also accepted (brand names and compounds with their source)", "expands to", "note"):
        table.add_column(col, overflow="fold")
    for e in entries:
        syns = "; ".join(
            s.text if s.via == "alias" else f"{s.text} ({s.via}{': ' + s.source if s.source else ''})"
            for s in e.synonyms
            if s.via not in ("id", "name", "label")
        )
        covers = [
            kb.names._label(i) for i in e.expands_to if i != e.id and not (e.id.startswith("ther:") and i.startswith("class:"))
        ]
        table.add_row(e.kind.value, e.id, e.name, syns, ", ".join(covers), e.note or ("" if e.in_kb else "not in the KB"))
    console.print(table)
