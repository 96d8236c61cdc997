"""Typed records of the knowledge base (pydantic v2).

One YAML entry validates into exactly one of these models. Field-level checks (patterns,
vocabularies, ranges) live here; checks that need the whole KB (references between records,
duplicate ids, identifier look-ups) live in :mod:`exoresist.kb.validate`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from exoresist.kb.vocab import (
    BiomarkerUse,
    CargoClass,
    CellType,
    Direction,
    EntityType,
    EvidenceGrade,
    EvidenceKind,
    InterventionKind,
    LineOfTherapy,
    Modality,
    ModelProcess,
    Phenotype,
    Relation,
    ReviewSection,
    SampleType,
    Stimulus,
    TherapyClass,
)

Name = Annotated[str, Field(min_length=1, max_length=120, pattern=r"^\S(.*\S)?$")]
"""A display name: no leading or trailing blanks."""

EntityRef = Annotated[str, Field(min_length=1, max_length=120, description="The name of an entity record.")]
TherapyRef = Annotated[
    str,
    Field(
        pattern=r"^(ther:[a-z0-9][a-z0-9-]*|class:[a-z0-9_]+)$",
        description="A therapy record id (ther:...) or a therapy class (class:<TherapyClass value>).",
    ),
]
RecordRef = Annotated[str, Field(pattern=r"^(mech|hyp|ther|int|bm):[a-z0-9][a-z0-9-]*$")]


ID_MAX_LENGTH = 160
"""Longest record id (the store's id columns are this wide)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Correction(_Strict):
    """Where the review is wrong or inconsistent: what it says, the correct fact, and why."""

    field: str = Field(description="What the correction is about (a field or a Table 1 column).")
    review_says: str
    correct: str
    reason: str


class Evidence(_Strict):
    """One study behind a record, as the review reports it."""

    kinds: list[EvidenceKind] = Field(min_length=1)
    year: int | None = Field(default=None, ge=1990, le=2030)
    first_author: str | None = Field(default=None, description="Surname of the first author, only where the review names it.")
    review_ref: int | None = Field(
        default=None,
        ge=1,
        le=200,
        description="The review's reference number, only where it is legible in the review text.",
    )
    cell_lines: list[str] = Field(default_factory=list)
    models: list[str] = Field(default_factory=list, description="In-vivo models, e.g. 'nude mouse xenograft'.")
    hcc_specific: bool = Field(default=True, description="False when the study was in another cancer.")
    finding: str = Field(min_length=20, description="The finding, paraphrased in the curator's words.")
    pmid: str | None = Field(default=None, pattern=r"^[1-9][0-9]{0,8}$")
    doi: str | None = Field(default=None, pattern=r"^10\.[0-9]{4,9}/\S+$")


class AxisStep(_Strict):
    """One signed step of a target axis: ``source --relation--> target``."""

    source: EntityRef
    relation: Relation
    target: EntityRef
    note: str | None = None


class TherapyEffect(_Strict):
    therapy: TherapyRef
    direction: Direction


class _Record(_Strict):
    id: str
    notes: str | None = None
    corrections: list[Correction] = Field(default_factory=list)


class Mechanism(_Record):
    """One mechanism claim: donor -> cargo -> recipient -> axis -> pathways -> phenotypes -> therapies.

    ``kind: hypothesis`` marks a claim the review proposes without direct evidence in HCC; it has
    the same shape so the graph and the model can include it on request.
    """

    kind: Literal["mechanism", "hypothesis"]
    id: str = Field(pattern=r"^(mech|hyp):[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=5, max_length=160)
    review_sections: list[ReviewSection] = Field(min_length=1)
    table1_row: int | None = Field(default=None, ge=1, le=21, description="Row of the review's Table 1 (1-21, in table order).")
    exosomal: bool = Field(default=True, description="False for context mechanisms the review cites without an exosomal step.")
    donor_cells: list[CellType] = Field(default_factory=list)
    donor_state: str | None = Field(default=None, description="e.g. 'lenvatinib-resistant', 'HBV-infected'.")
    cargo: EntityRef
    recipient_cells: list[CellType] = Field(default_factory=list)
    axis: list[AxisStep] = Field(default_factory=list)
    pathways: list[EntityRef] = Field(default_factory=list)
    phenotypes: list[Phenotype] = Field(min_length=1)
    therapies: list[TherapyEffect] = Field(default_factory=list)
    process: ModelProcess | None = Field(default=None, description="Model process it acts on; None if it has no dynamic effect.")
    induced_by: list[Stimulus | TherapyRef] = Field(
        default_factory=list, description="What raises secretion or loading of the cargo."
    )
    evidence: list[Evidence] = Field(default_factory=list)
    evidence_grade: EvidenceGrade

    @model_validator(mode="after")
    def _consistent(self) -> Mechanism:
        prefix = self.id.split(":", 1)[0]
        if (self.kind == "mechanism") != (prefix == "mech"):
            raise ValueError(f"id prefix '{prefix}:' does not match kind '{self.kind}' (mechanism -> mech:, hypothesis -> hyp:)")
        if self.kind == "mechanism" and not self.evidence:
            raise ValueError("a mechanism needs at least one evidence entry (use kind: hypothesis otherwise)")
        if self.kind == "hypothesis" and self.evidence_grade is not EvidenceGrade.D and not self.evidence:
            raise ValueError("a hypothesis without evidence must have evidence_grade D")
        _check_grade(self.evidence, self.evidence_grade)
        _check_axis(self.cargo, self.axis)
        return self


class Entity(_Record):
    """A molecule, vesicle population, pathway or process that records refer to by name."""

    kind: Literal["entity"]
    id: str = Field(pattern=r"^ent:[a-z0-9][a-z0-9-]*$")
    name: Name
    aliases: list[Name] = Field(default_factory=list)
    entity_type: EntityType
    description: str | None = None
    hgnc_symbol: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9.@_-]*$",
        description="HGNC symbol of the gene (for a circRNA: its host gene). Resolved against the shipped HGNC table.",
    )
    mirbase_name: str | None = Field(
        default=None,
        pattern=r"^hsa-(miR|let)-[0-9]+[a-z]?(-[0-9])?(-[35]p)?$",
        description="Mature miRBase name, with the arm only where the source states it.",
    )
    mirbase_precursor: str | None = Field(default=None, pattern=r"^hsa-(mir|let)-[0-9]+[a-z]?(-[0-9])?$")


class Therapy(_Record):
    kind: Literal["therapy"]
    id: str = Field(pattern=r"^ther:[a-z0-9][a-z0-9-]*$")
    name: Name
    aliases: list[Name] = Field(default_factory=list)
    therapy_classes: list[TherapyClass] = Field(min_length=1)
    modality: Modality
    components: list[RecordRef] = Field(default_factory=list, description="For a regimen: its therapy records.")
    molecular_targets: list[str] = Field(default_factory=list, description="HGNC symbols of the drug's targets.")
    lines: list[LineOfTherapy] = Field(default_factory=list)
    approval: str | None = Field(default=None, description="Regulatory status in HCC, in words.")
    approval_source: Literal["review", "curator_unverified"] | None = None
    review_sections: list[ReviewSection] = Field(default_factory=list)

    @model_validator(mode="after")
    def _regimen(self) -> Therapy:
        if (self.modality is Modality.REGIMEN) != bool(self.components):
            raise ValueError("a regimen lists its components, and only a regimen does")
        if self.approval is not None and self.approval_source is None:
            raise ValueError("approval needs approval_source ('review' or 'curator_unverified')")
        return self


class Intervention(_Record):
    """A way to counter exosome-mediated resistance named in the review's clinical section."""

    kind: Literal["intervention"]
    id: str = Field(pattern=r"^int:[a-z0-9][a-z0-9-]*$")
    name: Name
    aliases: list[Name] = Field(default_factory=list)
    intervention_kind: InterventionKind
    target_entities: list[EntityRef] = Field(default_factory=list, description="What it acts on (RAB27A, a cargo, ...).")
    target_donors: list[CellType] = Field(default_factory=list, description="For secretion blockade: whose secretion.")
    carrier_cells: list[CellType] = Field(default_factory=list, description="For engineered exosomes: producer cells.")
    payload: EntityRef | None = None
    payload_class: CargoClass | None = None
    blocks: list[RecordRef] = Field(default_factory=list, description="Mechanism records whose routes it cuts.")
    therapies: list[TherapyEffect] = Field(default_factory=list)
    process: ModelProcess
    review_sections: list[ReviewSection] = Field(min_length=1)
    evidence: list[Evidence] = Field(default_factory=list)
    evidence_grade: EvidenceGrade

    @model_validator(mode="after")
    def _consistent(self) -> Intervention:
        if (self.payload is None) != (self.payload_class is None):
            raise ValueError("payload and payload_class go together")
        _check_grade(self.evidence, self.evidence_grade)
        return self


class Biomarker(_Record):
    kind: Literal["biomarker"]
    id: str = Field(pattern=r"^bm:[a-z0-9][a-z0-9-]*$")
    name: Name
    markers: list[EntityRef] = Field(min_length=1)
    intended_uses: list[BiomarkerUse] = Field(min_length=1)
    samples: list[SampleType] = Field(min_length=1)
    cancer: str = Field(default="HCC", description="The cancer the evidence is from.")
    therapies: list[TherapyRef] = Field(default_factory=list, description="Therapies whose response it would predict.")
    related: list[RecordRef] = Field(default_factory=list)
    review_sections: list[ReviewSection] = Field(min_length=1)
    evidence: list[Evidence] = Field(default_factory=list)
    evidence_grade: EvidenceGrade

    @model_validator(mode="after")
    def _consistent(self) -> Biomarker:
        _check_grade(self.evidence, self.evidence_grade)
        return self


Record = Mechanism | Entity | Therapy | Intervention | Biomarker
"""Any KB record. The ``kind`` field tells them apart."""

RECORD_MODELS: dict[str, type[_Record]] = {
    "mechanism": Mechanism,
    "hypothesis": Mechanism,
    "entity": Entity,
    "therapy": Therapy,
    "intervention": Intervention,
    "biomarker": Biomarker,
}


def _check_grade(evidence: list[Evidence], grade: EvidenceGrade) -> None:
    """The curated grade may be lower than the evidence allows, never higher."""
    kinds = {k for e in evidence if e.hcc_specific for k in e.kinds}
    if grade is EvidenceGrade.A and not {EvidenceKind.IN_VITRO, EvidenceKind.IN_VIVO} <= kinds:
        raise ValueError("evidence_grade A needs in_vitro and in_vivo evidence in HCC")
    if grade is EvidenceGrade.B and not kinds:
        raise ValueError("evidence_grade B needs at least one HCC-specific evidence entry")
    if grade is EvidenceGrade.C and not evidence:
        raise ValueError("evidence_grade C needs at least one evidence entry")


def _check_axis(cargo: str, axis: list[AxisStep]) -> None:
    """Each step starts from the cargo or from a node already on the axis (axes may branch)."""
    seen = {cargo}
    for i, step in enumerate(axis):
        if step.source not in seen:
            raise ValueError(
                f"axis step {i + 1} starts at '{step.source}', which is neither the cargo '{cargo}' nor an earlier node"
            )
        seen.add(step.target)
