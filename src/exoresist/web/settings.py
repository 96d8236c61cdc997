"""What ``exoresist serve`` is configured with: where the KB and the jobs live, and the limits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class Settings:
    """Server settings. Every limit is enforced with a clear 4xx answer naming it.

    ``scheduler``: ``"local"`` runs trial jobs on a Dask cluster the server starts on 127.0.0.1
    (``trial_workers`` single-threaded worker processes), ``"serial"`` in a thread of the server,
    anything else is the address of an existing Dask scheduler. Jobs of at most
    ``serial_patient_arms`` patient-arms always run serially (starting workers costs more)."""

    db: str | None = None
    """SQLAlchemy URL of a built KB store; ``None`` reads the shipped YAML records."""
    data_dir: Path = Path("out/web")
    """Trial jobs (chunks, results, reports) live in ``data_dir/trials/<job id>/``."""
    scheduler: str = "local"
    trial_workers: int = 1
    serial_patient_arms: int = 60
    max_patients: int = 2000
    """Patients per arm of one trial job."""
    max_arms: int = 6
    max_months: float = 60.0
    max_days: float = 3650.0
    """Days of one simulation."""
    max_points: int = 5000
    """Output time points of one simulation (days / every)."""
    max_body_bytes: int = 64 * 1024
    max_jobs: int = 2
    """Trial jobs queued or running at once."""
    max_page: int = 500
    """Largest ``limit`` of a list request."""
    base_url: str = ""
    """Prefix of the permanent URLs shown in citations (default: the URL of the request)."""
