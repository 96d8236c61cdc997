"""``exoresist trial run|calibrate|sensitivity`` and ``exoresist demo``: thin layers over ``exoresist.cohort``."""

from __future__ import annotations

import json
import math
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from exoresist.cli.common import TableOrJson, console, err_console, fail_on_errors
from exoresist.kb import load_kb

app = typer.Typer(help="Virtual patients and in-silico trials (Dask), calibration and sensitivity.", no_args_is_help=True)


class PopulationName(StrEnum):
    first_line = "first-line"
    post_sorafenib = "post-sorafenib"


def print_trial(run: Any) -> None:
    """The response and survival table per arm, then the comparisons (NR: not reached), in the report's number format."""
    from exoresist.report.formatting import hazard_ratio, median_ci, number, percent_ci

    table = Table(
        title=f"{run.config.population} trial, {run.config.patients} patients per arm, {run.config.months:g} months",
        title_justify="left",
    )
    for col in ("arm", "n", "ORR % (95% CI)", "DCR % (95% CI)", "CR/PR/SD/PD/NE %", "median PFS mo", "median OS mo"):
        table.add_column(col, overflow="fold")
    for a in run.arms:
        shares = "/".join(f"{100 * a[k]:.0f}" for k in ("cr", "pr", "sd", "pd", "ne"))
        table.add_row(
            a["arm"],
            str(a["n"]),
            percent_ci(a["orr"]),
            percent_ci(a["dcr"]),
            shares,
            median_ci(a["pfs_median_month"]),
            median_ci(a["os_median_month"]),
        )
    console.print(table)
    if run.comparisons:
        comp = Table(title=f"versus {run.comparisons[0]['reference']}", title_justify="left")
        for col in ("arm", "OS HR (95% CI)", "OS log-rank p", "PFS HR (95% CI)", "PFS log-rank p"):
            comp.add_column(col)
        for c in run.comparisons:
            comp.add_row(
                c["arm"],
                hazard_ratio(c["os_hr"]),
                f"{c['os_logrank_p']:.3g}",
                hazard_ratio(c["pfs_hr"]),
                f"{c['pfs_logrank_p']:.3g}",
            )
        console.print(comp)
    knockouts = run.config.knockouts
    key = "ko_share" if knockouts else "share"
    top = run.attribution.sort_values(key, ascending=False).groupby("arm").head(3)
    if len(top):
        attr = Table(title="mechanisms carrying resistance at progression (top 3 per arm)", title_justify="left")
        cols = ["arm", "record", "largest effect at progression"]
        if knockouts:
            cols += ["knockout delays progression >= 1 scan", "mean delay (months)"]
        for col in cols:
            attr.add_column(col)
        for _, r in top.iterrows():
            cells = [r["arm"], r["record_id"], f"{100 * r['share']:.0f}% of {r['n_progressing']}"]
            if knockouts:
                cells += [f"{100 * r['ko_share']:.0f}%", number(r["ko_mean_delay_month"], 2)]
            attr.add_row(*cells)
        console.print(attr)


@app.command("run")
@fail_on_errors
def run_command(
    arm: Annotated[
        list[str], typer.Option("--arm", help="An arm: therapies and interventions joined by '+', or 'placebo'; repeatable.")
    ],
    population: Annotated[PopulationName, typer.Option("--population")] = PopulationName.first_line,
    patients: Annotated[
        int, typer.Option("--patients", help="Patients per arm (the same virtual patients in every arm).")
    ] = 1000,
    months: Annotated[float, typer.Option("--months", help="Follow-up after the baseline scan (months).")] = 24.0,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Dask scheduler address; default a local cluster; 'serial' runs in this process."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder: chunk Parquet files, patients.parquet, trial.json.")] = Path(
        "out/trial"
    ),
    chunk_size: Annotated[int, typer.Option("--chunk-size", help="Patients per Dask task.")] = 50,
    report: Annotated[Path | None, typer.Option("--report", help="Also write the HTML report here.")] = None,
    knockouts: Annotated[
        bool,
        typer.Option(
            "--knockouts/--no-knockouts",
            help="Counterfactual attribution: simulate each progressing patient again without each record it expresses.",
        ),
    ] = False,
    fmt: Annotated[TableOrJson, typer.Option("--format")] = TableOrJson.table,
    yes: Annotated[bool, typer.Option("--yes", help="Start a run even when its estimate is long or large.")] = False,
    retries: Annotated[
        int, typer.Option("--retries", min=0, max=10, help="Rerun a Dask task whose worker failed, up to this many times.")
    ] = 0,
) -> None:
    """Run (or resume) a virtual trial and print response, survival and comparisons per arm."""
    from exoresist.cohort.calibration import calibrated_cohort
    from exoresist.cohort.runner import SERIAL, estimate, local_workers, run_trial
    from exoresist.cohort.trial import TrialConfig, TrialError

    kb = load_kb()
    config = TrialConfig(tuple(arm), population.value, patients, months, seed, chunk_size, calibrated_cohort(), knockouts)
    config.validate(kb)  # every argument checked before a cluster starts
    size = estimate(kb, config, 1 if scheduler == SERIAL else local_workers())
    if size.needs_confirmation:
        err_console.print(f"estimate: {size.describe()}", highlight=False)
        if not size.fits_in_memory:
            raise TrialError("this run needs more memory than this machine has: run fewer patients per trial")
        if not yes:
            raise TrialError("this run is long or large: add --yes to start it (it can be stopped with Ctrl-C and resumed)")
    run = run_trial(
        kb,
        config,
        out,
        scheduler=scheduler,
        progress=sys.stderr.isatty() or fmt is TableOrJson.table,
        on_warning=lambda text: err_console.print(f"[yellow]warning[/yellow]: {text}", highlight=False),
        retries=retries,
    )
    run.meta["command"] = "exoresist " + " ".join(sys.argv[1:])
    if report is not None:
        from exoresist.report.trial_report import write_report

        write_report(run, report)
    if fmt is TableOrJson.json:
        typer.echo(json.dumps(run.to_json_dict(), indent=2, default=float))
    else:
        print_trial(run)
        err_console.print(f"wrote {out / 'patients.parquet'} and {out / 'trial.json'}" + (f" and {report}" if report else ""))


@app.command("calibrate")
@fail_on_errors
def calibrate_command(
    check: Annotated[
        bool, typer.Option("--check", help="Simulate the shipped calibration and compare with every target.")
    ] = False,
    do_fit: Annotated[bool, typer.Option("--fit", help="Run the optimiser and save the fit in the package data (slow).")] = False,
    patients: Annotated[int, typer.Option("--patients", help="Patients per arm.")] = 300,
    seed: Annotated[int, typer.Option("--seed")] = 2020,
    max_evaluations: Annotated[int, typer.Option("--max-evaluations")] = 80,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Dask scheduler address, or 'serial'.")] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for the simulated trial chunks.")] = Path("out/calibration"),
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write docs/calibration.md (and its figure) here.")
    ] = None,
    fmt: Annotated[TableOrJson, typer.Option("--format")] = TableOrJson.table,
) -> None:
    """Fit cohort parameters to SHARP and IMbrave150 (--fit), or show simulated vs published (--check)."""
    from exoresist.cohort import calibration as cal
    from exoresist.cohort.population import CohortParameters
    from exoresist.cohort.runner import finite_or_none

    if not (check or do_fit):
        raise typer.BadParameter("give --check or --fit")
    if patients < 10:
        raise typer.BadParameter(f"--patients must be at least 10, got {patients}")
    kb = load_kb()
    fit_record = None
    if do_fit:
        fit_record = cal.fit(
            kb,
            out,
            patients=patients,
            seed=seed,
            max_evaluations=max_evaluations,
            scheduler=scheduler,
            log=lambda line: err_console.print(line, highlight=False),
        )
        path = Path(str(cal._calibrated_path()))
        cal.save_fit(fit_record, path)
        err_console.print(f"saved the fit to {path}")
        cohort = CohortParameters(fit_record["values"])
    else:
        cohort = cal.calibrated_cohort()
        fit_record = cal.fit_record()
    _, table = cal.check(kb, cohort, out, patients=patients, seed=seed, scheduler=scheduler, progress=fmt is TableOrJson.table)
    if output is not None:
        from exoresist.cli.common import atomic_write
        from exoresist.report.figures import calibration_figure

        figure_path = output.parent / "figures" / "calibration.png"
        figure_path.parent.mkdir(parents=True, exist_ok=True)
        fig = calibration_figure(table)
        fig.savefig(figure_path, dpi=110, bbox_inches="tight")
        atomic_write(output, cal.markdown(table, fit_record, f"figures/{figure_path.name}"))
        err_console.print(f"wrote {output} and {figure_path}")
    if fmt is TableOrJson.json:
        typer.echo(
            json.dumps(
                finite_or_none({"loss": cal.loss(table), "fit": fit_record, "targets": table.to_dict(orient="records")}), indent=2
            )
        )
        return
    t = Table(title=f"calibration: {patients} patients per arm, seed {seed}, loss {cal.loss(table):.3f}", title_justify="left")
    for col in ("trial", "arm", "endpoint", "published", "simulated", "error"):
        t.add_column(col)
    for _, r in table.iterrows():
        ref = f" vs {r['reference']}" if r["reference"] else ""
        sim = "not reached" if not math.isfinite(r["simulated"]) else f"{r['simulated']:.3g}"
        err = "" if not math.isfinite(r["error"]) else f"{r['error']:+.3g}"
        t.add_row(r["trial"], r["arm"] + ref, f"{r['endpoint']} ({r['unit']})", f"{r['published']:g}", sim, err)
    console.print(t)


@app.command("sensitivity")
@fail_on_errors
def sensitivity_command(
    arm: Annotated[str, typer.Option("--arm", help="The arm to analyse, e.g. 'sorafenib'.")],
    patients: Annotated[int, typer.Option("--patients", help="Virtual patients per Sobol sample.")] = 20,
    samples: Annotated[int, typer.Option("--samples", help="Sobol base sample size (a power of 2).")] = 32,
    months: Annotated[float, typer.Option("--months")] = 24.0,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    figure: Annotated[Path | None, typer.Option("--figure", help="Write the ranking figure (PNG) here.")] = None,
    fmt: Annotated[TableOrJson, typer.Option("--format")] = TableOrJson.table,
) -> None:
    """Sobol indices of PFS and response to the exosome parameters; mechanisms ranked by total effect."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from exoresist.cohort.calibration import calibrated_cohort
    from exoresist.cohort.sensitivity import run_sensitivity

    kb = load_kb()
    with Progress(
        TextColumn("Sobol samples"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=err_console
    ) as bar:
        task = bar.add_task("samples", total=None)

        def step(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = run_sensitivity(
            kb, arm, calibrated_cohort(), patients=patients, samples=samples, months=months, seed=seed, progress=step
        )
    if figure is not None:
        from exoresist.report.figures import sensitivity_figure

        figure.parent.mkdir(parents=True, exist_ok=True)
        sensitivity_figure(result.table).savefig(figure, dpi=110, bbox_inches="tight")
        err_console.print(f"wrote {figure}")
    if fmt is TableOrJson.json:
        typer.echo(json.dumps(result.to_json_dict(), indent=2))
        return
    t = Table(
        title=f"Sobol indices for {result.arm}: {result.n_samples} samples x {result.n_patients} patients", title_justify="left"
    )
    for col in ("rank", "parameter", "PFS ST (conf)", "PFS S1", "response ST (conf)", "response S1"):
        t.add_column(col, overflow="fold")
    pfs = result.table[result.table["output"] == "PFS"].sort_values("ST", ascending=False).to_dict(orient="records")
    resp = {r["parameter"]: r for r in result.table[result.table["output"] == "response"].to_dict(orient="records")}
    for k, r in enumerate(pfs, start=1):
        q = resp[r["parameter"]]
        t.add_row(
            str(k),
            f"{r['label']}" + (f" [{r['record_id']}]" if r["record_id"] else ""),
            f"{r['ST']:.3f} ({r['ST_conf']:.3f})",
            f"{r['S1']:.3f}",
            f"{q['ST']:.3f} ({q['ST_conf']:.3f})",
            f"{q['S1']:.3f}",
        )
    console.print(t)


DEMO_ARMS = ("sorafenib", "sorafenib+secretion-blockade", "atezolizumab+bevacizumab")


@fail_on_errors
def demo_command(
    out: Annotated[Path, typer.Option("--out", help="Output folder (KB store, trial chunks, report.html).")] = Path("out"),
    patients: Annotated[int, typer.Option("--patients", help="Patients per arm.")] = 1000,
    months: Annotated[float, typer.Option("--months")] = 24.0,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Dask scheduler address, or 'serial'.")] = None,
) -> None:
    """The main job: build the KB, run the default first-line trial, write out/report.html."""
    import time

    from exoresist.cohort import calibration as cal
    from exoresist.cohort.runner import run_trial
    from exoresist.cohort.trial import TrialConfig
    from exoresist.kb.store import build_resolved_store
    from exoresist.report.trial_report import write_report

    started = time.perf_counter()
    kb = load_kb()
    info, xrefs, _ = build_resolved_store(kb, f"sqlite:///{out / 'kb.sqlite'}")
    err_console.print(f"1/3 knowledge base: {info.n_records} records, {len(xrefs)} identifiers resolved, store {info.url}")
    cohort = cal.calibrated_cohort()
    config = TrialConfig(DEMO_ARMS, "first-line", patients, months, seed, 50, cohort, knockouts=True)
    config.validate(kb)
    err_console.print(f"2/3 trial: {', '.join(DEMO_ARMS)}; {patients} first-line patients per arm, {months:g} months")
    run = run_trial(kb, config, out / "trial", scheduler=scheduler, progress=True)
    run.meta["command"] = "exoresist demo " + " ".join(sys.argv[2:])
    print_trial(run)
    err_console.print("3/3 calibration check on SHARP and IMbrave150 (placebo, sorafenib, atezolizumab+bevacizumab)")
    _, table = cal.check(kb, cohort, out / "calibration", scheduler=scheduler, progress=True)
    path = write_report(run, out / "report.html", calibration=table)
    err_console.print(f"wrote {path} in {time.perf_counter() - started:.0f} s; open it in a browser")
