"""A small hand-made KB for the graph tests, and the graph of the shipped KB."""

from __future__ import annotations

from pathlib import Path

import pytest

from exoresist.graph import MechanismGraph, build_graph
from exoresist.kb import load_kb

ENTITIES = """\
- {kind: entity, id: ent:circx, name: circX, aliases: [circRNA-X], entity_type: circRNA}
- {kind: entity, id: ent:mir-1, name: miR-1-3p, entity_type: miRNA}
- {kind: entity, id: ent:pten, name: PTEN, entity_type: gene, hgnc_symbol: PTEN}
- {kind: entity, id: ent:mir-2, name: miR-2, entity_type: miRNA}
- {kind: entity, id: ent:geneb, name: GENEB, entity_type: gene}
- {kind: entity, id: ent:il6, name: IL-6 signalling, entity_type: pathway}
- {kind: entity, id: ent:mir-s, name: miR-S, entity_type: miRNA}
- {kind: entity, id: ent:rab27a, name: RAB27A, entity_type: gene, hgnc_symbol: RAB27A}
"""

THERAPIES = """\
- {kind: therapy, id: ther:sorafenib, name: sorafenib, aliases: [Nexavar], modality: small_molecule,
   therapy_classes: [tyrosine_kinase_inhibitor]}
- {kind: therapy, id: ther:nivolumab, name: nivolumab, therapy_classes: [anti_pd1], modality: antibody}
- {kind: therapy, id: ther:pembrolizumab, name: pembrolizumab, therapy_classes: [anti_pd1], modality: antibody}
"""

_EVIDENCE = """
  evidence:
    - kinds: [in_vitro]
      year: 2020
      finding: A made-up finding for the graph test fixture only.
"""

MECHANISMS = (
    """\
- kind: mechanism
  id: mech:circx-pten
  title: circX sponges miR-1-3p and raises PTEN
  review_sections: [targeted_therapy]
  donor_cells: [hcc_cell]
  cargo: circX
  recipient_cells: [hcc_cell]
  axis:
    - {source: circX, relation: sponges, target: miR-1-3p}
    - {source: miR-1-3p, relation: inhibits, target: PTEN}
  phenotypes: [apoptosis_evasion]
  therapies: [{therapy: ther:sorafenib, direction: promotes_resistance}]
  process: reduce_drug_kill
  evidence_grade: B"""
    + _EVIDENCE
    + """\
- kind: mechanism
  id: mech:mir2-caf
  title: miR-2 lowers GENEB in fibroblasts, which become CAFs and feed the stemness of HCC cells
  review_sections: [stemness_emt]
  donor_cells: [hcc_cell]
  cargo: miR-2
  recipient_cells: [fibroblast]
  axis:
    - {source: miR-2, relation: downregulates, target: GENEB}
  pathways: [IL-6 signalling]
  phenotypes: [caf_activation, stemness]
  outcomes:
    - {phenotypes: [caf_activation], after: [GENEB]}
    - {phenotypes: [stemness], after: [GENEB], cell: hcc_cell}
  therapies:
    - {therapy: ther:sorafenib, direction: promotes_resistance}
    - {therapy: class:anti_pd1, direction: promotes_resistance}
  process: activate_caf
  evidence_grade: C"""
    + _EVIDENCE
    + """\
- kind: mechanism
  id: mech:mirs-sensitises
  title: miR-S from stem cells restores sorafenib kill
  review_sections: [targeted_therapy]
  donor_cells: [adipose_mesenchymal_stem_cell]
  cargo: miR-S
  recipient_cells: [hcc_cell]
  axis:
    - {source: miR-S, relation: inhibits, target: GENEB}
  phenotypes: [drug_sensitisation]
  therapies: [{therapy: ther:sorafenib, direction: sensitises}]
  process: sensitise
  evidence_grade: B"""
    + _EVIDENCE
    + """\
- kind: hypothesis
  id: hyp:circx-pd1
  title: circX might also blunt anti-PD-1
  review_sections: [conclusions]
  donor_cells: [hcc_cell]
  cargo: circX
  recipient_cells: [cd8_t_cell]
  axis:
    - {source: circX, relation: activates, target: PTEN}
  phenotypes: [cd8_t_cell_dysfunction]
  therapies: [{therapy: class:anti_pd1, direction: promotes_resistance}]
  evidence_grade: D
"""
)

INTERVENTIONS = """\
- kind: intervention
  id: int:rab27a-kd
  name: RAB27A knockdown
  intervention_kind: secretion_blockade
  target_entities: [RAB27A]
  target_donors: [hcc_cell]
  blocks: [mech:circx-pten, mech:mir2-caf]
  process: block_secretion
  review_sections: [interventions]
  evidence_grade: D
- kind: intervention
  id: int:anti-mir2
  name: anti-miR-2 antibody
  intervention_kind: neutralising_antibody
  target_entities: [miR-2]
  blocks: [mech:mir2-caf]
  process: neutralise_cargo
  review_sections: [interventions]
  evidence_grade: D
"""


def write_graph_kb(folder: Path, **override: str) -> Path:
    files = {"entities": ENTITIES, "therapies": THERAPIES, "mechanisms": MECHANISMS, "interventions": INTERVENTIONS, **override}
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def mini_records(tmp_path: Path) -> Path:
    return write_graph_kb(tmp_path)


@pytest.fixture
def mini(mini_records: Path) -> MechanismGraph:
    return build_graph(load_kb([mini_records]))


@pytest.fixture(scope="session")
def full() -> MechanismGraph:
    return build_graph(load_kb())


@pytest.fixture(scope="session")
def full_hyp(full: MechanismGraph) -> MechanismGraph:
    return build_graph(full.kb, include_hypotheses=True)
