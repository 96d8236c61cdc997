"""``/api/v1/trials``: start a virtual trial (202 and a job id), watch it, fetch its results."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from exoresist.report.tables import trial_tables
from exoresist.web.common import TABLE_MEDIA, Limit, Offset, TableFormat, json_answer, media, page, state, table_answer
from exoresist.web.errors import ApiError, problem, user_errors
from exoresist.web.jobs import Job, JobLimitError, JobManager

router = APIRouter(prefix="/api/v1/trials", tags=["virtual trials"])

JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$", description="The job id (the trial's run key).")]
ArmName = Annotated[str, Field(min_length=1, max_length=120)]


class TrialRequest(BaseModel):
    """A virtual trial (the options of ``exoresist trial run``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    arms: list[ArmName] = Field(min_length=1, max_length=6, description="Therapies and interventions joined by '+'; 'placebo'.")
    population: Literal["first-line", "post-sorafenib"] = "first-line"
    patients: int = Field(100, ge=1, le=100_000, description="Patients per arm (the server may allow fewer).")
    months: float = Field(24.0, gt=0, le=120, description="Follow-up after the baseline scan.")
    seed: int = Field(0, ge=0, le=2**31 - 1)
    knockouts: bool = Field(False, description="Counterfactual attribution: re-simulate progressing patients per record.")


def jobs(request: Request) -> JobManager:
    manager: JobManager = request.app.state.jobs
    return manager


def job_body(request: Request, job: Job) -> dict[str, Any]:
    body = job.to_dict()
    base = f"/api/v1/trials/{job.id}"
    body["links"] = {"self": base, "page": f"/trials/{job.id}"}
    if job.state == "done":
        body["results"] = {
            "trial_json": f"{base}/trial.json",
            "patients_csv": f"{base}/patients.csv",
            "report_html": f"{base}/report.html",
            "tables": f"{base}/tables",
        }
    return body


def submit(request: Request, req: TrialRequest) -> tuple[Job, bool]:
    """Check a request against this server's limits and the library, then submit it."""
    limits = state(request).settings
    if req.patients > limits.max_patients:
        msg = f"at most {limits.max_patients} patients per arm on this server"
        raise ApiError(422, [problem(("body", "patients"), msg, "limit")])
    if len(req.arms) > limits.max_arms:
        raise ApiError(422, [problem(("body", "arms"), f"at most {limits.max_arms} arms on this server", "limit")])
    if req.months > limits.max_months:
        raise ApiError(422, [problem(("body", "months"), f"at most {limits.max_months:g} months on this server", "limit")])
    try:
        return jobs(request).submit(req.model_dump())
    except JobLimitError as exc:
        raise ApiError(429, [problem((), str(exc), "too_many_jobs")], headers={"Retry-After": "30"}) from None
    except user_errors() as exc:
        raise ApiError(422, [problem(("body", "arms"), str(exc), "value_error")]) from None


@router.post("", status_code=202, summary="Start (or find) a trial job: 202 with its id; the same request twice is one job")
def start_trial(request: Request, body: TrialRequest) -> JSONResponse:
    job, cached = submit(request, body)
    out = {**job_body(request, job), "cached": cached}
    answer = json_answer(out, state(request), status=202)
    answer.headers["Location"] = f"/api/v1/trials/{job.id}"
    return answer


@router.get("", summary="Trial jobs on this server, newest first")
async def list_trials(request: Request, limit: Limit = 50, offset: Offset = 0) -> JSONResponse:
    items = [job_body(request, j) for j in jobs(request).all()]
    return json_answer(page(items, limit, offset), state(request))


def _job(request: Request, job_id: str) -> Job:
    job = jobs(request).get(job_id)
    if job is None:
        raise ApiError(404, [problem(("path", "job_id"), f"no trial job '{job_id}' on this server", "not_found")])
    return job


def _done(request: Request, job_id: str) -> Job:
    job = _job(request, job_id)
    if job.state != "done":
        raise ApiError(409, [problem(("path", "job_id"), f"trial job '{job_id}' is {job.state}, not done", "not_ready")])
    return job


@router.get("/{job_id}", summary="Status and progress of a job (patients done, rate, time left); result links when done")
async def get_trial(request: Request, job_id: JobId) -> JSONResponse:
    return json_answer(job_body(request, _job(request, job_id)), state(request))


@router.get("/{job_id}/trial.json", summary="The finished trial's summary (`trial run --format json`)")
def trial_json(request: Request, job_id: JobId) -> Response:
    _done(request, job_id)
    return FileResponse(jobs(request).result_path(job_id, "trial.json"), media_type="application/json", filename="trial.json")


@router.get("/{job_id}/patients.csv", summary="One row per virtual patient and arm", responses=media("text/csv"))
def patients_csv(request: Request, job_id: JobId) -> Response:
    _done(request, job_id)
    return FileResponse(jobs(request).result_path(job_id, "patients.csv"), media_type="text/csv", filename="patients.csv")


@router.get("/{job_id}/report.html", summary="The HTML report of the finished trial", responses=media("text/html"))
def report_html(request: Request, job_id: JobId) -> Response:
    _done(request, job_id)
    return FileResponse(jobs(request).result_path(job_id, "report.html"), media_type="text/html")


@router.get("/{job_id}/tables", summary="The trial's tables (arms, comparisons, attribution) as data")
async def tables(request: Request, job_id: JobId) -> JSONResponse:
    _done(request, job_id)
    return json_answer({"tables": trial_tables(jobs(request).summary(job_id))}, state(request))


@router.get("/{job_id}/tables/{name}", summary="The data behind one table as JSON, CSV or TSV", responses=media(*TABLE_MEDIA))
async def table(
    request: Request,
    job_id: JobId,
    name: Literal["arms", "comparisons", "attribution"],
    format: TableFormat = TableFormat.csv,
) -> Response:
    _done(request, job_id)
    found = {t["name"]: t for t in trial_tables(jobs(request).summary(job_id))}
    if name not in found:
        raise ApiError(404, [problem(("path", "name"), f"this trial has no {name} table", "not_found")])
    return table_answer(found[name]["data"], format, f"trial-{job_id}-{name}")
