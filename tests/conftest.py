"""Shared fixtures: a tiny, valid KB written to a temporary folder, and the shipped KB."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from exoresist.kb import KnowledgeBase, load_kb

MINI_ENTITIES = """\
- kind: entity
  id: ent:circx
  name: circX
  aliases: [circRNA-X]
  entity_type: circRNA
- kind: entity
  id: ent:mir-1
  name: miR-1-3p
  entity_type: miRNA
- kind: entity
  id: ent:pten
  name: PTEN
  entity_type: gene
  hgnc_symbol: PTEN
"""

MINI_THERAPIES = """\
- kind: therapy
  id: ther:sorafenib
  name: sorafenib
  aliases: [Nexavar]
  therapy_classes: [tyrosine_kinase_inhibitor]
  modality: small_molecule
"""

MINI_MECHANISMS = """\
- kind: mechanism
  id: mech:circx-pten
  title: circX sponges miR-1-3p and raises PTEN
  review_sections: [targeted_therapy]
  donor_cells: [hcc_cell]
  cargo: circX
  recipient_cells: [hcc_cell]
  axis:
    - source: circX
      relation: sponges
      target: miR-1-3p
    - source: miR-1-3p
      relation: inhibits
      target: PTEN
  phenotypes: [apoptosis_evasion]
  therapies:
    - therapy: ther:sorafenib
      direction: promotes_resistance
  process: reduce_drug_kill
  evidence:
    - kinds: [in_vitro]
      year: 2020
      finding: A made-up finding for the test fixture only, long enough.
  evidence_grade: B
"""


def write_mini(folder: Path, **override: str) -> Path:
    """Write the mini KB (three files) into ``folder``; ``override`` replaces a file's text."""
    files = {"entities.yaml": MINI_ENTITIES, "therapies.yaml": MINI_THERAPIES, "mechanisms.yaml": MINI_MECHANISMS}
    files.update({k.replace("_", ".") if k.endswith("_yaml") else k: v for k, v in override.items()})
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def mini_dir(tmp_path: Path) -> Path:
    return write_mini(tmp_path)


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_kb()


@contextmanager
def small_filesystem(folder: Path, size_kb: int) -> Iterator[bool]:
    """Mount a tmpfs of ``size_kb`` KB on ``folder`` when this process may (root, ``mount``
    works); yields whether it did. A test that gets ``False`` injects the fault at the write call."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = False
    # EXORESIST_TEST_NO_MOUNT=1 tries the fallback (fault injected at the write call) as root too
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("mount") and not os.environ.get("EXORESIST_TEST_NO_MOUNT"):
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(folder)], capture_output=True, check=False
        )
        mounted = done.returncode == 0
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


def fill_to(folder: Path, free_bytes: int) -> Path:
    """Write a filler file in ``folder`` so about ``free_bytes`` stay free on its file system."""
    filler = folder / "filler.bin"
    room = shutil.disk_usage(folder).free - free_bytes
    with filler.open("wb") as f:
        if room > 0:
            f.write(b"\0" * room)
    return filler
