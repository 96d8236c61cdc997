"""``exoresist biomarker evaluate|score|design``: thin layers over ``exoresist.biomarkers``."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from exoresist.cli.common import (
    RecordsOpt,
    SchedulerOpt,
    StandaloneOpt,
    TableOrJson,
    console,
    err_console,
    fail_on_errors,
    load_kb_for,
    output_dir_option,
    output_file_option,
)

app = typer.Typer(
    help="Plasma exosomal cargo as biomarkers: virtual trials, your own cohort, stratified designs.", no_args_is_help=True
)


class EndpointName(StrEnum):
    os = "os"
    pfs = "pfs"


class ScoreFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _num(x: Any, digits: int = 2) -> str:
    from exoresist.report.formatting import number

    return number(x, digits)


def _specs(kb: Any, marker: list[str] | None) -> tuple[list[Any], list[Any]]:
    from exoresist.biomarkers.markers import default_markers, markers_by_name

    if marker:
        return markers_by_name(kb, marker), []
    return default_markers(kb)


def print_evaluation(evaluation: Any) -> None:
    """One table per endpoint (the report's number format), then the panels."""
    data = evaluation.to_json_dict()
    for endpoint in data["meta"]["endpoints"]:
        t = Table(title=f"markers, {endpoint.upper()} (reference arm {data['meta']['reference_arm']})", title_justify="left")
        for col in (
            "marker",
            "arm",
            "kind",
            "C (95% CI)",
            "AUC 3/6/12 mo",
            "IBS (ref)",
            "response AUC",
            "interaction HR, q",
            "cut HR app->corr",
        ):
            t.add_column(col, overflow="fold")
        for m in data["markers"]:
            if m["endpoint"] != endpoint:
                continue
            c = m["c_index"]
            inter = m["interaction_hr"]
            surv = (m["cutpoint"] or {}).get("survival") or {}
            resp = m["response_auc"]
            t.add_row(
                m["marker"] + ("" if m["dynamic"] else " (static)"),
                m["arm"],
                m["kind"],
                f"{_num(c['estimate'])} ({_num(c['ci_low'])}-{_num(c['ci_high'])})",
                "/".join(_num(m["auc_t"][k]) for k in ("3", "6", "12")),
                f"{_num(m['ibs']['marker'], 3)} ({_num(m['ibs']['reference'], 3)})",
                _num(resp["estimate"]) if resp else "-",
                f"{_num(inter['hr'])}, q {_num(inter['q'], 3)}" if inter else "-",
                f"{_num(surv.get('hr_apparent'))}->{_num(surv.get('hr_corrected'))}" if surv else "-",
            )
        console.print(t)
    if data["panels"]:
        t = Table(title="panels (nested cross-validation)", title_justify="left")
        for col in ("arm", "endpoint", "kept (coef/SD)", "apparent", "cross-validated", "optimism"):
            t.add_column(col, overflow="fold")
        for p in data["panels"]:
            kept = ", ".join(f"{k} {v:+.2f}" for k, v in p["selected"].items()) or "none"
            t.add_row(
                p["arm"], p["endpoint"], kept, _num(p["apparent"], 3), _num(p["cross_validated"], 3), _num(p["optimism"], 3)
            )
        console.print(t)
    for u in data["meta"].get("unmeasurable", []):
        err_console.print(f"not measurable: {u['marker']} ({u['record']}): {u['reason']}", highlight=False, markup=False)
    err_console.print(data["meta"]["cutpoint_warning"], highlight=False, markup=False)


@app.command("evaluate")
@fail_on_errors
def evaluate_command(
    arm: Annotated[list[str], typer.Option("--arm", help="An arm (as in trial run); repeatable; the first is the reference.")],
    marker: Annotated[
        list[str] | None,
        typer.Option("--marker", help="A cargo name (the KB resolver: hsa- prefix, miRBase forms, aliases); repeatable."),
    ] = None,
    patients: Annotated[int, typer.Option("--patients", help="Patients per arm.")] = 500,
    months: Annotated[float, typer.Option("--months")] = 24.0,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    endpoint: Annotated[list[EndpointName] | None, typer.Option("--endpoint", help="os and/or pfs (default both).")] = None,
    bootstrap: Annotated[int, typer.Option("--bootstrap", min=0, help="Bootstrap resamples (cut-points, CIs).")] = 200,
    scheduler: SchedulerOpt = None,
    out: Annotated[Path, output_dir_option("--out", help="Folder of the trial's chunks and biomarkers.json.")] = Path(
        "out/biomarkers"
    ),
    figure: Annotated[Path | None, output_file_option("--figure", help="Write the summary figure (PNG) here.")] = None,
    report: Annotated[
        Path | None, output_file_option("--report", help="Also write the trial report with its biomarker section.")
    ] = None,
    fmt: Annotated[TableOrJson, typer.Option("--format")] = TableOrJson.table,
    records: RecordsOpt = None,
    standalone: StandaloneOpt = False,
) -> None:
    """Prognostic and predictive value of plasma exosomal cargos in a virtual first-line trial."""
    from exoresist.biomarkers.evaluate import Endpoint
    from exoresist.biomarkers.run import run_and_evaluate
    from exoresist.cohort.runner import write_json

    kb = load_kb_for(records, standalone)
    specs, skipped = _specs(kb, marker)
    endpoints: tuple[Endpoint, ...] = tuple(e.value for e in endpoint) if endpoint else ("os", "pfs")
    res = run_and_evaluate(
        kb, arm, specs, skipped, out, patients=patients, months=months, seed=seed, scheduler=scheduler,
        endpoints=endpoints, bootstrap=bootstrap, progress=sys.stderr.isatty(),
    )  # fmt: skip
    data = res.evaluation.to_json_dict()
    write_json(data, out / "biomarkers.json")
    if figure is not None:
        from exoresist.report.biomarker_figures import summary_figure

        figure.parent.mkdir(parents=True, exist_ok=True)
        summary_figure(data, endpoints[0]).savefig(figure, dpi=110, bbox_inches="tight")
        err_console.print(f"wrote {figure}")
    if report is not None:
        from exoresist.report.trial_report import write_report

        res.trial.meta["command"] = "exoresist " + " ".join(sys.argv[1:])
        write_report(res.trial, report, biomarkers=data)
        err_console.print(f"wrote {report}")
    if fmt is TableOrJson.json:
        typer.echo(json.dumps(data, indent=2))
    else:
        print_evaluation(res.evaluation)
        err_console.print(f"wrote {out / 'biomarkers.json'}")


@app.command("score")
@fail_on_errors
def score_command(
    table: Annotated[Path, typer.Option("--table", help="CSV: one row per patient, one column per measured cargo.")],
    outcome_columns: Annotated[
        list[str] | None,
        typer.Option("--outcome-columns", help="TIME,EVENT[,RESPONSE] column names (comma-separated or repeated)."),
    ] = None,
    id_column: Annotated[str, typer.Option("--id-column", help="The patient id column.")] = "patient_id",
    therapy: Annotated[
        list[str] | None,
        typer.Option("--therapy", help="Score for this therapy; repeatable (default: every therapy the cargos' records name)."),
    ] = None,
    scale: Annotated[str, typer.Option("--scale", help="auto, linear, log2, log10 or ln (the cargo columns' scale).")] = "auto",
    unit: Annotated[
        str | None, typer.Option("--unit", help="Unit of the cargo columns (else read from 'name [unit]' headers).")
    ] = None,
    bootstrap: Annotated[int, typer.Option("--bootstrap", min=0)] = 200,
    fmt: Annotated[ScoreFormat, typer.Option("--format")] = ScoreFormat.table,
    records: RecordsOpt = None,
    standalone: StandaloneOpt = False,
) -> None:
    """A KB-derived signed resistance score per patient and therapy for your own cohort (and, with
    outcome columns, the metrics of ``biomarker evaluate`` on your data)."""
    from exoresist.biomarkers.score import score_table

    outcomes = [c.strip() for item in (outcome_columns or []) for c in item.split(",") if c.strip()]
    result = score_table(
        load_kb_for(records, standalone),
        table,
        id_column=id_column,
        outcome_columns=outcomes,
        therapies=therapy or [],
        scale=scale,
        unit=unit,
        bootstrap=bootstrap,
    )
    if fmt is ScoreFormat.json:
        typer.echo(json.dumps(result.to_json_dict(), indent=2))
        return
    if fmt is ScoreFormat.csv:
        buf = io.StringIO()
        result.scores.to_csv(buf, index=False, quoting=csv.QUOTE_MINIMAL)
        typer.echo(buf.getvalue(), nl=False)
        return
    for line in result.notes:
        err_console.print(line, highlight=False, markup=False)
    t = Table(title=f"resistance scores, {len(result.patients)} patients", title_justify="left")
    for col in ("patient", "therapy", "score", "drivers"):
        t.add_column(col, overflow="fold")
    for r in result.scores.itertuples(index=False):
        t.add_row(str(r.patient), str(r.therapy), _num(r.score), str(r.drivers))
    console.print(t)
    if result.metrics:
        m = Table(title="metrics on your outcomes", title_justify="left")
        for col in ("marker", "n", "C (95% CI)", "AUC 3/6/12 mo", "response AUC"):
            m.add_column(col)
        for row in result.metrics:
            c = row["c_index"]
            resp = row.get("response_auc")
            m.add_row(
                row["marker"], str(row["n"]), f"{_num(c['estimate'])} ({_num(c['ci_low'])}-{_num(c['ci_high'])})",
                "/".join(_num(row["auc_t"][k]) for k in ("3", "6", "12")), _num(resp["estimate"]) if resp else "-",
            )  # fmt: skip
        console.print(m)


@app.command("design")
@fail_on_errors
def design_command(
    arm: Annotated[list[str], typer.Option("--arm", help="Control arm, then experimental arm.")],
    marker: Annotated[str, typer.Option("--marker", help="The stratifying cargo.")],
    patients: Annotated[int, typer.Option("--patients", help="Virtual patients per arm.")] = 500,
    months: Annotated[float, typer.Option("--months")] = 24.0,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    endpoint: Annotated[EndpointName, typer.Option("--endpoint")] = EndpointName.os,
    sizes: Annotated[
        str, typer.Option("--sizes", help="Comma-separated total sample sizes (randomised patients).")
    ] = "200,400,800",
    scheduler: SchedulerOpt = None,
    out: Annotated[Path, output_dir_option("--out", help="Folder of the trial's chunks.")] = Path("out/biomarker-design"),
    figure: Annotated[Path | None, output_file_option("--figure", help="Write the power figure (PNG) here.")] = None,
    fmt: Annotated[TableOrJson, typer.Option("--format")] = TableOrJson.table,
    records: RecordsOpt = None,
    standalone: StandaloneOpt = False,
) -> None:
    """Enrichment, all-comers with marker strata and marker-strategy designs over cut-points: HR per
    stratum, screen failures, power by sample size, with the assay's misclassification."""
    from exoresist.biomarkers.design import design_trial

    if len(arm) != 2:
        raise typer.BadParameter("give exactly two arms: --arm CONTROL --arm EXPERIMENTAL")
    try:
        n_sizes = [int(x) for x in sizes.split(",") if x.strip()]
    except ValueError:
        raise typer.BadParameter(f"--sizes must be comma-separated integers, got {sizes!r}") from None
    result = design_trial(
        load_kb_for(records, standalone), arm, marker, out, patients=patients, months=months, seed=seed, endpoint=endpoint.value,
        sizes=n_sizes, scheduler=scheduler,
    )  # fmt: skip
    if figure is not None:
        from exoresist.report.biomarker_figures import power_figure

        figure.parent.mkdir(parents=True, exist_ok=True)
        power_figure(result).savefig(figure, dpi=110, bbox_inches="tight")
        err_console.print(f"wrote {figure}")
    if fmt is TableOrJson.json:
        typer.echo(json.dumps(result, indent=2))
        return
    print_design(result)


def print_design(result: dict[str, Any]) -> None:
    t = Table(
        title=f"{result['marker']}: {result['experimental']} vs {result['control']}, {result['endpoint'].upper()}",
        title_justify="left",
    )
    sizes = [str(n) for n in result["sample_sizes"]]
    for col in (
        "cut (% positive)",
        "HR M+ / M- (measured)",
        "HR M+ / M- (true)",
        "sens/spec",
        *(f"power N={n} enr/all/strat" for n in sizes),
        "enrichment: screened per randomised",
    ):
        t.add_column(col, overflow="fold")
    for r in result["cutpoints"]:
        d = r["designs"]
        cells = [
            f"{r['cut_value']:.3g} ({100 * r['share_positive']:.0f}%)",
            f"{_num(r['hr_positive']['hr'])} / {_num(r['hr_negative']['hr'])}",
            f"{_num(r['hr_positive_true']['hr'])} / {_num(r['hr_negative_true']['hr'])}",
            f"{_num(r['sensitivity'])}/{_num(r['specificity'])}",
        ]
        for n in sizes:
            cells.append("/".join(_num(d[k]["power"][n]) for k in ("enrichment", "all-comers", "marker-strategy")))
        screened = 1 / r["share_positive"] if r["share_positive"] > 0 else math.inf
        cells.append(_num(screened, 1))
        t.add_row(*cells)
    console.print(t)
    err_console.print(result["notes"], highlight=False)


def print_strata(strata: dict[str, Any]) -> None:
    """``trial run --stratify``: HR per stratum and arm."""
    t = Table(
        title=f"{strata['marker']} strata: positive at >= {_num(strata['cut_value'], 4)} cu/mL ({strata['cut']}; "
        f"{100 * strata['share_positive']:.0f}% positive at baseline)",
        title_justify="left",
    )
    for col in ("arm", "vs", "n M+ / M-", "OS HR M+", "OS HR M-", "PFS HR M+", "PFS HR M-"):
        t.add_column(col)

    def hr(v: dict[str, Any]) -> str:
        return f"{_num(v['hr'])} ({_num(v['ci_low'])}-{_num(v['ci_high'])})"

    for r in strata["strata"]:
        t.add_row(
            r["arm"], r["reference"], f"{r['n_positive']} / {r['n_negative']}",
            hr(r["os_hr_positive"]), hr(r["os_hr_negative"]), hr(r["pfs_hr_positive"]), hr(r["pfs_hr_negative"]),
        )  # fmt: skip
    console.print(t)


def print_kinds(data: dict[str, Any]) -> None:
    """One line per marker kind found (the demo's summary of the biomarker section)."""
    for kind in ("predictive", "prognostic"):
        hits = [f"{m['marker']} ({m['arm']}, {m['endpoint'].upper()})" for m in data["markers"] if m["kind"] == kind]
        err_console.print(f"  {kind}: {', '.join(hits) or 'none'}", highlight=False, markup=False)
