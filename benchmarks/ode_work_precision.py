"""Work-precision diagram: error against speed of the engine and of libroadrunner over tolerances.

Usage (from the repository root)::

    .venv/bin/python benchmarks/ode_work_precision.py --out docs/figures/ode_work_precision.png

Same model and parameter sets as ``benchmarks/ode_batch.py`` (the full patient model, 730 days,
weekly output). For each relative tolerance, the engine integrates ``--n-sets`` sets in one batch
and libroadrunner the first ``--n-roadrunner`` sets one after another; the error of each is the
largest relative error against libroadrunner at rtol 1e-10 / atol 1e-14 on the first
``--n-reference`` sets (floor 1e-6 x max|value| per species, as in ``ode_batch.py``). Speeds are
sets per second, the best of ``--repeat`` timings. Reading the figure: at any error level, the
horizontal distance between the two curves is the speed-up at equal accuracy.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from ode_batch import build_spec, rel, roadrunner_runner, sample  # the script's folder is on sys.path when run as a script

from exoresist.atomic import write_via
from exoresist.ode import simulate


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-sets", type=int, default=2000, help="engine sets per tolerance")
    ap.add_argument("--n-roadrunner", type=int, default=100, help="libroadrunner sets per tolerance")
    ap.add_argument("--n-reference", type=int, default=20)
    ap.add_argument("--rtols", type=float, nargs="+", default=[1e-4, 1e-5, 1e-6, 1e-7, 1e-8])
    ap.add_argument("--atol", type=float, default=1e-9)
    ap.add_argument("--t-end", type=float, default=730.0)
    ap.add_argument("--every", type=float, default=7.0)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None, help="PNG of the diagram")
    args = ap.parse_args(argv)
    if args.n_reference > min(args.n_sets, args.n_roadrunner):
        ap.error("--n-reference must not exceed --n-sets or --n-roadrunner")

    spec = build_spec(args.t_end)
    times = np.arange(0.0, args.t_end + 1e-9, args.every)
    params = sample(spec, args.n_sets, args.seed)
    simulate(spec, params[:2], t_end_day=1.0)  # compile and load once
    run_rr = roadrunner_runner(spec, params, times)

    refs = [run_rr(k, 1e-10, 1e-14) for k in range(args.n_reference)]
    rows: list[tuple[str, float, float, float]] = []  # method, rtol, sets/s, error
    for rtol in args.rtols:
        best = np.inf
        for _ in range(args.repeat):
            res = simulate(spec, params, t_end_day=args.t_end, t_eval_day=times, rtol=rtol, atol=args.atol)
            best = min(best, res.wall_time_s)
        err = max(rel(res.states[k], refs[k]) for k in range(args.n_reference))
        rows.append(("engine", rtol, args.n_sets / best, err))
        ok = f"ok {int(res.ok.sum())}/{args.n_sets}"
        print(f"engine     rtol {rtol:7.0e}: {args.n_sets / best:8.0f} sets/s, error {err:.2e}, {ok}")
        best = np.inf
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            outs = [run_rr(k, rtol, args.atol) for k in range(args.n_roadrunner)]
            best = min(best, time.perf_counter() - t0)
        err = max(rel(outs[k], refs[k]) for k in range(args.n_reference))
        rows.append(("libroadrunner", rtol, args.n_roadrunner / best, err))
        print(f"roadrunner rtol {rtol:7.0e}: {args.n_roadrunner / best:8.0f} sets/s, error {err:.2e}")

    # speed-up at equal accuracy: for each engine point, libroadrunner's speed at that error
    # (log-log interpolation along its curve, where the error lies within its range)
    rr_pts = sorted((e, v) for m, _, v, e in rows if m == "libroadrunner")
    for m, rtol, v, e in rows:
        if m != "engine":
            continue
        errs = np.log([p[0] for p in rr_pts])
        speeds = np.log([p[1] for p in rr_pts])
        if errs.min() <= np.log(e) <= errs.max():
            rr_speed = float(np.exp(np.interp(np.log(e), errs, speeds)))
            print(f"at the engine's error for rtol {rtol:.0e} ({e:.2e}): speed-up {v / rr_speed:.1f}x over libroadrunner")

    if args.out is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6.4, 4.4))
        for method, color in (("engine", "#1f77b4"), ("libroadrunner", "#d62728")):
            pts = [(v, e, r) for m, r, v, e in rows if m == method]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", color=color, label=method)
            for v, e, r in pts:
                ax.annotate(f"{r:.0e}", (v, e), textcoords="offset points", xytext=(5, 4), fontsize=7, color=color)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("parameter sets per second (2 cores; libroadrunner one set after another)")
        ax.set_ylabel(f"max relative error on {args.n_reference} sets")
        ax.set_title("Full patient model, 730 days: error against speed\n(labels: rtol)", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.spines["top"].set_visible(False)
        ax.spines["right"].set_visible(False)
        ax.legend(frameon=False)
        fig.tight_layout()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_via(args.out, lambda tmp: fig.savefig(tmp, dpi=150, format="png"))
        plt.close(fig)
        print(f"wrote {args.out}")
    print("reproduce: " + " ".join([".venv/bin/python", "benchmarks/ode_work_precision.py", *(argv or sys.argv[1:])]))


if __name__ == "__main__":
    main()
