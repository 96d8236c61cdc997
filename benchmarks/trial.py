"""Benchmark a two-arm, 24-month virtual trial on the local Dask cluster, and resuming a killed run.

Usage (from the repository root)::

    .venv/bin/python benchmarks/trial.py --patients 10000

1. An uninterrupted run (``exoresist trial run`` in a subprocess, local cluster): wall time,
   patients per second (virtual patients, each simulated in both arms) and arm simulations per
   second.
2. The same run in a second folder, killed (SIGKILL) once half of its chunk files are written, then
   started again with the same arguments: time of the resumed part, and whether its
   ``patients.parquet`` equals the uninterrupted one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd


def command(args: argparse.Namespace, out: Path) -> list[str]:
    cmd = [sys.executable, "-m", "exoresist.cli.main", "trial", "run"]
    for arm in args.arm:
        cmd += ["--arm", arm]
    cmd += ["--patients", str(args.patients), "--months", str(args.months), "--seed", str(args.seed)]
    cmd += ["--chunk-size", str(args.chunk_size), "--out", str(out), "--format", "json"]
    if args.scheduler:
        cmd += ["--scheduler", args.scheduler]
    return cmd


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=10_000, help="virtual patients (each simulated in every arm)")
    ap.add_argument(
        "--arm", action="append", default=None, help="arm (repeatable); default sorafenib and sorafenib+secretion-blockade"
    )
    ap.add_argument("--months", type=float, default=24.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--chunk-size", type=int, default=250)
    ap.add_argument("--scheduler", default=None, help="Dask scheduler address (default: a local cluster)")
    ap.add_argument("--keep", action="store_true", help="keep the output folders")
    args = ap.parse_args(argv)
    args.arm = args.arm or ["sorafenib", "sorafenib+secretion-blockade"]
    root = Path(tempfile.mkdtemp(prefix="exoresist-trial-bench-"))
    try:
        full = root / "uninterrupted"
        t0 = time.perf_counter()
        subprocess.run(command(args, full), check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        n_sims = args.patients * len(args.arm)
        print(
            f"uninterrupted: {args.patients} patients x {len(args.arm)} arms x {args.months:g} months in {wall:.1f} s "
            f"(including cluster start-up and the inclusion pilot) = {args.patients / wall:.1f} patients/s, "
            f"{n_sims / wall:.1f} arm simulations/s; cores: {os.cpu_count()}"
        )

        killed = root / "killed"
        n_chunks = -(-args.patients // args.chunk_size)
        proc = subprocess.Popen(command(args, killed), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t1 = time.perf_counter()
        while len(list(killed.glob("chunks/*/chunk-*.parquet"))) < n_chunks / 2:
            if proc.poll() is not None:
                raise SystemExit("the run finished before it could be killed: use more patients or smaller chunks")
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        done_before = len(list(killed.glob("chunks/*/chunk-*.parquet")))
        killed_after = time.perf_counter() - t1
        t2 = time.perf_counter()
        subprocess.run(command(args, killed), check=True, stdout=subprocess.DEVNULL)
        resume = time.perf_counter() - t2
        same = pd.read_parquet(full / "patients.parquet").equals(pd.read_parquet(killed / "patients.parquet"))
        print(
            f"killed after {killed_after:.1f} s with {done_before}/{n_chunks} chunks written; "
            f"resumed run finished in {resume:.1f} s; patients.parquet identical to the uninterrupted run: {same}"
        )
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"outputs kept in {root}")
    print("reproduce: " + " ".join([".venv/bin/python", "benchmarks/trial.py", *(argv if argv is not None else sys.argv[1:])]))


if __name__ == "__main__":
    main()
