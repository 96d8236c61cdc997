"""Trial jobs over the API: 202 and a job id, progress, results, the run-key cache, limits, Dask, and a
server killed mid-run that resumes from its chunks with the same numbers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from exoresist.cohort.runner import run_trial
from exoresist.kb import KnowledgeBase
from exoresist.web import create_app
from exoresist.web.api_trials import TrialRequest
from exoresist.web.jobs import JobManager

from .conftest import free_port, make_settings, wait_for_job

SMALL = {"arms": ["sorafenib", "placebo"], "patients": 8, "months": 6, "seed": 3}


def test_trial_job_runs_once_and_gives_its_results(client: TestClient) -> None:
    r = client.post("/api/v1/trials", json=SMALL)
    assert r.status_code == 202
    job = r.json()
    assert r.headers["location"] == f"/api/v1/trials/{job['id']}" and len(job["id"]) == 16
    done = wait_for_job(client, job["id"])
    assert done["state"] == "done", done
    progress = done["progress"]
    assert progress["patients_done"] == progress["patients_total"] == 8  # type: ignore[index]
    again = client.post("/api/v1/trials", json=SMALL).json()
    assert again["id"] == job["id"] and again["cached"] is True and again["state"] == "done"
    summary = client.get(f"/api/v1/trials/{job['id']}/trial.json").json()
    assert [a["arm"] for a in summary["arms"]] == ["sorafenib", "placebo"]
    assert summary["meta"]["run_key"] == job["id"]
    patients = client.get(f"/api/v1/trials/{job['id']}/patients.csv").text.splitlines()
    assert len(patients) == 1 + 2 * 8
    report = client.get(f"/api/v1/trials/{job['id']}/report.html")
    assert report.status_code == 200 and "Kaplan" in report.text
    tables = client.get(f"/api/v1/trials/{job['id']}/tables").json()["tables"]
    assert [t["name"] for t in tables][:2] == ["arms", "comparisons"]
    arms_csv = client.get(f"/api/v1/trials/{job['id']}/tables/arms", params={"format": "csv"}).text
    assert arms_csv.splitlines()[0].startswith("arm,n,n_failed,orr.estimate")
    listed = client.get("/api/v1/trials").json()
    assert job["id"] in {j["id"] for j in listed["items"]}


def test_trial_bad_input_and_limits(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, max_patients=50, max_jobs=1), warm_up=False)
    with TestClient(app) as c:
        bad = c.post("/api/v1/trials", json={**SMALL, "arms": ["sorafenib+aspirin"]})
        assert bad.status_code == 422 and "aspirin" in bad.json()["detail"][0]["msg"]
        too_many = c.post("/api/v1/trials", json={**SMALL, "patients": 51})
        assert too_many.status_code == 422 and too_many.json()["detail"][0]["loc"] == ["body", "patients"]
        assert c.post("/api/v1/trials", json={**SMALL, "months": 0}).status_code == 422
        assert c.post("/api/v1/trials", json={**SMALL, "arms": []}).status_code == 422
        first = c.post("/api/v1/trials", json={**SMALL, "patients": 40})
        assert first.status_code == 202
        busy = c.post("/api/v1/trials", json={**SMALL, "seed": 99})
        assert busy.status_code == 429 and "limit is 1" in busy.json()["detail"][0]["msg"]
        assert c.get("/api/v1/trials/0123456789abcdef").status_code == 404
        assert c.get("/api/v1/trials/not-a-job").status_code == 422
        running = first.json()["id"]
        r = c.get(f"/api/v1/trials/{running}/report.html")
        assert r.status_code in (200, 409)  # 409 while it runs
        assert wait_for_job(c, running)["state"] == "done"


@pytest.mark.slow
def test_large_jobs_run_on_the_local_dask_cluster(tmp_path: Path, kb: KnowledgeBase) -> None:
    app = create_app(make_settings(tmp_path, scheduler="local", serial_patient_arms=5), warm_up=False)
    with TestClient(app) as c:
        job = c.post("/api/v1/trials", json={"arms": ["sorafenib"], "patients": 12, "months": 6}).json()
        done = wait_for_job(c, job["id"])
        assert done["state"] == "done", done
        assert str(done["where"]).startswith("Dask scheduler tcp://127.0.0.1:")
        assert c.get(f"/api/v1/trials/{job['id']}/trial.json").json()["meta"]["scheduler"].startswith("tcp://127.0.0.1:")


@pytest.mark.slow
def test_a_killed_server_resumes_its_job_from_chunks(tmp_path: Path, kb: KnowledgeBase) -> None:
    request = {"arms": ["sorafenib", "placebo"], "patients": 30, "months": 6, "seed": 5}
    data = tmp_path / "data"

    def start() -> tuple[subprocess.Popen[bytes], str]:
        port = free_port()
        cmd = [sys.executable, "-m", "exoresist.cli.main", "serve", "--port", str(port), "--data", str(data)]
        cmd += ["--scheduler", "serial"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(url + "/api/v1/stats", timeout=2)
                return proc, url
            except httpx.TransportError:
                time.sleep(0.2)
        proc.kill()
        raise AssertionError("server did not start")

    proc, url = start()
    try:
        job = httpx.post(url + "/api/v1/trials", json=request, timeout=30).json()
        deadline = time.monotonic() + 120
        while True:
            status = httpx.get(f"{url}/api/v1/trials/{job['id']}", timeout=10).json()
            if status["progress"]["chunks_done"] >= 2:
                break
            assert time.monotonic() < deadline, status
            time.sleep(0.1)
        assert status["state"] == "running", "the job finished before the server could be killed"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    saved = json.loads((data / "trials" / job["id"] / "status.json").read_text())
    assert saved["state"] == "running"

    proc, url = start()
    try:
        deadline = time.monotonic() + 240
        while (status := httpx.get(f"{url}/api/v1/trials/{job['id']}", timeout=10).json())["state"] != "done":
            assert status["state"] != "failed" and time.monotonic() < deadline, status
            time.sleep(0.3)
        resumed = httpx.get(f"{url}/api/v1/trials/{job['id']}/trial.json", timeout=10).json()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert resumed["meta"]["chunks_resumed"] >= 2
    config = JobManager.config(TrialRequest.model_validate(request).model_dump())
    fresh = run_trial(kb, config, tmp_path / "fresh", scheduler="serial", progress=False).to_json_dict()
    assert resumed["arms"] == fresh["arms"]
    assert resumed["comparisons"] == fresh["comparisons"]
