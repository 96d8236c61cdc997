"""Score a user's own cohort: measured cargos per patient, a KB-derived resistance score per therapy.

Input: a CSV with one row per patient, a patient id column, one column per measured cargo (header
``name`` or ``name [unit]``), and optionally outcome columns (time in months, event 0/1, response).

- **Names** go through :func:`~exoresist.biomarkers.markers.resolve_cargo`, the KB's one name
  resolver (``hsa-`` prefix, miRBase forms, aliases; an arm the KB lacks is not guessed); an
  unknown name is an error with suggestions.
- **Scale**: ``--scale`` declares it (linear, log2, log10, ln); ``auto`` reads it from the unit
  (copies, /mL, pg, ng, fmol, counts, TPM: linear), or from negative values (log2), else takes
  linear; what was used is stated for every column. Values go to log10 for the analysis; on a
  linear scale a zero is set to half the column's smallest positive value (counted and stated).
- **Validation** (pandera, before any computation): the id column exists, ids are present and
  unique, every cargo value is a number (empty = missing), no negative value on a linear scale,
  times are numbers >= 0, events 0 or 1, responses 0/1 or RECIST categories; the table is not empty
  and at most :data:`MAX_TABLE_BYTES`. Every problem is named by row and column; nothing is written.
- **Resistance score** of patient ``i`` for therapy ``T``: ``sum_c w_c z_ic / sum_c |w_c|`` over the
  patient's measured cargos that have records for ``T``, where ``z_ic`` is the cargo's log level
  standardised over the cohort and ``w_c = sum over the cargo's mechanism records and their links to
  T of sign x grade weight`` (sign +1 for promotes resistance, -1 for sensitises; grade weights
  :data:`GRADE_WEIGHT`, assumed). Positive means the cargos the KB links to resistance against ``T``
  are high in this patient relative to the cohort. The drivers are the three largest ``|w_c z_ic|``.
  It is a prior from the literature, not a fitted model: nothing in it has seen an outcome.
- With outcome columns the cargos and the scores are evaluated as in ``biomarker evaluate``
  (one arm: C-index, time-dependent AUC, integrated Brier score, response AUC, cut-points).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from exoresist.biomarkers.errors import BiomarkerError
from exoresist.biomarkers.markers import marker_spec, resolve_cargo
from exoresist.kb import KnowledgeBase, UnknownNameError
from exoresist.kb.vocab import Direction, EvidenceGrade

MAX_TABLE_BYTES = 100 * 1024 * 1024
GRADE_WEIGHT = {EvidenceGrade.A: 1.0, EvidenceGrade.B: 0.75, EvidenceGrade.C: 0.5, EvidenceGrade.D: 0.25}
"""Weight of a record by its evidence grade (assumed: direct HCC evidence in vitro and in vivo counts most)."""
SCALES = ("auto", "linear", "log2", "log10", "ln")
LINEAR_UNITS = re.compile(r"copies|/\s*m?l|pg|ng|fmol|pmol|count|tpm|cpm|particles|/ul|/µl", re.IGNORECASE)
RESPONSES = {"cr": True, "pr": True, "sd": False, "pd": False, "ne": False, "1": True, "0": False, "yes": True, "no": False}
MAX_PROBLEMS = 8


@dataclass
class CargoColumn:
    """One measured cargo column: header, KB entity, how the name was read, unit and scale used."""

    header: str
    cargo: str
    entity_id: str
    reading: str
    unit: str | None
    scale: str
    scale_basis: str


@dataclass
class ScoreResult:
    """Per-patient resistance scores, the cargo mapping, the weights, and metrics when outcomes were given."""

    patients: list[str]
    columns: list[CargoColumn]
    scores: pd.DataFrame
    weights: list[dict[str, Any]]
    metrics: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json_dict(self) -> dict[str, Any]:
        from exoresist.cohort.runner import finite_or_none

        out: dict[str, Any] = finite_or_none(
            {
                "columns": [c.__dict__ for c in self.columns],
                "weights": self.weights,
                "scores": self.scores.to_dict(orient="records"),
                "metrics": self.metrics,
                "notes": self.notes,
                "method": __doc__.split("- **Resistance score**")[1].split("- With outcome")[0].strip() if __doc__ else "",
            }
        )
        return out


def _split_header(header: str) -> tuple[str, str | None]:
    m = re.match(r"^\s*(.*?)\s*\[(.*)\]\s*$", header)
    return (m.group(1), m.group(2).strip() or None) if m else (header.strip(), None)


def _read(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise BiomarkerError(f"{path}: no such file")
    size = path.stat().st_size
    if size > MAX_TABLE_BYTES:
        raise BiomarkerError(
            f"{path} is {size / 1024**3:.1f} GB; the limit is {MAX_TABLE_BYTES // 1024**2} MB (one row per patient and one "
            "column per cargo is far smaller); nothing was written"
        )
    if size == 0:
        raise BiomarkerError(f"{path} is empty: it needs a header row and one row per patient; nothing was written")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise BiomarkerError(f"{path} is not a readable CSV: {str(exc).splitlines()[0]}; nothing was written") from None
    if frame.empty:
        raise BiomarkerError(f"{path} has a header but no patient rows; nothing was written")
    return frame


def _problem(row: Any, column: str, value: Any, check: str, ids: pd.Series[Any], id_column: str) -> str:
    where = f"row {int(row) + 1} (line {int(row) + 2})"
    if column != id_column and 0 <= int(row) < len(ids) and str(ids.iloc[int(row)]):
        where += f", patient '{ids.iloc[int(row)]}'"
    if check.startswith(("coerce_dtype", "dtype")):
        what = f"{value!r} is not a number"
    elif check.startswith("greater_than_or_equal_to"):
        what = f"{value} is negative, which a linear scale cannot hold (declare --scale log2|log10|ln if it is a log value)"
    elif check in ("field_uniqueness", "unique"):
        what = f"patient id {value!r} appears more than once"
    elif check.startswith("str_length"):
        what = "the patient id is empty"
    elif check.startswith("isin"):
        what = f"{value!r} is not one of the allowed values ({check.removeprefix('isin')})"
    elif check.startswith("not_nullable"):
        what = "a value is required here"
    else:
        what = f"{value!r} fails {check}"
    return f"{where}, column '{column}': {what}"


def _validate(
    frame: pd.DataFrame, schema_columns: dict[str, Any], id_column: str, path: Path, linear: Sequence[str] = ()
) -> pd.DataFrame:
    import pandera.pandas as pa
    from pandera.errors import SchemaErrors

    schema = pa.DataFrameSchema(schema_columns, strict=False)
    try:
        out: pd.DataFrame = schema.validate(frame, lazy=True)
        return out
    except SchemaErrors as exc:
        cases = exc.failure_cases
        cases = cases[cases["index"].notna()].drop_duplicates(subset=["column", "index"])
        # pandera skips the sign check of a column whose values did not all convert: check the rest here
        extra = []
        for col in linear:
            if ((cases["column"] == col) & cases["check"].astype(str).str.startswith("coerce_dtype")).any():
                numbers = pd.to_numeric(frame[col], errors="coerce")
                extra += [
                    {"index": i, "column": col, "failure_case": v, "check": "greater_than_or_equal_to(0)"}
                    for i, v in numbers[numbers < 0].items()
                ]
        cases = pd.concat([cases, pd.DataFrame(extra)], ignore_index=True) if extra else cases
        problems = [
            _problem(r["index"], str(r["column"]), r["failure_case"], str(r["check"]), frame[id_column], id_column)
            for _, r in cases.sort_values(["index", "column"]).iterrows()
        ]
        shown = problems[:MAX_PROBLEMS]
        more = f"\n  ... and {len(problems) - MAX_PROBLEMS} more" if len(problems) > MAX_PROBLEMS else ""
        raise BiomarkerError(
            f"{len(problems)} problem(s) in {path}; nothing was written\n" + "\n".join(f"  - {p}" for p in shown) + more
        ) from None


def _scale_of(values: pd.Series[Any], unit: str | None, declared: str) -> tuple[str, str]:
    if declared != "auto":
        return declared, "declared (--scale)"
    if unit and LINEAR_UNITS.search(unit):
        return "linear", f"unit '{unit}' is a concentration or count"
    numbers = pd.to_numeric(values, errors="coerce")
    if (numbers < 0).any():
        return "log2", "negative values present: read as log2 (declare --scale to change)"
    return "linear", "no unit and no negative value: read as linear (declare --scale to change)"


def score_table(
    kb: KnowledgeBase,
    path: Path,
    *,
    id_column: str = "patient_id",
    outcome_columns: Sequence[str] = (),
    therapies: Sequence[str] = (),
    scale: str = "auto",
    unit: str | None = None,
    bootstrap: int = 200,
) -> ScoreResult:
    """Validate ``path``, map its cargo columns to the KB and score every patient (see the module docstring)."""
    import pandera.pandas as pa

    if scale not in SCALES:
        raise BiomarkerError(f"unknown scale '{scale}': choose one of {', '.join(SCALES)}")
    if len(outcome_columns) not in (0, 2, 3):
        raise BiomarkerError(f"--outcome-columns takes TIME,EVENT[,RESPONSE]; got {list(outcome_columns)}")
    path = Path(path)
    frame = _read(path)
    if id_column not in frame:
        raise BiomarkerError(
            f"{path}: no patient id column '{id_column}' (columns: {', '.join(frame.columns)}); name it with --id-column"
        )
    missing = [c for c in outcome_columns if c not in frame]
    if missing:
        raise BiomarkerError(f"{path}: no outcome column(s) {missing} (columns: {', '.join(frame.columns)})")
    cargo_headers = [c for c in frame.columns if c != id_column and c not in outcome_columns]
    if not cargo_headers:
        raise BiomarkerError(f"{path}: no cargo column besides the id and outcome columns")
    columns: list[CargoColumn] = []
    for header in cargo_headers:
        name, header_unit = _split_header(header)
        try:
            ent, reading = resolve_cargo(kb, name)
        except UnknownNameError as exc:
            raise BiomarkerError(
                f"{path}, column '{header}': {exc} (an outcome column? name it in --outcome-columns TIME,EVENT[,RESPONSE])"
            ) from None
        col_unit = unit or header_unit
        used, basis = _scale_of(frame[header].replace("", None), col_unit, scale)
        columns.append(CargoColumn(header, ent.name, ent.id, reading, col_unit, used, basis))
    dupes = {c.entity_id for c in columns if sum(d.entity_id == c.entity_id for d in columns) > 1}
    if dupes:
        raise BiomarkerError(
            f"{path}: several columns name the same cargo: {[c.header for c in columns if c.entity_id in dupes]}"
        )
    work = frame.copy()
    for h in cargo_headers:
        work[h] = work[h].replace("", None)
    schema: dict[str, Any] = {id_column: pa.Column(str, unique=True, checks=pa.Check.str_length(min_value=1))}
    for c in columns:
        checks = [pa.Check.ge(0)] if c.scale == "linear" else []
        schema[c.header] = pa.Column(float, coerce=True, nullable=True, checks=checks)
    if outcome_columns:
        schema[outcome_columns[0]] = pa.Column(float, coerce=True, checks=pa.Check.ge(0))
        schema[outcome_columns[1]] = pa.Column(str, checks=pa.Check.isin(["0", "1"]))
        if len(outcome_columns) == 3:
            work[outcome_columns[2]] = work[outcome_columns[2]].str.strip().str.lower()
            schema[outcome_columns[2]] = pa.Column(str, checks=pa.Check.isin(list(RESPONSES)))
    valid = _validate(work, schema, id_column, path, [c.header for c in columns if c.scale == "linear"])
    notes = [
        f"{c.header} -> {c.cargo}" + (f" ({c.reading})" if c.reading else "") + f"; scale {c.scale}: {c.scale_basis}"
        for c in columns
    ]
    logs = pd.DataFrame(index=valid.index)
    for c in columns:
        x = valid[c.header].to_numpy(dtype=float)
        if c.scale == "linear":
            zeros = x == 0
            if zeros.any():
                positive = x[x > 0]
                if positive.size == 0:
                    raise BiomarkerError(f"{path}, column '{c.header}': every value is 0 on a linear scale")
                x = np.where(zeros, positive.min() / 2, x)
                notes.append(f"{c.header}: {int(zeros.sum())} zero value(s) set to half the smallest positive value")
            logs[c.cargo] = np.log10(x)
        else:
            logs[c.cargo] = x * {"log2": math.log10(2), "log10": 1.0, "ln": 1 / math.log(10)}[c.scale]
    n_missing = int(logs.isna().sum().sum())
    if n_missing:
        notes.append(f"{n_missing} missing cargo value(s): each patient's score uses the cargos measured in that patient")
    z = (logs - logs.mean()) / logs.std(ddof=0).replace(0, np.nan)
    weights = _weights(kb, columns, therapies)
    scores = _scores(valid[id_column].astype(str).tolist(), z, weights)
    result = ScoreResult(valid[id_column].astype(str).tolist(), columns, scores, weights, notes=notes)
    if outcome_columns:
        result.metrics = _outcome_metrics(kb, valid, logs, scores, columns, outcome_columns, bootstrap)
    return result


def _therapy_label(kb: KnowledgeBase, ref: str) -> str:
    if ref.startswith("class:"):
        return ref.removeprefix("class:")
    rec = kb.by_id.get(ref)
    return str(getattr(rec, "name", ref))


def _weights(kb: KnowledgeBase, columns: Sequence[CargoColumn], therapies: Sequence[str]) -> list[dict[str, Any]]:
    """Per therapy and cargo: the signed, grade-weighted sum over its mechanism records' links to the therapy."""
    by_cargo = {
        c.entity_id: [m for m in kb.mechanisms if m.kind == "mechanism" and kb.entity(m.cargo).id == c.entity_id] for c in columns
    }
    if therapies:
        targets = [(t, kb.therapy_refs(t)) for t in therapies]
    else:
        refs = sorted({t.therapy for recs in by_cargo.values() for m in recs for t in m.therapies})
        targets = [(_therapy_label(kb, r), kb.therapy_refs(r)) for r in refs]
    out = []
    for label, refs_of in targets:
        for c in columns:
            links = [(m, t) for m in by_cargo[c.entity_id] for t in m.therapies if t.therapy in refs_of]
            if not links:
                continue
            w = sum(
                (1.0 if t.direction is Direction.PROMOTES_RESISTANCE else -1.0) * GRADE_WEIGHT[m.evidence_grade] for m, t in links
            )
            out.append({"therapy": label, "cargo": c.cargo, "weight": w, "records": sorted({m.id for m, _ in links})})
    return out


def _scores(ids: list[str], z: pd.DataFrame, weights: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for therapy in dict.fromkeys(w["therapy"] for w in weights):
        ws = {w["cargo"]: w["weight"] for w in weights if w["therapy"] == therapy}
        for i, pid in enumerate(ids):
            terms = {c: w * z[c].iloc[i] for c, w in ws.items() if np.isfinite(z[c].iloc[i])}
            denom = sum(abs(ws[c]) for c in terms)
            score = sum(terms.values()) / denom if denom else math.nan
            top = sorted(terms.items(), key=lambda kv: -abs(kv[1]))[:3]
            drivers = "; ".join(f"{c} {v:+.2f} (z {z[c].iloc[i]:+.2f}, weight {ws[c]:+.2f})" for c, v in top)
            rows.append({"patient": pid, "therapy": therapy, "score": score, "n_cargos": len(terms), "drivers": drivers})
    return pd.DataFrame(rows, columns=["patient", "therapy", "score", "n_cargos", "drivers"])


def _outcome_metrics(
    kb: KnowledgeBase,
    valid: pd.DataFrame,
    logs: pd.DataFrame,
    scores: pd.DataFrame,
    columns: Sequence[CargoColumn],
    outcome_columns: Sequence[str],
    bootstrap: int,
) -> list[dict[str, Any]]:
    from exoresist.biomarkers.evaluate import MarkerColumn, evaluate_frame

    frame = pd.DataFrame(
        {
            "arm": "your cohort",
            "patient": np.arange(len(valid)),
            "os_month": valid[outcome_columns[0]].to_numpy(dtype=float),
            "os_event": valid[outcome_columns[1]].astype(int).to_numpy(dtype=bool),
            "responded": valid[outcome_columns[2]].map(RESPONSES).to_numpy(dtype=bool) if len(outcome_columns) == 3 else False,
        }
    )
    cols = []
    for c in columns:
        frame[c.cargo] = logs[c.cargo].to_numpy()
        ent = kb.by_id[c.entity_id]
        direction = marker_spec(kb, ent).direction  # type: ignore[arg-type]
        cols.append(MarkerColumn(c.cargo, c.cargo, "baseline", direction, 0.0, "measured", True))
    for therapy in dict.fromkeys(scores["therapy"]):
        name = f"resistance score ({therapy})"
        frame[name] = scores[scores["therapy"] == therapy]["score"].to_numpy()
        cols.append(MarkerColumn(name, name, "reference", 1, 0.0, "KB-derived score", True, "z"))
    evaluation = evaluate_frame(frame, cols, ["your cohort"], endpoints=("os",), bootstrap=bootstrap, with_panels=False)
    out = evaluation.to_json_dict()["markers"]
    if len(outcome_columns) < 3:
        for m in out:
            m["response_auc"] = None
            m["cutpoint"]["response"] = None
    for m in out:
        m["endpoint"] = "your outcome"
        m.pop("interaction_hr", None)
    return list(out)
