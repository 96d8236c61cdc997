"""Fault figures: inject each kind of fault into small runs and count the outcomes.

Usage (from the repository root; as root, for the disk-full faults on a tmpfs)::

    .venv/bin/python benchmarks/faults.py

For each fault kind it prints how many cases were tried, how many ended *clean* (the right answer,
or a clear one-line error and exit status 1) and how many *wrong* (a different answer with no
error, a traceback, or a process killed for using too much memory or time). The faults are the
ones of ``tests/cohort/test_faults.py`` and ``tests/kb/test_faults.py`` (imported from there):
each chunk corruption on each of chunks 0-3 of a 5-chunk run, kills at random moments followed
by a resume, hostile record files, a full disk, a huge ``--patients``. Set ``PYTHONPATH`` to
another checkout's ``src`` to count the faults of that version.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' fault helpers

from tests.cohort.test_faults import CORRUPTIONS, _cli, _config, _run_dir
from tests.conftest import fill_to, small_filesystem
from tests.kb.test_faults import alias_bomb

from exoresist.cohort.runner import run_trial
from exoresist.kb import load_kb

CAP = 1536 * 2**20


def _clear_failure(done: subprocess.CompletedProcess[str]) -> bool:
    """Exit status 1, no traceback, every line short: a clear error."""
    return done.returncode == 1 and "Traceback" not in done.stderr and all(len(x) < 400 for x in done.stderr.splitlines())


def _capped(cmd: list[str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (CAP, CAP))

    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, preexec_fn=cap)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(cmd, -9, "", "timed out")


def chunk_faults(root: Path, reference: Path, counts: dict[str, Counter[str]], only: str | None = None) -> None:
    kb = load_kb()
    expected = (reference / "patients.parquet").read_bytes()
    for kind, corrupt in CORRUPTIONS.items():
        if only is not None and only not in kind:
            continue
        for chunk in range(4):
            out = root / f"chunk-{kind.replace(' ', '-')}-{chunk}"
            shutil.copytree(reference, out)
            corrupt(_run_dir(out) / f"chunk-{chunk:05d}.parquet")
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    run_trial(kb, _config(), out, scheduler="serial", progress=False)
                outcome = "clean" if (out / "patients.parquet").read_bytes() == expected else "wrong"
            except Exception:  # a traceback for a user
                outcome = "wrong"
            counts[f"chunk: {kind}"][outcome] += 1
            shutil.rmtree(out)


def kill_faults(root: Path, reference: Path, counts: dict[str, Counter[str]], kills: int) -> None:
    rng = random.Random(0)
    expected = (reference / "patients.parquet").read_bytes()
    for k in range(kills):
        out = root / f"killed-{k}"
        cmd = _cli(out, "--scheduler", "serial")
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        target = rng.randint(1, 4)  # kill once this many chunk files are there, at a random moment after
        while proc.poll() is None and len(list(out.glob("chunks/*/chunk-*.parquet"))) < target:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 1.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        n = len(list(out.glob("chunks/*/chunk-*.parquet")))
        print(
            f"kill {k + 1}: {'killed' if proc.returncode == -signal.SIGKILL else 'had ended'} with {n} of 5 chunk files written"
        )
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        same = done.returncode == 0 and (out / "patients.parquet").read_bytes() == expected
        counts["SIGKILL then resume"]["clean" if same else "wrong"] += 1
        shutil.rmtree(out)


def record_faults(root: Path, counts: dict[str, Counter[str]]) -> None:
    cases = {
        "alias bomb (id, kind)": [alias_bomb("id"), alias_bomb("kind")],
        "deep nesting (100, 500, 5000)": [
            "- kind: entity\n  id: ent:deep\n  name: " + "[" * n + "]" * n + "\n" for n in (100, 500, 5000)
        ],
        "duplicate keys (field, nested, id)": [
            "- kind: entity\n  id: ent:a\n  name: A\n  entity_type: gene\n  name: B\n",
            "- kind: entity\n  id: ent:b\n  name: B\n  entity_type: gene\n  aliases: [x]\n  aliases: [y]\n",
            "- kind: entity\n  id: ent:c\n  id: ent:d\n  name: C\n  entity_type: gene\n",
        ],
        "long id (200, 100000 characters)": [
            f"- kind: entity\n  id: ent:{'a' * n}\n  name: L\n  entity_type: gene\n" for n in (200, 100_000)
        ],
        "file of 5 MB": ["# padding\n" * 500_000],
    }
    for kind, texts in cases.items():
        for i, text in enumerate(texts):
            path = root / f"records-{i}.yaml"
            path.write_text(text)
            done = _capped([sys.executable, "-m", "exoresist.cli.main", "kb", "validate", str(path)])
            counts[f"records: {kind}"]["clean" if _clear_failure(done) else "wrong"] += 1


def disk_faults(root: Path, reference: Path, counts: dict[str, Counter[str]]) -> None:
    with small_filesystem(root / "fs-chunk", 32) as mounted:
        if not mounted:
            print("disk full: no tmpfs (run as root); skipped")
            return
        done = subprocess.run(_cli(root / "fs-chunk" / "run", "--scheduler", "serial"), capture_output=True, text=True)
        counts["disk full: a chunk"]["clean" if _clear_failure(done) else "wrong"] += 1
    with small_filesystem(root / "fs-end", 4096):
        out = root / "fs-end" / "run"
        shutil.copytree(_run_dir(reference), out / "chunks" / _run_dir(reference).name)
        size = (reference / "patients.parquet").stat().st_size + (reference / "trial.json").stat().st_size // 2
        fill_to(root / "fs-end", size)
        done = subprocess.run(_cli(out, "--scheduler", "serial"), capture_output=True, text=True)
        half = (out / "patients.parquet").exists() != (out / "trial.json").exists()
        counts["disk full: patients.parquet + trial.json"]["clean" if _clear_failure(done) and not half else "wrong"] += 1
    with small_filesystem(root / "fs-kb", 1024):
        db = root / "fs-kb" / "kb.sqlite"
        build = [sys.executable, "-m", "exoresist.cli.main", "kb", "build", "--db", f"sqlite:///{db}"]
        subprocess.run(build, capture_output=True, text=True, check=True)
        fill_to(root / "fs-kb", 16 * 1024)
        done = subprocess.run(build, capture_output=True, text=True)
        counts["disk full: kb build"]["clean" if _clear_failure(done) else "wrong"] += 1


def size_faults(root: Path, counts: dict[str, Counter[str]]) -> None:
    cmd = [sys.executable, "-m", "exoresist.cli.main", "trial", "run", "--arm", "sorafenib", "--scheduler", "serial"]
    done = _capped([*cmd, "--patients", "99999999999999999999", "--out", str(root / "huge")], timeout=120)
    counts["--patients 99999999999999999999"]["clean" if _clear_failure(done) else "wrong"] += 1


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=5, help="kill-and-resume cases")
    ap.add_argument("--only-chunk", default=None, help="only the chunk damage whose name contains this text")
    args = ap.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="exoresist-faults-"))
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    try:
        reference = root / "reference"
        run_trial(load_kb(), _config(), reference, scheduler="serial", progress=False)
        chunk_faults(root, reference, counts, args.only_chunk)
        if args.only_chunk is None:
            kill_faults(root, reference, counts, args.kills)
            record_faults(root, counts)
            disk_faults(root, reference, counts)
            size_faults(root, counts)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print("| fault | tried | clean | wrong |")
    print("|---|---:|---:|---:|")
    for kind, c in counts.items():
        print(f"| {kind} | {c['clean'] + c['wrong']} | {c['clean']} | {c['wrong']} |")
    print("reproduce: " + " ".join([".venv/bin/python", "benchmarks/faults.py", *(argv if argv is not None else sys.argv[1:])]))


if __name__ == "__main__":
    main()
