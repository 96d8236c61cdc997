"""Shared fixtures: a tiny, valid KB written to a temporary folder, and the shipped KB."""

from __future__ import annotations

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
