"""The Dask side of a trial: the worker processes, how a worker rebuilds the client's knowledge
base, the task a worker runs, and connecting to and closing a cluster."""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pandas as pd

from exoresist.cohort.arms import Arm, TrialError
from exoresist.cohort.config import TrialConfig
from exoresist.cohort.simulate import simulate_chunk
from exoresist.kb import KnowledgeBase, load_kb

SERIAL = "serial"
WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


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
    shipped = load_kb()
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
    kb = KnowledgeBase(records=(load_kb().records if payload.base == "shipped" else ()) + added)
    if kb.content_hash != payload.content_hash:
        raise TrialError("a Dask worker rebuilt a different knowledge base (is it running another exoresist version?)")
    return kb


def chunk_task(
    config: TrialConfig, arms: Sequence[Arm], start: int, stop: int, accept: Sequence[float], kb: KBPayload | None = None
) -> pd.DataFrame:
    """What a worker runs: one chunk of patients in every arm, on the shipped KB or the one ``kb``
    describes (each rebuilt once per worker process)."""
    return simulate_chunk(load_kb() if kb is None else _payload_kb(kb), config, arms, range(start, stop), accept)


def local_workers() -> int:
    """Worker processes of the local cluster: one per core, at most 2."""
    return max(1, min(2, os.cpu_count() or 1))


@contextmanager
def sigint_ignored() -> Iterator[None]:
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


INTERRUPT_GRACE_S = 30.0
"""Seconds a Ctrl-C'd run gets to stop cleanly before the process ends itself (see
:func:`interrupt_watchdog`)."""


@contextmanager
def interrupt_watchdog(message: Callable[[], str], grace_s: float = INTERRUPT_GRACE_S) -> Iterator[None]:
    """Make Ctrl-C stop the process whatever it is waiting on. The first SIGINT raises
    ``KeyboardInterrupt`` as usual (the runner then says what it kept and closes the cluster) and
    starts a timer: if the process is still alive ``grace_s`` seconds later (a wait inside Dask that
    never returned, once seen under heavy load), it prints ``message()`` and exits with status 130.
    Chunks are committed atomically, so nothing is half-written either way. Only in the main thread
    (where signals arrive); elsewhere, a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def give_up() -> None:
        time.sleep(grace_s)
        with contextlib.suppress(Exception):
            sys.stderr.write(message() + f" (stopped after {grace_s:g} s waiting for the cluster)\n")
            sys.stderr.flush()
        os._exit(130)

    def on_sigint(signum: int, frame: Any) -> None:
        threading.Thread(target=give_up, name="exoresist-interrupt-watchdog", daemon=True).start()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def connect(scheduler: str | None) -> Any:
    """A Dask client: a local cluster (2 single-threaded worker processes) for ``None``, or the
    cluster at ``scheduler``. A scheduler that does not answer within 10 s is a ``TrialError``."""
    from distributed import Client, LocalCluster

    if scheduler is None:
        before = {p.pid for p in multiprocessing.active_children()}
        with sigint_ignored():
            cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=local_workers(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                env=WORKER_ENV,
                # no worker log lines: at shutdown (or Ctrl-C) a worker whose heartbeat finds the
                # scheduler gone logs an ERROR with a traceback; task failures reach the client as
                # exceptions and the runner reports them in one line
                silence_logs=logging.CRITICAL,
            )
        # the processes this cluster started (its nannies; their workers end with them), so that
        # close_client can stop exactly these and no other child of this process
        cluster.exoresist_processes = [p for p in multiprocessing.active_children() if p.pid not in before]  # type: ignore[attr-defined]
        return Client(cluster)  # type: ignore[no-untyped-call]
    try:
        return Client(scheduler, timeout="10s")  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise TrialError(f"no Dask scheduler answers at '{scheduler}': {exc}") from None


def close_client(client: Any, timeout: float) -> None:
    """Close the client and its local cluster without Dask's shutdown noise, waiting at most
    ``timeout`` seconds for each (short after Ctrl-C: the workers' tasks are abandoned)."""
    quiet = [logging.getLogger(name) for name in ("distributed", "tornado", "asyncio")]
    levels = [log.level for log in quiet]
    for log in quiet:
        log.setLevel(logging.CRITICAL)
    try:
        cluster = getattr(client, "cluster", None)
        with sigint_ignored():
            # best effort: a worker busy in a simulation may not answer in time; its process is a
            # daemon and ends with this one
            with contextlib.suppress(Exception):
                client.close(timeout=timeout)
            if cluster is not None:
                with contextlib.suppress(Exception):
                    cluster.close(timeout=timeout)
                # a worker process that did not stop in time (busy, or its nanny lost) would make the
                # interpreter wait for it at exit, so a Ctrl-C could hang: stop what is left of ours
                for child in getattr(cluster, "exoresist_processes", ()):
                    with contextlib.suppress(Exception):
                        child.kill()
                        child.join(timeout)
    finally:
        for log, level in zip(quiet, levels, strict=True):
            log.setLevel(level)
