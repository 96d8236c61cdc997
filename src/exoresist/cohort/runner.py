"""Run a virtual trial on Dask: patient chunks, one Parquet file per finished chunk, resumable.

The run folder is ``OUT/chunks/<key>/`` where ``key`` hashes everything that determines the
numbers (the :class:`~exoresist.cohort.trial.TrialConfig`, the model version and the knowledge
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
import logging
import math
import os
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from exoresist.atomic import format_bytes, write_bytes
from exoresist.cohort.manifest import COMMITS, MANIFEST_FORMAT, RunFolder, parquet_bytes, sha256, write_finished
from exoresist.cohort.population import BURN_IN_DAY, DAYS_PER_MONTH, inclusion_probabilities, mechanism_records
from exoresist.cohort.schema import RowContext, columns
from exoresist.cohort.trial import Arm, TrialConfig, TrialError, attribution, simulate_chunk, summarise
from exoresist.kb import KnowledgeBase, load_kb
from exoresist.model.assemble import MODEL_VERSION

SERIAL = "serial"
EXTRA_IN_FLIGHT = 2
"""Chunks submitted beyond one per worker thread, so no worker waits for the next task."""
MAX_WARNINGS = 5
WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclass
class TrialRun:
    """A finished trial: per-patient rows, per-arm statistics, comparisons, attribution, metadata."""

    config: TrialConfig
    patients: pd.DataFrame
    arms: list[dict[str, Any]]
    comparisons: list[dict[str, Any]]
    attribution: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json_dict(self) -> dict[str, Any]:
        """JSON-ready summary; a median not reached (infinite) or undefined becomes ``null``."""
        out: dict[str, Any] = finite_or_none(
            {
                "config": self.config.as_dict(),
                "arms": self.arms,
                "comparisons": self.comparisons,
                "attribution": self.attribution.to_dict(orient="records"),
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


def run_key(kb: KnowledgeBase, config: TrialConfig) -> str:
    payload = {"config": config.as_dict(), "model_version": MODEL_VERSION, "kb": kb.content_hash}
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


@lru_cache(maxsize=1)
def _worker_kb() -> KnowledgeBase:
    return load_kb()


def chunk_task(config: TrialConfig, arms: Sequence[Arm], start: int, stop: int, accept: Sequence[float]) -> pd.DataFrame:
    """What a worker runs: one chunk of patients in every arm (the shipped KB, loaded once per process)."""
    return simulate_chunk(_worker_kb(), config, arms, range(start, stop), accept)


def local_workers() -> int:
    """Worker processes of the local cluster: one per core, at most 2."""
    return max(1, min(2, os.cpu_count() or 1))


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT while worker processes start: they inherit it, so Ctrl-C in a terminal (sent
    to the whole process group) reaches only this process, which stops the cluster itself."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def connect(scheduler: str | None) -> Any:
    """A Dask client: a local cluster (2 single-threaded worker processes) for ``None``, or the
    cluster at ``scheduler``. A scheduler that does not answer within 10 s is a ``TrialError``."""
    from distributed import Client, LocalCluster

    if scheduler is None:
        with _sigint_ignored():
            cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=local_workers(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                env=WORKER_ENV,
                silence_logs=logging.ERROR,  # no shutdown warnings from the workers on Ctrl-C
            )
        return Client(cluster)  # type: ignore[no-untyped-call]
    try:
        return Client(scheduler, timeout="10s")  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise TrialError(f"no Dask scheduler answers at '{scheduler}': {exc}") from None


class TrialInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) stopped a run; the message says how many chunks are kept for the resume."""


class TrialWarning(UserWarning):
    """A chunk or manifest of a resumed run failed verification and is recomputed."""


# --- size: limits and estimate ---------------------------------------------------------------------

ARM_SIMULATIONS_PER_WORKER_SECOND = 250.0
"""Patients simulated in one arm per second by one worker, 24 months first-line. Measured
2026-12-01 on this project's 2-core machine, shared: 5000 patients x 2 arms serially took 29.5 s
more than 500 x 2 (305 per second); rounded down."""
KNOCKOUT_COST = 3.0
"""A run with ``--knockouts`` takes about this many times as long (measured 2.5, 500 x 2 serially)."""
POST_SORAFENIB_COST = 5.0
"""Second line also simulates the first-line treatment before it (measured 4.4, 500 x 2 serially)."""
MEMORY_PER_CELL_BYTES = 100.0
"""Peak memory per value of ``patients.parquet`` while the finished run is assembled (the chunk
frames, their concatenation, the sorted copy and the Parquet bytes). Measured 84 bytes: peak RSS
of 5000 x 2 patients minus that of 500 x 2, over the difference in values; rounded up."""
BASE_MEMORY_BYTES = 450 * 2**20
"""Peak memory of a small run (Python, numba, the model; measured 435 MB)."""
CONFIRM_SECONDS = 30 * 60.0
CONFIRM_BYTES = 4 * 2**30


@dataclass(frozen=True)
class RunEstimate:
    """How long a run takes and how much memory it needs, roughly (within a factor of 2)."""

    patients: int
    arms: int
    workers: int
    seconds: float
    memory_bytes: float

    @property
    def needs_confirmation(self) -> bool:
        """True beyond :data:`CONFIRM_SECONDS` or :data:`CONFIRM_BYTES`: the CLI then asks for ``--yes``."""
        return self.seconds > CONFIRM_SECONDS or self.memory_bytes > CONFIRM_BYTES

    @property
    def fits_in_memory(self) -> bool:
        """Whether the estimated memory is below this machine's physical memory (unknown: True)."""
        total = physical_memory()
        return total is None or self.memory_bytes < total

    def describe(self) -> str:
        return (
            f"{self.patients:,} patients x {self.arms} arm(s) on {self.workers} worker(s): about "
            f"{_duration(self.seconds)} and {format_bytes(self.memory_bytes)} of memory (rough estimate)"
        )


def physical_memory() -> int | None:
    """Bytes of physical memory of this machine, if the platform tells."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return None


def estimate(kb: KnowledgeBase, config: TrialConfig, workers: int) -> RunEstimate:
    """The time and memory of running ``config`` from scratch on ``workers`` single-threaded workers.

    Time scales with the simulated days (screening window plus follow-up) against the measured
    24-month rate; memory with the values of ``patients.parquet`` (rows times columns)."""
    arms = len(config.arms)
    days = (BURN_IN_DAY + config.months * DAYS_PER_MONTH) / (BURN_IN_DAY + 24.0 * DAYS_PER_MONTH)
    cost = days * (KNOCKOUT_COST if config.knockouts else 1.0)
    cost *= POST_SORAFENIB_COST if config.population != "first-line" else 1.0
    seconds = config.patients * arms * cost / (ARM_SIMULATIONS_PER_WORKER_SECOND * max(1, workers))
    cells = config.patients * arms * len(columns(_row_context(kb, config, tuple(config.arms))))
    return RunEstimate(config.patients, arms, workers, seconds, BASE_MEMORY_BYTES + cells * MEMORY_PER_CELL_BYTES)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def n_chunks(config: TrialConfig) -> int:
    return -(-config.patients // config.chunk_size)


def chunk_range(config: TrialConfig, i: int) -> range:
    """The patients of chunk ``i`` (made on demand: a run never holds all its ranges)."""
    start = i * config.chunk_size
    return range(start, min(start + config.chunk_size, config.patients))


def _row_context(kb: KnowledgeBase, config: TrialConfig, labels: tuple[str, ...]) -> RowContext:
    return RowContext(config.population, config.months, labels, mechanism_records(kb), config.knockouts)


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
    if kb.content_hash != _worker_kb().content_hash and scheduler != SERIAL:
        raise TrialError("Dask workers load the shipped knowledge base; run a modified KB with scheduler='serial'")
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
    try:
        client = None if scheduler == SERIAL else connect(scheduler)  # fails before any work
        with RunFolder.open(run_dir, header, _row_context(kb, config, labels)) as folder:
            stored, why = folder.read_header()
            if why:
                warn(why)
            if stored is not None and _valid_inclusion(stored.get("inclusion")):
                accept: tuple[float, ...] = tuple(stored["inclusion"])
            else:
                accept = inclusion_probabilities(kb, config.cohort, config.seed)
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
        arm_stats, comparisons = summarise(patients, labels)
        attr = attribution(kb, patients, labels)
        patients_data = parquet_bytes(patients)
        meta = {
            "population": config.population,
            "patients_per_arm": config.patients,
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
        run = TrialRun(config, patients, arm_stats, comparisons, attr, meta)
        write_finished(out_dir, patients_data, json_bytes(run.to_json_dict()), key)
        return run
    except KeyboardInterrupt:
        interrupted = True
        raise TrialInterrupted(
            f"interrupted: {written:,} of {n:,} chunks are written in {run_dir}; run the same command again to resume"
        ) from None
    finally:
        if client is not None:
            _close(client, timeout=5 if interrupted else 10)


def _close(client: Any, timeout: float) -> None:
    """Close the client and its local cluster without Dask's shutdown noise, waiting at most
    ``timeout`` seconds for each (short after Ctrl-C: the workers' tasks are abandoned)."""
    quiet = [logging.getLogger(name) for name in ("distributed", "tornado", "asyncio")]
    levels = [log.level for log in quiet]
    for log in quiet:
        log.setLevel(logging.CRITICAL)
    try:
        cluster = getattr(client, "cluster", None)
        with _sigint_ignored():
            # best effort: a worker busy in a simulation may not answer in time; its process is a
            # daemon and ends with this one
            with contextlib.suppress(Exception):
                client.close(timeout=timeout)
            if cluster is not None:
                with contextlib.suppress(Exception):
                    cluster.close(timeout=timeout)
    finally:
        for log, level in zip(quiet, levels, strict=True):
            log.setLevel(level)


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

    done_before = config.patients - sum(len(chunk_range(config, i)) for i in todo)
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
        task = bar.add_task("trial", total=config.patients, completed=done_before, rate="")
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

        def submit_next() -> None:
            i = next(pending, None)
            if i is None:
                return
            r = chunk_range(config, i)
            fut = client.submit(chunk_task, config, arm_list, r.start, r.stop, accept_list, pure=False, retries=retries)
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
