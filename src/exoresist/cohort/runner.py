"""Run a virtual trial on Dask: patient chunks, one Parquet file per finished chunk, resumable.

The run folder is ``OUT/chunks/<key>/`` where ``key`` hashes everything that determines the
numbers (the :class:`~exoresist.cohort.config.TrialConfig`, the model version and the knowledge
base content). A chunk file is written (atomically) as soon as its chunk finishes, so a run that
is stopped and started again with the same arguments computes only the missing chunks; every
chunk is a pure function of the seed and its patient indices, so the result is identical to an
uninterrupted run, on any scheduler.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from exoresist.atomic import write_via
from exoresist.cohort.arms import Arm, TrialError
from exoresist.cohort.config import TrialConfig
from exoresist.cohort.covariates import Covariates, baseline_comparison
from exoresist.cohort.credibility import arm_warnings
from exoresist.cohort.population import inclusion_probabilities
from exoresist.cohort.result import ArmSummary, BaselineRow, Comparison, ReplicateFigure
from exoresist.cohort.simulate import simulate_chunk
from exoresist.cohort.statistics import attribution, replicate_figures, summarise
from exoresist.kb import KnowledgeBase, load_kb
from exoresist.model.assemble import MODEL_VERSION

SERIAL = "serial"
WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


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


def run_key(kb: KnowledgeBase, config: TrialConfig) -> str:
    payload = {"config": config.as_dict(), "model_version": MODEL_VERSION, "kb": kb.content_hash}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` atomically (a reader sees the old file or the whole new one)."""
    write_via(path, lambda tmp: frame.to_parquet(tmp, index=False))


def write_json(data: Any, path: Path) -> None:
    write_via(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2, default=_json_default) + "\n"))


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


@lru_cache(maxsize=1)
def _worker_kb() -> KnowledgeBase:
    return load_kb()


@dataclass(frozen=True)
class KBPayload:
    """How a worker rebuilds the client's KB: the shipped records (``base == "shipped"``) or none,
    plus ``records`` (the JSON of the records added to them, e.g. a user's ``--records``), checked
    against ``content_hash``."""

    base: str
    records: str
    content_hash: str


def kb_payload(kb: KnowledgeBase) -> KBPayload:
    """The smallest payload that rebuilds ``kb`` in a worker (only the added records travel)."""
    shipped = _worker_kb()
    n = len(shipped.records)
    if kb.records[:n] == shipped.records:
        base, extra = "shipped", kb.records[n:]
    else:
        base, extra = "none", kb.records
    text = json.dumps([r.model_dump(mode="json") for r in extra], sort_keys=True) if extra else ""
    return KBPayload(base, text, kb.content_hash)


@lru_cache(maxsize=4)
def _payload_kb(payload: KBPayload) -> KnowledgeBase:
    from pydantic import TypeAdapter

    from exoresist.kb.models import Record

    adapter: TypeAdapter[Record] = TypeAdapter(Record)
    added = tuple(adapter.validate_python(d) for d in json.loads(payload.records)) if payload.records else ()
    kb = KnowledgeBase(records=(_worker_kb().records if payload.base == "shipped" else ()) + added)
    if kb.content_hash != payload.content_hash:
        raise TrialError("a Dask worker rebuilt a different knowledge base (is it running another exoresist version?)")
    return kb


def chunk_task(
    config: TrialConfig, arms: Sequence[Arm], start: int, stop: int, accept: Sequence[float], kb: KBPayload | None = None
) -> pd.DataFrame:
    """What a worker runs: one chunk of patients in every arm, on the shipped KB or the one ``kb``
    describes (each rebuilt once per worker process)."""
    return simulate_chunk(_worker_kb() if kb is None else _payload_kb(kb), config, arms, range(start, stop), accept)


def connect(scheduler: str | None) -> Any:
    """A Dask client: a local cluster (2 single-threaded worker processes) for ``None``, or the
    cluster at ``scheduler``. A scheduler that does not answer within 10 s is a ``TrialError``."""
    from distributed import Client, LocalCluster

    if scheduler is None:
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=max(1, min(2, os.cpu_count() or 1)),
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            env=WORKER_ENV,
        )
        return Client(cluster)  # type: ignore[no-untyped-call]
    try:
        return Client(scheduler, timeout="10s")  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise TrialError(f"no Dask scheduler answers at '{scheduler}': {exc}") from None


def run_trial(
    kb: KnowledgeBase,
    config: TrialConfig,
    out_dir: Path,
    *,
    scheduler: str | None = None,
    progress: bool = True,
    on_chunk: Callable[[int], None] | None = None,
) -> TrialRun:
    """Run (or resume) ``config``; ``scheduler`` is ``None`` (local cluster), ``"serial"`` (this
    process, no Dask) or a scheduler address. Writes chunk files, ``patients.parquet`` and
    ``trial.json`` in ``out_dir``. ``on_chunk(i)`` is called after chunk ``i`` is written."""
    started = time.perf_counter()
    arms = config.validate(kb)
    client = None if scheduler == SERIAL else connect(scheduler)  # fails before any work
    try:
        key = run_key(kb, config)
        run_dir = out_dir / "chunks" / key
        manifest = {"config": config.as_dict(), "model_version": MODEL_VERSION, "kb": kb.content_hash, "key": key}
        manifest_path = run_dir / "manifest.json"
        if manifest_path.exists():
            previous = json.loads(manifest_path.read_text())
            if previous.get("key") != key:
                raise TrialError(f"{manifest_path} belongs to another run; remove the folder or choose another --out")
        else:
            write_json(manifest, manifest_path)
        accept_path = run_dir / "inclusion.json"
        if accept_path.exists():
            accept = tuple(float(x) for x in json.loads(accept_path.read_text()))
        else:
            accept = inclusion_probabilities(kb, config.cohort, config.seed, config.target)
            write_json(list(accept), accept_path)
        chunks = config.chunks()
        paths = [run_dir / f"chunk-{i:05d}.parquet" for i in range(len(chunks))]
        todo = [i for i, p in enumerate(paths) if not p.exists()]
        n_resumed = len(chunks) - len(todo)
        _execute(client, kb, config, arms, chunks, paths, todo, accept, progress, on_chunk)
        labels = [a.label for a in arms]
        patients = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
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
        meta = {
            "population": config.population,
            "patients_per_arm": config.patients,
            "replicates": config.replicates,
            "reference_arm": config.reference_arm,
            "later_line_share": config.later_line,
            "months": config.months,
            "seed": config.seed,
            "model_version": MODEL_VERSION,
            "run_key": key,
            "chunks": len(chunks),
            "chunks_resumed": n_resumed,
            "scheduler": scheduler or "local cluster",
            "inclusion_probabilities": [round(a, 3) for a in accept],
            "wall_time_s": round(time.perf_counter() - started, 2),
            "failed_simulations": int((~patients["ok"]).sum()),
        }
        run = TrialRun(config, patients, arm_stats, comparisons, attr, baseline, reps, arm_warnings(kb, arms), meta)
        write_parquet(patients, out_dir / "patients.parquet")
        write_json(run.to_json_dict(), out_dir / "trial.json")
        return run
    finally:
        if client is not None:
            cluster = getattr(client, "cluster", None)
            client.close()
            if cluster is not None:
                cluster.close()


def _execute(
    client: Any,
    kb: KnowledgeBase,
    config: TrialConfig,
    arms: Sequence[Arm],
    chunks: Sequence[range],
    paths: Sequence[Path],
    todo: Sequence[int],
    accept: Sequence[float],
    progress: bool,
    on_chunk: Callable[[int], None] | None,
) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    pending = set(todo)
    done_before = sum(len(c) for i, c in enumerate(chunks) if i not in pending)
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

        def finished(i: int, frame: pd.DataFrame) -> None:
            nonlocal new
            write_parquet(frame, paths[i])
            new += len(chunks[i])
            rate = new / max(time.perf_counter() - t0, 1e-9)
            bar.update(task, advance=len(chunks[i]), rate=f"{rate:.1f} patients/s")
            if on_chunk is not None:
                on_chunk(i)

        if client is None:
            for i in todo:
                finished(i, simulate_chunk(kb, config, arms, chunks[i], accept))
            return
        from distributed import as_completed

        payload = None if kb.content_hash == _worker_kb().content_hash else kb_payload(kb)
        futures = {
            client.submit(chunk_task, config, list(arms), chunks[i].start, chunks[i].stop, list(accept), payload, pure=False): i
            for i in todo
        }
        for fut in as_completed(list(futures)):  # type: ignore[no-untyped-call]
            finished(futures[fut], fut.result())
