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

app = typer.Typer(help="Virtual patients and in-silico trials (Dask), calibration and sensitivity.", no_args_is_help=True)


class PopulationName(StrEnum):
    first_line = "first-line"
    post_sorafenib = "post-sorafenib"


def print_trial(run: Any) -> None:
    """The response and survival table per arm, the comparisons and the attribution (NR: not reached)."""
    from exoresist.report.tables import trial_tables

    for spec in trial_tables(run.to_json_dict()):
        table = Table(title=spec["title"], title_justify="left")
        for col in spec["columns"]:
            # record ids print whole; other cells may wrap
            table.add_column(col, overflow="fold", no_wrap=col == "record")
        for row in spec["rows"]:
            table.add_row(*row)
        console.print(table)


class TrialFormat(StrEnum):
    """``--format`` of ``trial run``."""

    table = "table"
    json = "json"
    csv = "csv"


def print_warnings(run: Any) -> None:
    for line in run.warnings:
        err_console.print(f"[yellow]warning[/yellow]: {line}", highlight=False)


@app.command("run")
@fail_on_errors
def run_command(
    arm: Annotated[
        list[str], typer.Option("--arm", help="An arm: therapies and interventions joined by '+', or 'placebo'; repeatable.")
    ],
    population: Annotated[PopulationName, typer.Option("--population")] = PopulationName.first_line,
    patients: Annotated[
        int, typer.Option("--patients", help="Patients per arm in one trial (the same virtual patients in every arm).")
    ] = 1000,
    months: Annotated[float, typer.Option("--months", help="Follow-up after the baseline scan (months).")] = 24.0,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    replicates: Annotated[
        int,
        typer.Option(
            "--replicates", help="Virtual trials of --patients each; figures get a median and 90 % prediction interval."
        ),
    ] = 1,
    reference: Annotated[
        str | None, typer.Option("--reference", help="The arm hazard ratios are computed against (default: the first arm).")
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", help="Target baseline table (CSV: factor, level, value); default IMbrave150's."),
    ] = None,
    later_line_share: Annotated[
        float | None,
        typer.Option("--later-line-share", help="Share of progressing patients given a later line (default 0.2, modern era)."),
    ] = None,
    scheduler: SchedulerOpt = None,
    out: Annotated[
        Path, output_dir_option("--out", help="Output folder: chunk Parquet files, patients.parquet, trial.json.")
    ] = Path("out/trial"),
    chunk_size: Annotated[int, typer.Option("--chunk-size", help="Patients per Dask task.")] = 50,
    report: Annotated[Path | None, output_file_option("--report", help="Also write the HTML report here.")] = None,
    xlsx: Annotated[
        Path | None, output_file_option("--xlsx", help="Also write the summary tables and every patient to this workbook.")
    ] = None,
    knockouts: Annotated[
        bool,
        typer.Option(
            "--knockouts/--no-knockouts",
            help="Counterfactual attribution: simulate each progressing patient again without each record it expresses.",
        ),
    ] = False,
    stratify: Annotated[
        str | None,
        typer.Option("--stratify", help="MARKER[:CUTPOINT]: HRs in marker strata (cut: level in cu/mL or qNN; default median)."),
    ] = None,
    fmt: Annotated[TrialFormat, typer.Option("--format", help="table, json (trial.json) or csv (the per-arm summary).")] = (
        TrialFormat.table
    ),
    records: RecordsOpt = None,
    standalone: StandaloneOpt = False,
    yes: Annotated[bool, typer.Option("--yes", help="Start a run even when its estimate is long or large.")] = False,
    retries: Annotated[
        int, typer.Option("--retries", min=0, max=10, help="Rerun a Dask task whose worker failed, up to this many times.")
    ] = 0,
) -> None:
    """Run (or resume) a virtual trial and print response, survival and comparisons per arm.

    With --records your own records act in every patient (the run key includes their content)."""
    from exoresist.cohort.arms import TrialError
    from exoresist.cohort.calibration import calibrated_cohort
    from exoresist.cohort.config import TrialConfig
    from exoresist.cohort.covariates import read_baseline_csv
    from exoresist.cohort.export import summary_csv, write_xlsx
    from exoresist.cohort.runner import SERIAL, estimate, local_workers, run_trial

    kb = load_kb_for(records, standalone)
    strat = None
    samples: tuple[str, ...] = ()
    days: tuple[float, ...] = ()
    if stratify is not None:
        from exoresist.biomarkers.design import parse_stratify
        from exoresist.biomarkers.run import trial_samples

        strat = parse_stratify(kb, stratify)
        samples, days = trial_samples([strat[0]], months)
    target = read_baseline_csv(baseline) if baseline is not None else None
    config = TrialConfig(
        tuple(arm),
        population.value,
        patients,
        months,
        seed,
        chunk_size,
        calibrated_cohort(),
        knockouts,
        replicates=replicates,
        later_line_share=later_line_share,
        baseline=target,
        reference=reference,
        samples=samples,
        sample_days=days,
    )
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
        progress=sys.stderr.isatty() or fmt is TrialFormat.table,
        on_warning=lambda text: err_console.print(f"[yellow]warning[/yellow]: {text}", highlight=False),
        retries=retries,
    )
    run.meta["command"] = "exoresist " + " ".join(sys.argv[1:])
    strata, markers = None, None
    if strat is not None:
        from exoresist.biomarkers.design import stratify_run
        from exoresist.biomarkers.run import evaluate_run

        strata = stratify_run(run, *strat)
        if report is not None:
            markers = evaluate_run(run, [strat[0]], bootstrap=100).evaluation.to_json_dict()
    summary = {**run.to_json_dict(), **({"stratified": strata} if strata else {})}
    if report is not None:
        from exoresist.report.trial_report import write_report

        write_report(run, report, biomarkers=markers)
    if xlsx is not None:
        write_xlsx(summary, run.patients, xlsx)
    print_warnings(run)
    if fmt is TrialFormat.json:
        typer.echo(json.dumps(summary, indent=2, default=float))
    elif fmt is TrialFormat.csv:
        typer.echo(summary_csv(summary), nl=False)
    else:
        print_trial(run)
        if strata is not None:
            from exoresist.cli.biomarker import print_strata

            print_strata(strata)
        written = [str(out / "patients.parquet"), str(out / "trial.json"), *(str(p) for p in (report, xlsx) if p is not None)]
        err_console.print("wrote " + ", ".join(written))


def _comparison_table(title: str, table: Any) -> Table:
    from exoresist.cohort.calibration import FIGURE_LABELS

    t = Table(title=title, title_justify="left")
    for col in ("trial", "arm", "figure", "published", "simulated", "90% PI", "in tolerance", "in PI"):
        t.add_column(col, overflow="fold")
    for _, r in table.iterrows():
        ref = f" vs {r['reference']}" if r["reference"] else ""
        sim = "not reached" if not math.isfinite(r["simulated"]) else f"{r['simulated']:.3g}"
        pi = f"{r['pi_low']:.3g}-{r['pi_high']:.3g}" if math.isfinite(r["pi_low"]) else ""
        t.add_row(
            r["trial"],
            r["arm"] + ref,
            f"{FIGURE_LABELS.get(r['endpoint'], r['endpoint'])} ({r['unit']})",
            f"{r['published']:g}",
            sim,
            pi,
            "yes" if r["within_tolerance"] else "no",
            "yes" if r["inside_pi"] else "no",
        )
    return t


def _write_comparison(output: Path, table: Any, markdown: str, figure_name: str) -> None:
    from exoresist.cli.common import atomic_write
    from exoresist.report.figures import calibration_figure

    figure_path = output.parent / "figures" / figure_name
    figure_path.parent.mkdir(parents=True, exist_ok=True)
    fig = calibration_figure(table)
    fig.savefig(figure_path, dpi=110, bbox_inches="tight")
    atomic_write(output, markdown.replace("FIGURE_PATH", f"figures/{figure_name}"))
    err_console.print(f"wrote {output} and {figure_path}")


@app.command("calibrate")
@fail_on_errors
def calibrate_command(
    check: Annotated[
        bool, typer.Option("--check", help="Run replicate trials of SHARP and IMbrave150 with the shipped fit and compare.")
    ] = False,
    do_fit: Annotated[bool, typer.Option("--fit", help="Run the optimiser and save the fit in the package data (slow).")] = False,
    patients: Annotated[
        int, typer.Option("--patients", help="Patients per arm of the fitting population.")
    ] = 1500,  # calibration.DEFAULT_PATIENTS (not imported here: the CLI loads stages lazily)
    replicates: Annotated[int, typer.Option("--replicates", help="Virtual trials per published trial in the check.")] = 20,
    seed: Annotated[int, typer.Option("--seed")] = 2020,
    rounds: Annotated[int, typer.Option("--rounds", help="Alternations of the fit.")] = 2,
    scheduler: SchedulerOpt = None,
    out: Annotated[Path, output_dir_option("--out", help="Folder for the simulated trial chunks.")] = Path("out/calibration"),
    output: Annotated[
        Path | None, output_file_option("-o", "--output", help="Write docs/calibration.md (and its figure) here.")
    ] = None,
    fmt: Annotated[TableOrJson, typer.Option("--format")] = TableOrJson.table,
    records: RecordsOpt = None,
    standalone: StandaloneOpt = False,
) -> None:
    """Fit cohort parameters to SHARP and IMbrave150 (--fit), or show simulated vs published (--check)."""
    from exoresist.cohort import calibration as cal
    from exoresist.cohort.population import CohortParameters
    from exoresist.cohort.runner import finite_or_none

    if not (check or do_fit):
        raise typer.BadParameter("give --check or --fit")
    if patients < 10:
        raise typer.BadParameter(f"--patients must be at least 10, got {patients}")
    kb = load_kb_for(records, standalone)
    fit_record: dict[str, Any] | None
    if do_fit:
        fit_record = cal.fit(
            kb, patients=patients, seed=seed, rounds=rounds, log=lambda line: err_console.print(line, highlight=False)
        )
        path = Path(str(cal._calibrated_path()))
        cal.save_fit(fit_record, path)
        err_console.print(f"saved the fit to {path}")
        cohort = CohortParameters(fit_record["values"])
    else:
        cohort = cal.calibrated_cohort()
        fit_record = cal.fit_record()
    _, table = cal.check(
        kb, cohort, out, replicates=replicates, seed=seed, scheduler=scheduler, progress=fmt is TableOrJson.table
    )
    if output is not None:
        _write_comparison(output, table, cal.markdown(table, fit_record, "FIGURE_PATH", replicates), "calibration.png")
    n_ok = int((table["within_tolerance"] & table["inside_pi"]).sum())
    if fmt is TableOrJson.json:
        typer.echo(json.dumps(finite_or_none({"fit": fit_record, "targets": table.to_dict(orient="records")}), indent=2))
        return
    console.print(
        _comparison_table(
            f"calibration check: {replicates} trials per published trial, seed {seed}; "
            f"{n_ok} of {len(table)} within tolerance and inside the 90% PI",
            table,
        )
    )


@app.command("validate")
@fail_on_errors
def validate_command(
    trials: Annotated[Path, typer.Option("--trials", help="CSV with the columns of calibration_trials.csv (published arms).")],
    replicates: Annotated[int, typer.Option("--replicates", help="Virtual trials per published trial.")] = 20,
    seed: Annotated[int, typer.Option("--seed")] = 2020,
    scheduler: SchedulerOpt = None,
    out: Annotated[Path, output_dir_option("--out", help="Folder for the simulated trial chunks.")] = Path("out/validation"),
    output: Annotated[
        Path | None, output_file_option("-o", "--output", help="Write a markdown comparison (and its figure) here.")
    ] = None,
    fmt: Annotated[TableOrJson, typer.Option("--format")] = TableOrJson.table,
    records: RecordsOpt = None,
    standalone: StandaloneOpt = False,
) -> None:
    """Predict each listed trial with the shipped calibration (nothing is refitted) and compare."""
    from exoresist.cohort import calibration as cal
    from exoresist.cohort.runner import finite_or_none
    from exoresist.cohort.validation import read_trials_csv, validate

    kb = load_kb_for(records, standalone)
    frame = read_trials_csv(trials)
    runs, table = validate(
        kb, cal.calibrated_cohort(), frame, out, replicates=replicates, seed=seed, scheduler=scheduler,
        progress=fmt is TableOrJson.table,
    )  # fmt: skip
    for run in runs.values():
        print_warnings(run)
    if output is not None:
        md = cal.markdown(table, None, "FIGURE_PATH", replicates).replace(
            "# Calibration on SHARP and IMbrave150", f"# Validation on {trials.name} (nothing refitted)"
        )
        _write_comparison(output, table, md, f"validation_{trials.stem}.png")
    n_ok = int((table["within_tolerance"] & table["inside_pi"]).sum())
    if fmt is TableOrJson.json:
        typer.echo(json.dumps(finite_or_none({"targets": table.to_dict(orient="records")}), indent=2))
        return
    console.print(
        _comparison_table(
            f"validation: {replicates} trials per published trial; {n_ok} of {len(table)} within tolerance and inside the 90% PI",
            table,
        )
    )


@app.command("sensitivity")
@fail_on_errors
def sensitivity_command(
    arm: Annotated[str, typer.Option("--arm", help="The arm to analyse, e.g. 'sorafenib'.")],
    patients: Annotated[int, typer.Option("--patients", help="Virtual patients per Sobol sample.")] = 20,
    samples: Annotated[int, typer.Option("--samples", help="Sobol base sample size (a power of 2).")] = 32,
    months: Annotated[float, typer.Option("--months")] = 24.0,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    figure: Annotated[Path | None, output_file_option("--figure", help="Write the ranking figure (PNG) here.")] = None,
    fmt: Annotated[TableOrJson, typer.Option("--format")] = TableOrJson.table,
    records: RecordsOpt = None,
    standalone: StandaloneOpt = False,
) -> None:
    """Sobol indices of PFS and response to the exosome parameters; mechanisms ranked by total effect."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from exoresist.cohort.calibration import calibrated_cohort
    from exoresist.cohort.sensitivity import run_sensitivity

    kb = load_kb_for(records, standalone)
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
        t.add_column(col, no_wrap=col == "parameter", overflow="fold")
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
DEMO_REPLICATES = 5
DEMO_BOOTSTRAP = 50
"""Bootstrap resamples of the demo's biomarker evaluation (cut-point optimism, CIs); 200 in ``biomarker evaluate``."""


@fail_on_errors
def demo_command(
    out: Annotated[Path, output_dir_option("--out", help="Output folder (KB store, trial chunks, report.html).")] = Path("out"),
    patients: Annotated[int, typer.Option("--patients", help="Patients per arm.")] = 1000,
    months: Annotated[float, typer.Option("--months")] = 24.0,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    scheduler: SchedulerOpt = None,
    records: RecordsOpt = None,
    standalone: StandaloneOpt = False,
) -> None:
    """The main job: build the KB, run the default first-line trial with its plasma markers, write out/report.html."""
    import time

    from exoresist.biomarkers.evaluate import dask_mapper
    from exoresist.biomarkers.markers import biomarker_record_markers
    from exoresist.biomarkers.run import evaluate_run, trial_samples
    from exoresist.cli.biomarker import print_kinds
    from exoresist.cohort import calibration as cal
    from exoresist.cohort.config import TrialConfig
    from exoresist.cohort.runner import SERIAL, connect, run_trial, write_json
    from exoresist.kb.store import build_resolved_store
    from exoresist.report.trial_report import write_report

    started = time.perf_counter()
    kb = load_kb_for(records, standalone)
    info, xrefs, _ = build_resolved_store(kb, f"sqlite:///{out / 'kb.sqlite'}")
    err_console.print(f"1/4 knowledge base: {info.n_records} records, {len(xrefs)} identifiers resolved, store {info.url}")
    cohort = cal.calibrated_cohort()
    specs, skipped = biomarker_record_markers(kb)
    samples, days = trial_samples(specs, months)
    config = TrialConfig(
        DEMO_ARMS, "first-line", patients, months, seed, 50, cohort, knockouts=True, samples=samples, sample_days=days
    )
    config.validate(kb)
    # one cluster for the trial, the biomarker evaluation and the calibration check (started once)
    client = None if scheduler == SERIAL else connect(scheduler)
    address = SERIAL if client is None else str(client.scheduler.address)
    try:
        err_console.print(f"2/4 trial: {', '.join(DEMO_ARMS)}; {patients} first-line patients per arm, {months:g} months")
        run = run_trial(kb, config, out / "trial", scheduler=address, progress=True)
        run.meta["command"] = "exoresist demo " + " ".join(sys.argv[2:])
        print_warnings(run)
        print_trial(run)
        err_console.print(f"3/4 biomarkers: {', '.join(s.name for s in specs)} in plasma at baseline and week 4 (OS)")
        mapper = None if client is None else dask_mapper(client)
        evaluated = evaluate_run(run, specs, skipped, endpoints=("os",), bootstrap=DEMO_BOOTSTRAP, mapper=mapper)
        markers = evaluated.evaluation.to_json_dict()
        write_json(markers, out / "biomarkers.json")
        print_kinds(markers)
        err_console.print(f"4/4 calibration check: {DEMO_REPLICATES} virtual SHARP and IMbrave150 trials each")
        _, table = cal.check(kb, cohort, out / "calibration", replicates=DEMO_REPLICATES, scheduler=address, progress=True)
    finally:
        if client is not None:
            cluster = getattr(client, "cluster", None)
            client.close()
            if cluster is not None:
                cluster.close()
    path = write_report(run, out / "report.html", calibration=table, biomarkers=markers)
    err_console.print(f"wrote {path} in {time.perf_counter() - started:.0f} s; open it in a browser")
