"""Run a virtual trial on Dask: patient chunks, one Parquet file per finished chunk, resumable.

The run folder is ``OUT/chunks/<key>/`` where ``key`` hashes everything that determines the
numbers (the :class:`~exoresist.cohort.config.TrialConfig`, the model version and the knowledge
base content). A chunk file is written (atomically, durably) as soon as its chunk finishes and
committed in the run's manifest (:mod:`exoresist.cohort.manifest`), so a run that is stopped and
started again with the same arguments computes only the missing chunks, after verifying every
committed one; every chunk is a pure function of the seed and its patient indices, so the result
is identical to an uninterrupted run, on any scheduler.

Work is bounded: at most a few chunks more than the workers can run are in flight at once, chunk
ranges are made one at a time, and :func:`estimate` gives the time and memory of a run before it
starts. Ctrl-C stops a run with :class:`TrialInterrupted`, keeping every chunk written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from exoresist.atomic import write_bytes
from exoresist.cohort.arms import Arm, TrialError
from exoresist.cohort.config import TrialConfig
from exoresist.cohort.covariates import Covariates, baseline_comparison
from exoresist.cohort.credibility import arm_warnings
from exoresist.cohort.estimate import RunEstimate, estimate
from exoresist.cohort.manifest import COMMITS, MANIFEST_FORMAT, RunFolder, parquet_bytes, sha256, write_finished
from exoresist.cohort.population import inclusion_probabilities
from exoresist.cohort.result import ArmSummary, BaselineRow, Comparison, ReplicateFigure
from exoresist.cohort.schema import row_context
from exoresist.cohort.simulate import simulate_chunk
from exoresist.cohort.statistics import attribution, replicate_figures, summarise
from exoresist.cohort.workers import (
    SERIAL,
    WORKER_ENV,
    KBPayload,
    chunk_task,
    close_client,
    connect,
    interrupt_watchdog,
    kb_payload,
    local_workers,
)
from exoresist.kb import KnowledgeBase, load_kb
from exoresist.model.assemble import MODEL_VERSION

__all__ = [
    "SERIAL",
    "WORKER_ENV",
    "KBPayload",
    "RunEstimate",
    "TrialError",
    "TrialInterrupted",
    "TrialRun",
    "TrialWarning",
    "connect",
    "estimate",
    "finite_or_none",
    "kb_payload",
    "local_workers",
    "run_key",
    "run_trial",
    "write_json",
]

EXTRA_IN_FLIGHT = 2
"""Chunks submitted beyond one per worker thread, so no worker waits for the next task."""
MAX_WARNINGS = 5


@dataclass
class TrialRun:
    """A finished trial: per-patient rows, per-arm statistics, comparisons, attribution, metadata."""

    config: TrialConfig
    patients: pd.DataFrame
    arms: list[ArmSummary]
    comparisons: list[Comparison]
    attribution: pd.DataFrame
    baseline: list[BaselineRow] = field(default_factory=list)
    replicates: list[ReplicateFigure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json_dict(self) -> dict[str, Any]:
        """JSON-ready summary; a median not reached (infinite) or undefined becomes ``null``."""
        out: dict[str, Any] = finite_or_none(
            {
                "config": self.config.as_dict(),
                "arms": self.arms,
                "comparisons": self.comparisons,
                "replicates": self.replicates,
                "baseline": self.baseline,
                "attribution": self.attribution.to_dict(orient="records"),
                "warnings": self.warnings,
                "meta": self.meta,
            }
        )
        return out


def finite_or_none(value: Any) -> Any:
    """``value`` with every non-finite float (recursively) replaced by ``None`` (valid JSON)."""
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


CODE_PACKAGES = ("cohort", "model", "ode", "kb")
"""Subpackages whose source determines a trial's numbers (the report, CLI, web and biomarker
stages only read finished runs)."""


@lru_cache(maxsize=1)
def code_hash() -> str:
    """SHA-256 of the source of :data:`CODE_PACKAGES`: part of the run key, so chunks computed by
    other code (an upgrade, a local change) are never reused. ``MODEL_VERSION`` alone missed changes
    that kept it."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for package in CODE_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def run_key(kb: KnowledgeBase, config: TrialConfig) -> str:
    payload = {"config": config.as_dict(), "model_version": MODEL_VERSION, "kb": kb.content_hash, "code": code_hash()}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` atomically (a reader sees the old file or the whole new one)."""
    write_bytes(path, parquet_bytes(frame))


def json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2, default=_json_default) + "\n").encode()


def write_json(data: Any, path: Path) -> None:
    write_bytes(path, json_bytes(data))


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class TrialInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) stopped a run; the message says how many chunks are kept for the resume."""


class TrialWarning(UserWarning):
    """A chunk or manifest of a resumed run failed verification and is recomputed."""


def n_chunks(config: TrialConfig) -> int:
    return -(-config.total_patients // config.chunk_size)


def chunk_range(config: TrialConfig, i: int) -> range:
    """The patients of chunk ``i`` (made on demand: a run never holds all its ranges)."""
    start = i * config.chunk_size
    return range(start, min(start + config.chunk_size, config.total_patients))


def _valid_inclusion(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 3 and all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in value)


# --- the run ---------------------------------------------------------------------------------------


def run_trial(
    kb: KnowledgeBase,
    config: TrialConfig,
    out_dir: Path,
    *,
    scheduler: str | None = None,
    progress: bool = True,
    on_chunk: Callable[[int], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
    retries: int = 0,
) -> TrialRun:
    """Run (or resume) ``config``; ``scheduler`` is ``None`` (local cluster), ``"serial"`` (this
    process, no Dask) or a scheduler address. Writes chunk files, ``patients.parquet``,
    ``trial.json`` and then ``complete.json`` in ``out_dir``. ``on_chunk(i)`` is called after
    chunk ``i`` is written and committed; ``on_warning(text)`` for each chunk of an earlier run
    that fails verification (default: :class:`TrialWarning`); ``retries`` reruns a Dask task that
    failed (e.g. its worker was lost) that many times. Ctrl-C raises :class:`TrialInterrupted`."""
    started = time.perf_counter()
    arms = config.validate(kb)
    if retries < 0:
        raise TrialError(f"retries must be >= 0, got {retries}")

    def warn(text: str) -> None:
        if on_warning is not None:
            on_warning(text)
        else:
            warnings.warn(text, TrialWarning, stacklevel=3)

    labels = tuple(a.label for a in arms)
    key = run_key(kb, config)
    run_dir = out_dir / "chunks" / key
    n = n_chunks(config)
    header = {
        "format": MANIFEST_FORMAT,
        "config": config.as_dict(),
        "model_version": MODEL_VERSION,
        "kb": kb.content_hash,
        "key": key,
        "arms": list(labels),
        "chunks": n,
    }
    written = 0
    client = None
    interrupted = False

    def interrupted_message() -> str:
        return f"interrupted: {written:,} of {n:,} chunks are written in {run_dir}; run the same command again to resume"

    guard = contextlib.ExitStack()
    guard.enter_context(interrupt_watchdog(interrupted_message))
    try:
        client = None if scheduler == SERIAL else connect(scheduler)  # fails before any work
        with RunFolder.open(run_dir, header, row_context(kb, config, labels)) as folder:
            stored, why = folder.read_header()
            if why:
                warn(why)
            if stored is not None and _valid_inclusion(stored.get("inclusion")):
                accept: tuple[float, ...] = tuple(stored["inclusion"])
            else:
                accept = inclusion_probabilities(kb, config.cohort, config.seed, config.target)
                folder.write_header({**header, "inclusion": list(accept)})
            if folder.torn_lines:
                warn(f"{run_dir / COMMITS}: {folder.torn_lines} incomplete line(s) ignored (a run was stopped while committing)")
            todo: list[int] = []
            problems: list[str] = []
            for i in range(n):
                frame, why = folder.load_chunk(i, chunk_range(config, i))
                if frame is None:
                    todo.append(i)
                    if why:
                        problems.append(why)
            for text in problems[:MAX_WARNINGS]:
                warn(f"{text}: recomputed")
            if len(problems) > MAX_WARNINGS:
                warn(f"and {len(problems) - MAX_WARNINGS} more chunk(s) of {run_dir} failed verification: recomputed")
            written = n - len(todo)
            n_resumed = written

            def finished(i: int, frame: pd.DataFrame) -> None:
                nonlocal written
                folder.write_chunk(i, chunk_range(config, i), frame)
                written += 1
                if on_chunk is not None:
                    on_chunk(i)

            _execute(client, kb, config, arms, todo, accept, progress, finished, retries)
            frames = []
            for i in range(n):
                frame, why = folder.load_chunk(i, chunk_range(config, i))
                if frame is None:
                    raise TrialError(
                        f"{why or 'chunk missing'}, after it was written: run the same command again to recompute it"
                    )
                frames.append(frame)
        patients = pd.concat(frames, ignore_index=True)
        del frames
        # canonical order: arms as given, then patient index (independent of chunking)
        order = patients["arm"].map({label: i for i, label in enumerate(labels)})
        patients = patients.assign(_order=order).sort_values(["_order", "patient"], kind="stable")
        patients = patients.drop(columns="_order").reset_index(drop=True)
        arm_stats, comparisons = summarise(patients, labels, config.reference_arm)
        attr = attribution(kb, patients, labels)
        reps = (
            replicate_figures(
                patients,
                labels,
                config.reference_arm,
                config.patients,
                config.replicates,
                {a: config.arm_size(a) for a in labels},
            )
            if config.replicates > 1
            else []
        )
        first = patients[patients["arm"] == labels[0]]
        cov = Covariates.from_columns({c: first[c].to_numpy() for c in first.columns if c.startswith("cov:")})
        baseline = baseline_comparison(cov, config.target)
        patients_data = parquet_bytes(patients)
        meta = {
            "population": config.population,
            "patients_per_arm": config.patients,
            "replicates": config.replicates,
            "reference_arm": config.reference_arm,
            "later_line_share": config.later_line,
            **({"withdrawal_shares": {a: config.withdrawal(a) for a in labels}} if config.withdrawal_shares is not None else {}),
            "months": config.months,
            "seed": config.seed,
            "model_version": MODEL_VERSION,
            "run_key": key,
            "chunks": n,
            "chunks_resumed": n_resumed,
            "chunks_recomputed": len(problems),
            "scheduler": scheduler or "local cluster",
            "inclusion_probabilities": [round(a, 3) for a in accept],
            "wall_time_s": round(time.perf_counter() - started, 2),
            "failed_simulations": int((~patients["ok"]).sum()),
            "patients_sha256": sha256(patients_data),
        }
        run = TrialRun(config, patients, arm_stats, comparisons, attr, baseline, reps, arm_warnings(kb, arms), meta)
        write_finished(out_dir, patients_data, json_bytes(run.to_json_dict()), key)
        return run
    except KeyboardInterrupt:
        interrupted = True
        raise TrialInterrupted(interrupted_message()) from None
    finally:
        try:
            if client is not None:
                close_client(client, timeout=5 if interrupted else 10)
        finally:
            guard.close()


def _execute(
    client: Any,
    kb: KnowledgeBase,
    config: TrialConfig,
    arms: Sequence[Arm],
    todo: Sequence[int],
    accept: Sequence[float],
    progress: bool,
    finished: Callable[[int, pd.DataFrame], None],
    retries: int,
) -> None:
    """Compute the chunks ``todo``, calling ``finished(i, frame)`` for each as it completes. With
    Dask, at most one chunk per worker thread plus :data:`EXTRA_IN_FLIGHT` are submitted at once."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    done_before = config.total_patients - sum(len(chunk_range(config, i)) for i in todo)
    columns = (
        TextColumn("patients"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    )
    t0 = time.perf_counter()
    with Progress(*columns, disable=not progress, transient=False) as bar:
        task = bar.add_task("trial", total=config.total_patients, completed=done_before, rate="")
        new = 0

        def done(i: int, frame: pd.DataFrame) -> None:
            nonlocal new
            finished(i, frame)
            size = len(chunk_range(config, i))
            new += size
            rate = new / max(time.perf_counter() - t0, 1e-9)
            bar.update(task, advance=size, rate=f"{rate:.1f} patients/s")

        if client is None:
            for i in todo:
                done(i, simulate_chunk(kb, config, arms, chunk_range(config, i), accept))
            return
        from distributed import as_completed

        window = max(1, sum(client.nthreads().values())) + EXTRA_IN_FLIGHT
        pending = iter(todo)
        index: dict[str, int] = {}
        queue = as_completed()  # type: ignore[no-untyped-call]
        arm_list, accept_list = list(arms), list(accept)
        payload = None if kb.content_hash == load_kb().content_hash else kb_payload(kb)

        def submit_next() -> None:
            i = next(pending, None)
            if i is None:
                return
            r = chunk_range(config, i)
            fut = client.submit(chunk_task, config, arm_list, r.start, r.stop, accept_list, payload, pure=False, retries=retries)
            index[fut.key] = i
            queue.add(fut)  # type: ignore[no-untyped-call]

        for _ in range(window):
            submit_next()
        try:
            for fut in queue:
                i = index.pop(fut.key)
                try:
                    frame = fut.result()
                except Exception as exc:
                    if type(exc).__name__ != "KilledWorker":
                        raise
                    raise TrialError(
                        f"the Dask workers running chunk {i} died repeatedly ({exc}); the chunks written are kept: "
                        "run the same command again to resume"
                    ) from None
                fut.release()
                done(i, frame)
                submit_next()
        finally:
            for fut in list(queue.futures):
                fut.cancel()
