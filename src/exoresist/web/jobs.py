"""Trial jobs: ``run_trial`` in the background, one folder per run key, resumable after a restart.

A job's id is the trial's run key (:func:`exoresist.cohort.runner.run_key`: the configuration, the
model version and the KB content), so the same request twice is one job, computed once. Its folder
``DATA/trials/<id>/`` holds ``request.json``, ``status.json`` (rewritten atomically as chunks
finish), the runner's output (``run/chunks/<id>/chunk-*.parquet``, ``run/trial.json``,
``run/patients.parquet``), ``patients.csv`` and ``report.html``. A server started again on the same
folder picks up every job that was queued or running and resumes it from its chunks.

Where jobs run: tiny jobs (at most ``serial_patient_arms`` patient-arms) in a thread of the server;
the others on a Dask cluster the server starts on 127.0.0.1 when the first one comes (or on the
scheduler it was given), so the simulations run in worker processes, not beside the web requests.
"""

from __future__ import annotations

import json
import math
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from exoresist.atomic import write_text
from exoresist.kb import KnowledgeBase

STATES = ("queued", "running", "done", "failed")


class JobLimitError(RuntimeError):
    """Too many jobs queued or running."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def chunk_size_for(patients: int) -> int:
    """Patients per chunk of a web job: about ten chunks (progress to watch), 5 to 50 patients each."""
    return max(5, min(50, math.ceil(patients / 10)))


@dataclass
class Job:
    """A trial job and its progress (what ``GET /api/v1/trials/{id}`` shows)."""

    id: str
    request: dict[str, Any]
    state: str = "queued"
    created_at: str = field(default_factory=_now)
    started_at: str | None = None
    finished_at: str | None = None
    patients_total: int = 0
    patients_done: int = 0
    chunks_total: int = 0
    chunks_done: int = 0
    rate_patients_per_s: float | None = None
    seconds_left: float | None = None
    where: str = ""
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "request": self.request,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "where": self.where,
            "progress": {
                "patients_done": self.patients_done,
                "patients_total": self.patients_total,
                "fraction": (self.patients_done / self.patients_total) if self.patients_total else 0.0,
                "chunks_done": self.chunks_done,
                "chunks_total": self.chunks_total,
                "rate_patients_per_s": self.rate_patients_per_s,
                "seconds_left": self.seconds_left,
            },
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Job:
        p = d.get("progress", {})
        return cls(
            id=d["id"],
            request=d["request"],
            state=d["state"],
            created_at=d.get("created_at") or _now(),
            started_at=d.get("started_at"),
            finished_at=d.get("finished_at"),
            patients_total=p.get("patients_total", 0),
            patients_done=p.get("patients_done", 0),
            chunks_total=p.get("chunks_total", 0),
            chunks_done=p.get("chunks_done", 0),
            where=d.get("where", ""),
            error=d.get("error"),
        )


class JobManager:
    """Runs trial jobs on ``max_jobs`` daemon threads; each calls ``run_trial``.

    The threads are daemons: a server that stops (or is killed) leaves the finished chunks on disk
    and the next server resumes from them."""

    def __init__(
        self,
        kb: KnowledgeBase,
        root: Path,
        *,
        scheduler: str = "local",
        trial_workers: int = 1,
        serial_patient_arms: int = 60,
        max_jobs: int = 2,
    ) -> None:
        self.kb = kb
        self.root = root / "trials"
        self.scheduler = scheduler
        self.trial_workers = trial_workers
        self.serial_patient_arms = serial_patient_arms
        self.max_jobs = max_jobs
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._threads = [
            threading.Thread(target=self._worker, name=f"trial-job-{i}", daemon=True) for i in range(max(1, max_jobs))
        ]
        for t in self._threads:
            t.start()
        self._cluster: Any = None
        self._closed = False

    # --- the configuration of a request ---------------------------------------------------------
    @staticmethod
    def config(request: dict[str, Any]) -> Any:
        """The :class:`~exoresist.cohort.config.TrialConfig` of a request (calibrated cohort, as the CLI uses)."""
        from exoresist.cohort.calibration import calibrated_cohort
        from exoresist.cohort.config import TrialConfig

        return TrialConfig(
            tuple(request["arms"]),
            request["population"],
            int(request["patients"]),
            float(request["months"]),
            int(request["seed"]),
            chunk_size_for(int(request["patients"])),
            calibrated_cohort(),
            bool(request.get("knockouts", False)),
        )

    def job_id(self, request: dict[str, Any]) -> str:
        """Check the request (``TrialError`` naming what is wrong) and return its run key."""
        from exoresist.cohort.runner import run_key

        config = self.config(request)
        config.validate(self.kb)
        return run_key(self.kb, config)

    # --- files ------------------------------------------------------------------------------------
    def folder(self, job_id: str) -> Path:
        return self.root / job_id

    def result_path(self, job_id: str, name: str) -> Path:
        """``trial.json``, ``patients.csv`` or ``report.html`` of a finished job."""
        files = {"trial.json": "run/trial.json", "patients.csv": "patients.csv", "report.html": "report.html"}
        return self.folder(job_id) / files[name]

    def summary(self, job_id: str) -> dict[str, Any]:
        """The finished job's ``trial.json``."""
        data: dict[str, Any] = json.loads(self.result_path(job_id, "trial.json").read_text(encoding="utf-8"))
        return data

    def _save(self, job: Job) -> None:
        write_text(self.folder(job.id) / "status.json", json.dumps(job.to_dict(), indent=2) + "\n")

    # --- submit, look up, resume --------------------------------------------------------------------
    def submit(self, request: dict[str, Any]) -> tuple[Job, bool]:
        """Start the job of ``request`` unless the same one is queued, running or done (``cached``).

        ``TrialError`` for bad arguments; ``JobLimitError`` when ``max_jobs`` jobs are active."""
        job_id = self.job_id(request)
        with self._lock:
            have = self._jobs.get(job_id)
            if have is not None and have.state != "failed":
                return have, True
            active = sum(1 for j in self._jobs.values() if j.state in ("queued", "running"))
            if active >= self.max_jobs:
                raise JobLimitError(f"{active} trial jobs are queued or running (the limit is {self.max_jobs}); try again later")
            job = Job(id=job_id, request=dict(request))
            self._jobs[job_id] = job
            folder = self.folder(job_id)
            folder.mkdir(parents=True, exist_ok=True)
            write_text(folder / "request.json", json.dumps(request, indent=2, sort_keys=True) + "\n")
            self._save(job)
        self._queue.put(job)
        return job, False

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def all(self) -> list[Job]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: (j.created_at, j.id), reverse=True)

    def resume_all(self) -> list[str]:
        """Load every job folder; start again those that were queued or running. Returns their ids."""
        resumed: list[str] = []
        if not self.root.exists():
            return resumed
        for status_path in sorted(self.root.glob("*/status.json")):
            try:
                job = Job.from_dict(json.loads(status_path.read_text(encoding="utf-8")))
            except (OSError, ValueError, KeyError):
                continue
            if job.id != status_path.parent.name:
                continue
            if job.state == "done" and not self.result_path(job.id, "trial.json").exists():
                job.state = "queued"
            if job.state in ("queued", "running"):
                try:
                    same = self.job_id(job.request) == job.id
                except Exception as exc:
                    same, job.error = False, str(exc)
                if not same:
                    job.state = "failed"
                    job.error = job.error or "the KB or model changed since this job was submitted: submit it again"
                    self._jobs[job.id] = job
                    self._save(job)
                    continue
                job.state = "queued"
                self._jobs[job.id] = job
                self._save(job)
                self._queue.put(job)
                resumed.append(job.id)
            else:
                self._jobs[job.id] = job
        return resumed

    # --- running --------------------------------------------------------------------------------------
    def _scheduler_for(self, request: dict[str, Any]) -> str:
        from exoresist.cohort.runner import SERIAL

        if self.scheduler == "serial" or int(request["patients"]) * len(request["arms"]) <= self.serial_patient_arms:
            return SERIAL
        if self.scheduler != "local":
            return self.scheduler
        with self._lock:
            if self._cluster is None:
                from distributed import LocalCluster

                from exoresist.cohort.runner import WORKER_ENV

                self._cluster = LocalCluster(  # type: ignore[no-untyped-call]
                    n_workers=self.trial_workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    env=WORKER_ENV,
                )
            return str(self._cluster.scheduler_address)

    def _worker(self) -> None:
        while (job := self._queue.get()) is not None:
            self._run(job)

    def _run(self, job: Job) -> None:
        from exoresist.cohort.runner import run_trial
        from exoresist.report.trial_report import write_report

        if self._closed:
            return
        try:
            config = self.config(job.request)
            chunks = config.chunks()
            out = self.folder(job.id) / "run"
            chunk_dir = out / "chunks" / job.id
            done = {i for i in range(len(chunks)) if (chunk_dir / f"chunk-{i:05d}.parquet").exists()}
            scheduler = self._scheduler_for(job.request)
            t0 = time.perf_counter()
            with self._lock:
                job.state, job.started_at, job.error = "running", _now(), None
                job.where = "this server (serial)" if scheduler == "serial" else f"Dask scheduler {scheduler}"
                job.patients_total, job.chunks_total = config.patients, len(chunks)
                job.chunks_done = len(done)
                job.patients_done = sum(len(chunks[i]) for i in done)
                self._save(job)
            resumed_patients = job.patients_done

            def on_chunk(i: int) -> None:
                with self._lock:
                    done.add(i)
                    job.chunks_done = len(done)
                    job.patients_done = sum(len(chunks[k]) for k in done)
                    new = job.patients_done - resumed_patients
                    elapsed = max(time.perf_counter() - t0, 1e-9)
                    job.rate_patients_per_s = new / elapsed if new else None
                    left = job.patients_total - job.patients_done
                    job.seconds_left = left / job.rate_patients_per_s if job.rate_patients_per_s else None
                    self._save(job)

            run = run_trial(self.kb, config, out, scheduler=scheduler, progress=False, on_chunk=on_chunk)
            run.meta["command"] = "POST /api/v1/trials " + json.dumps(job.request, sort_keys=True)
            write_report(run, self.folder(job.id) / "report.html")
            write_text(self.folder(job.id) / "patients.csv", run.patients.to_csv(index=False))
            with self._lock:
                job.state, job.finished_at, job.seconds_left = "done", _now(), 0.0
                job.patients_done, job.chunks_done = job.patients_total, job.chunks_total
                self._save(job)
        except Exception as exc:
            if self._closed:  # the server is stopping: the job resumes from its chunks next time
                return
            with self._lock:
                job.state, job.finished_at, job.error = "failed", _now(), f"{type(exc).__name__}: {exc}"
                self._save(job)

    def close(self) -> None:
        """Stop starting jobs and close the Dask cluster. Running jobs stop with the process; their
        finished chunks stay on disk, and a server started again on the same folder resumes them."""
        self._closed = True
        for _ in self._threads:
            self._queue.put(None)
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
