"""Bounded load test of ``exoresist serve`` on 127.0.0.1: latency percentiles and errors.

Starts the server (``exoresist serve`` on a free port, a fresh data folder, its default local Dask
cluster for trials), warms it up, then for each scenario and each number of concurrent clients
every client sends a fixed number of requests one after the other (asyncio, one
connection per client, a minimal HTTP/1.1 client) and the script prints p50/p95/p99 latency (ms) and the errors. Last, it
starts a trial job and measures record search at 10 clients while the job runs. It stops by
itself; every request goes to 127.0.0.1.

Scenarios: record search (``GET /api/v1/records`` with filters and words), record page (``GET
/records/{id}``, HTML), explain (``GET /api/v1/graph/explain``), a small simulation (``POST
/api/v1/simulations``, culture, 14 days). Requests rotate over several queries; explain answers
and assembled models are cached by the server after the first request of each query (the
simulation itself runs every time).

    .venv/bin/python benchmarks/web_load.py                 # 1, 10 and 50 clients
    .venv/bin/python benchmarks/web_load.py --clients 10 --requests 50 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import numpy as np

SEARCHES = [
    {"therapy": "sorafenib"},
    {"therapy": "anti-PD-1", "grade": "A"},
    {"cargo_class": "circRNA"},
    {"q": "TIM-3 NK"},
    {"phenotype": "stemness", "donor": "hcc_cell"},
    {"evidence": "in_vivo", "limit": 10, "offset": 5},
]
RECORDS = [
    "mech:circuhrf1-nk-tim3",
    "mech:circrna-sore-ybx1-sorafenib",
    "mech:mir1247-3p-caf-il6-il8-sorafenib",
    "int:rab27a-knockdown",
    "ther:sorafenib",
    "bm:exo-mir4669",
]
EXPLAINS = [
    ("circCCAR1", "anti-PD-1"),
    ("circUHRF1", "anti-PD-1"),
    ("circRNA-SORE", "sorafenib"),
    ("miR-1247-3p", "sorafenib"),
    ("pIgR", "sorafenib"),
]
SIMULATIONS = [
    {"context": "culture", "therapies": ["sorafenib"], "days": 14, "every": 1},
    {"context": "culture", "therapies": ["sorafenib"], "interventions": ["secretion-blockade"], "days": 14, "every": 1},
]


@dataclass
class Result:
    scenario: str
    clients: int
    requests: int
    latencies_ms: list[float]
    errors: int
    wall_s: float

    def row(self) -> str:
        lat = np.array(self.latencies_ms) if self.latencies_ms else np.array([float("nan")])
        p50, p95, p99 = np.percentile(lat, [50, 95, 99])
        rate = self.requests / self.wall_s if self.wall_s else float("nan")
        return (
            f"| {self.scenario} | {self.clients} | {self.requests} | {p50:.1f} | {p95:.1f} | {p99:.1f} | "
            f"{lat.max():.1f} | {self.errors} | {rate:.0f} |"
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def encode(method: str, path: str, kw: dict[str, Any]) -> bytes:
    """One HTTP/1.1 keep-alive request (the load client is a few lines of asyncio, so that it takes
    as little of the shared CPU as it can; httpx is used only for setting up)."""
    if kw.get("params"):
        path += "?" + urlencode(kw["params"])
    body = json.dumps(kw["json"]).encode() if "json" in kw else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
    if body:
        head += "Content-Type: application/json\r\n"
    return (head + "\r\n").encode() + body


async def one_client(
    url: str, make: Callable[[int], tuple[str, str, dict[str, Any]]], n: int, offset: int, out: list[float], errors: list[int]
) -> None:
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        for i in range(n):
            request = encode(*make(offset + i))
            t0 = time.perf_counter()
            try:
                writer.write(request)
                status_line = await asyncio.wait_for(reader.readline(), 60)
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                await reader.readexactly(length)
                ok = status_line.split()[1] == b"200"
            except (TimeoutError, OSError, asyncio.IncompleteReadError, IndexError):
                ok = False
            out.append(1000 * (time.perf_counter() - t0))
            if not ok:
                errors.append(1)
    finally:
        writer.close()


async def run_scenario(
    url: str, name: str, make: Callable[[int], tuple[str, str, dict[str, Any]]], clients: int, per_client: int
) -> Result:
    latencies: list[float] = []
    errors: list[int] = []
    t0 = time.perf_counter()
    await asyncio.gather(*(one_client(url, make, per_client, 7 * c, latencies, errors) for c in range(clients)))
    return Result(name, clients, clients * per_client, latencies, len(errors), time.perf_counter() - t0)


def scenarios() -> dict[str, Callable[[int], tuple[str, str, dict[str, Any]]]]:
    return {
        "record search": lambda i: ("GET", "/api/v1/records", {"params": SEARCHES[i % len(SEARCHES)]}),
        "record page": lambda i: ("GET", f"/records/{RECORDS[i % len(RECORDS)]}", {}),
        "explain": lambda i: (
            "GET",
            "/api/v1/graph/explain",
            {"params": dict(zip(("cargo", "therapy"), EXPLAINS[i % len(EXPLAINS)], strict=True))},
        ),
        "small simulation": lambda i: ("POST", "/api/v1/simulations", {"json": SIMULATIONS[i % len(SIMULATIONS)]}),
    }


def start_server(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    exe = Path(sys.executable).with_name("exoresist")
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port), "--data", str(data)], stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/api/v1/stats", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the server did not start")


def warm_up(url: str) -> None:
    """One request of every query (fills the server's caches and compiles the simulator)."""
    with httpx.Client(base_url=url, timeout=120) as c:
        for make in scenarios().values():
            for i in range(max(len(SEARCHES), len(RECORDS), len(EXPLAINS), len(SIMULATIONS))):
                method, path, kw = make(i)
                c.request(method, path, **kw).raise_for_status()


def during_trial(url: str, clients: int, per_client: int, patients: int) -> tuple[Result, str]:
    """Record search at ``clients`` clients while a trial job of ``patients`` per arm runs."""
    request = {"arms": ["sorafenib", "atezolizumab+bevacizumab"], "patients": patients, "months": 24, "seed": int(time.time())}
    with httpx.Client(base_url=url, timeout=60) as c:
        job = c.post("/api/v1/trials", json=request).json()
        deadline = time.monotonic() + 180
        while (status := c.get(f"/api/v1/trials/{job['id']}").json())["progress"]["chunks_done"] < 1:
            if status["state"] == "failed" or time.monotonic() > deadline:
                raise SystemExit(f"trial job did not start: {status}")
            time.sleep(0.5)
        before = status["progress"]["patients_done"]
        result = asyncio.run(run_scenario(url, "record search during a trial", scenarios()["record search"], clients, per_client))
        after = c.get(f"/api/v1/trials/{job['id']}").json()
    note = (
        f"trial job {job['id']} ({patients} patients x 2 arms, {after['where']}): state {after['state']}, "
        f"patients done {before} -> {after['progress']['patients_done']} during the measurement"
    )
    return result, note


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 10, 50])
    ap.add_argument("--requests", type=int, default=40, help="requests per client for search, record page and explain")
    ap.add_argument("--sim-requests", type=int, default=5, help="requests per client for the simulation")
    ap.add_argument("--rounds", type=int, default=1, help="repeat the whole measurement")
    ap.add_argument("--trial-patients", type=int, default=400)
    ap.add_argument("--no-trial", action="store_true")
    args = ap.parse_args()
    data = Path(tempfile.mkdtemp(prefix="exoresist-load-"))
    proc, url = start_server(data)
    try:
        print(f"# {' '.join(['benchmarks/web_load.py', *sys.argv[1:]])}")
        print(f"# server {url}, {os.cpu_count()} cores, data {data}")
        warm_up(url)
        print("| scenario | clients | requests | p50 ms | p95 ms | p99 ms | max ms | errors | req/s |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for _ in range(args.rounds):
            for name, make in scenarios().items():
                for clients in args.clients:
                    per = args.sim_requests if name == "small simulation" else args.requests
                    print(asyncio.run(run_scenario(url, name, make, clients, per)).row(), flush=True)
            if not args.no_trial:
                result, note = during_trial(url, 10, args.requests, args.trial_patients)
                print(result.row())
                print(f"# {note}", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


if __name__ == "__main__":
    main()
