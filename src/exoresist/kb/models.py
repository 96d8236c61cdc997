"""Typed records of the knowledge base (pydantic v2).

One YAML entry validates into exactly one of these models. Field-level checks (patterns,
vocabularies, ranges) live here; checks that need the whole KB (references between records,
duplicate ids, identifier look-ups) live in :mod:`exoresist.kb.validate`.
"""

from __future__ import annotations

import math
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
    """Where the review is wrong or inconsistent, or where the primary study overturns the KB's reading of
    it: what the review says, the correct fact, and why (with the source)."""

    field: str = Field(description="What the correction is about (a field or a Table 1 column).")
    review_says: str
    correct: str
    reason: str


class Evidence(_Strict):
    """One study behind a record, as the review reports it."""

    kinds: list[EvidenceKind] = Field(min_length=1)
    year: int | None = Field(default=None, ge=1990, le=2030)
    first_author: str | None = Field(
        default=None,
        description="Surname of the first author, where the review names it or the primary study (pmid/doi) shows it.",
    )
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
    pmid: str | None = Field(
        default=None,
        pattern=r"^[1-9][0-9]{0,8}$",
        description="PubMed id of the primary study, only as seen labelled on a PubMed/PMC or publisher page.",
    )
    doi: str | None = Field(
        default=None,
        pattern=r"^10\.[0-9]{4,9}/\S+$",
        description="DOI of the primary study, only as seen labelled on a page (not read from an address).",
    )


EffectReadout = Literal[
    "ic50",
    "viability",
    "apoptosis",
    "xenograft_volume",
    "xenograft_weight",
    "colony_formation",
    "sphere_formation",
    "stem_marker",
    "efflux",
    "cd8_function",
    "nk_function",
    "breg",
    "macrophage_m2",
    "angiogenesis",
    "transfer",
    "other",
]
"""What a published effect size measures (the readouts of docs/model.md, 'What the replays show')."""

EffectMeasure = Literal["fold_change", "ratio", "percent", "percent_points", "absolute"]
"""How the value is expressed: a fold change or ratio (dimensionless, > 0), a share in percent, a
difference of shares in percentage points, or an absolute quantity in ``unit``."""

MagnitudeStatus = Literal["measured", "no_number_stated", "study_not_found"]
"""What the search of a record's primary study found: a stated number, a study whose reachable text
states none (numbers only in figures), or no primary study identified."""

RATIO_MEASURES = ("fold_change", "ratio")


class SourceLocator(_Strict):
    """Where a reader checks a number: the study (PMID or DOI) and the place in it."""

    pmid: str | None = Field(default=None, pattern=r"^[1-9][0-9]{0,8}$")
    doi: str | None = Field(default=None, pattern=r"^10\.[0-9]{4,9}/\S+$")
    locator: str = Field(
        min_length=3, max_length=200, description="Figure, table or sentence that states the number, e.g. 'Results 3.4; Fig. 4C'."
    )

    @model_validator(mode="after")
    def _has_study(self) -> SourceLocator:
        if self.pmid is None and self.doi is None:
            raise ValueError("a source locator needs the study's pmid or doi")
        return self

    def cite(self) -> str:
        """One line: 'PMID 123 / doi:10.x/y, Fig. 2B'."""
        ids = [f"PMID {self.pmid}" if self.pmid else "", f"doi:{self.doi}" if self.doi else ""]
        return f"{' / '.join(i for i in ids if i)}, {self.locator}"


class EffectSize(_Strict):
    """One measured effect from a record's primary study, as the study states it (never estimated).

    ``value`` is the number the source gives (or one computed from two stated numbers, ``how``
    says which). For a fold change or ratio, ``numerator`` says which arm is on top: the arm in
    which the record acts (cargo, vesicles or intervention present, or the cargo overexpressed)
    or the arm in which it does not (knockdown, control vesicles, no intervention).
    """

    readout: EffectReadout
    measure: EffectMeasure
    value: float
    low: float | None = Field(default=None, description="Lower bound (range, CI or SD-derived) where stated.")
    high: float | None = Field(default=None, description="Upper bound where stated.")
    unit: str = Field(min_length=1, max_length=40, description="'fold', 'ratio', 'percent', 'uM', 'mm3', 'g', ...")
    numerator: Literal["with_record", "without_record"] | None = Field(
        default=None, description="For fold changes and ratios: which arm is the numerator (see the class docstring)."
    )
    comparison: str = Field(min_length=5, max_length=300, description="What over what, in words.")
    condition: str = Field(min_length=5, max_length=300, description="Cells or model, drug, dose, time and assay.")
    therapy: TherapyRef | None = Field(
        default=None, description="The drug under which it was measured: one of the record's therapies; None without a drug."
    )
    in_vivo: bool = Field(description="True for an animal experiment, False for culture.")
    how: Literal["stated_in_text", "stated_in_table", "computed_from_stated_values"]
    source: SourceLocator

    @model_validator(mode="after")
    def _consistent(self) -> EffectSize:
        values = [v for v in (self.value, self.low, self.high) if v is not None]
        if not all(math.isfinite(v) for v in values):
            raise ValueError("effect size values must be finite numbers")
        if self.low is not None and self.low > self.value:
            raise ValueError(f"low ({self.low}) is above value ({self.value})")
        if self.high is not None and self.high < self.value:
            raise ValueError(f"high ({self.high}) is below value ({self.value})")
        if self.measure in RATIO_MEASURES:
            if self.value <= 0 or (self.low is not None and self.low <= 0):
                raise ValueError(f"a {self.measure} is positive (got {self.value})")
            if self.numerator is None:
                raise ValueError(f"a {self.measure} needs numerator: with_record or without_record")
        elif self.numerator is not None:
            raise ValueError(f"numerator applies only to fold changes and ratios, not to a {self.measure}")
        if self.measure == "percent" and not 0 <= self.value <= 100:
            raise ValueError(f"a percent share lies in 0-100 (got {self.value})")
        return self

    def with_over_without(self) -> float | None:
        """The value as 'with the record / without it' for a fold change or ratio, else None."""
        if self.measure not in RATIO_MEASURES:
            return None
        return self.value if self.numerator == "with_record" else 1.0 / self.value


MagnitudeStatusField = Annotated[
    MagnitudeStatus | None,
    Field(description="What the search of the primary study for a measured effect found; None: not searched."),
]
MagnitudeNoteField = Annotated[
    str | None, Field(min_length=10, description="Why no number is recorded, or what limits the numbers that are.")
]
EffectSizesField = Annotated[
    list[EffectSize], Field(description="Measured effects from the primary study (only with magnitude_status measured).")
]


class AxisStep(_Strict):
    """One signed step of a target axis: ``source --relation--> target``, in one cell."""

    source: EntityRef
    relation: Relation
    target: EntityRef
    cell: CellType | None = Field(
        default=None,
        description="The cell in which the step happens, a donor or recipient of the record. Default: a step from the "
        "cargo happens in every recipient (in the donors when there is none); any other step happens where its source "
        "was reached.",
    )
    note: str | None = None


class Outcome(_Strict):
    """Where some of a record's phenotypes arise: after which axis nodes, and in which cell.

    Without outcomes, every phenotype of a record arises at every end of its axis, in the cell of that end.
    """

    phenotypes: list[Phenotype] = Field(min_length=1, description="Phenotypes of the record that arise here.")
    after: list[EntityRef] = Field(
        min_length=1, description="Axis nodes (or the cargo) whose change, as the axis makes it, gives these phenotypes."
    )
    cell: CellType | None = Field(
        default=None,
        description="The cell in which the phenotypes arise, when it is not the cell of the nodes in 'after' (a paracrine "
        "effect: adenosine made around macrophages impairs CD8 T cells).",
    )


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
    outcomes: list[Outcome] = Field(
        default_factory=list,
        description="Where each phenotype arises, for records whose axis branches into several cells or whose phenotypes "
        "arise in another cell than the axis end; empty: every phenotype at every axis end.",
    )
    therapies: list[TherapyEffect] = Field(default_factory=list)
    process: ModelProcess | None = Field(default=None, description="Model process it acts on; None if it has no dynamic effect.")
    induced_by: list[Stimulus | TherapyRef] = Field(
        default_factory=list, description="What raises secretion or loading of the cargo."
    )
    evidence: list[Evidence] = Field(default_factory=list)
    evidence_grade: EvidenceGrade
    magnitude_status: MagnitudeStatusField = None
    magnitude_note: MagnitudeNoteField = None
    effect_sizes: EffectSizesField = Field(default_factory=list)

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
        _check_magnitude(self.magnitude_status, self.magnitude_note, self.effect_sizes, self.therapies)
        _check_axis(self.cargo, self.axis)
        self.step_cells()  # raises on a step placed in a cell the record does not reach
        _check_outcomes(self)
        return self

    def default_cells(self) -> tuple[CellType, ...]:
        """Where a step from the cargo happens when it names no cell: the recipients, else the donors."""
        return tuple(self.recipient_cells or self.donor_cells)

    def step_cells(self) -> list[tuple[CellType, ...]]:
        """The cells in which each axis step happens (see ``AxisStep.cell``), in axis order.

        A step may name any donor or recipient cell; a step that does not start at the cargo must
        be placed where its source was reached by an earlier step.
        """
        reached: dict[str, set[CellType]] = {self.cargo: set(self.default_cells())}
        allowed = {*self.donor_cells, *self.recipient_cells}
        out: list[tuple[CellType, ...]] = []
        for i, step in enumerate(self.axis):
            if step.cell is not None:
                if step.cell not in allowed:
                    raise ValueError(
                        f"axis step {i + 1} is placed in '{step.cell.value}', which is neither a donor nor a recipient "
                        f"of the record ({', '.join(sorted(c.value for c in allowed)) or 'none named'})"
                    )
                if step.source != self.cargo and step.cell not in reached.get(step.source, set()):
                    raise ValueError(
                        f"axis step {i + 1} is placed in '{step.cell.value}', but its source '{step.source}' is not "
                        "reached there by an earlier step"
                    )
                cells: tuple[CellType, ...] = (step.cell,)
            elif step.source == self.cargo:
                cells = self.default_cells()
            else:
                cells = tuple(c for c in _CELL_ORDER if c in reached.get(step.source, set()))
            reached.setdefault(step.target, set()).update(cells)
            out.append(cells)
        return out

    def placed_outcomes(self) -> list[tuple[str, CellType | None, CellType | None, Phenotype]]:
        """Every ``(axis node, cell of the node, cell of the phenotype, phenotype)`` the record states.

        With ``outcomes``, as curated (the phenotype's cell defaults to the node's); without them, every
        phenotype at every end of the axis (every node no step starts from; the cargo when there is
        no axis), in the cell of that end. A node reached in no cell has cell ``None``.
        """
        cells_of: dict[str, list[CellType | None]] = {self.cargo: list(self.default_cells())}
        for step, cells in zip(self.axis, self.step_cells(), strict=True):
            have = cells_of.setdefault(step.target, [])
            have += [c for c in cells if c not in have]
        out: list[tuple[str, CellType | None, CellType | None, Phenotype]] = []
        if self.outcomes:
            for o in self.outcomes:
                for node in o.after:
                    for c in cells_of[node] or [None]:
                        out += [(node, c, o.cell or c, ph) for ph in o.phenotypes]
            return out
        sources = {s.source for s in self.axis}
        ends = [n for n in dict.fromkeys(s.target for s in self.axis) if n not in sources] or [self.cargo]
        for node in ends:
            for c in cells_of[node] or [None]:
                out += [(node, c, c, ph) for ph in self.phenotypes]
        return out


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
    magnitude_status: MagnitudeStatusField = None
    magnitude_note: MagnitudeNoteField = None
    effect_sizes: EffectSizesField = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Intervention:
        if (self.payload is None) != (self.payload_class is None):
            raise ValueError("payload and payload_class go together")
        _check_grade(self.evidence, self.evidence_grade)
        _check_magnitude(self.magnitude_status, self.magnitude_note, self.effect_sizes, self.therapies)
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


def _check_magnitude(
    status: MagnitudeStatus | None, note: str | None, effects: list[EffectSize], therapies: list[TherapyEffect]
) -> None:
    """Numbers only with status measured; a status without numbers says why; effects name the record's own drugs."""
    if effects and status != "measured":
        raise ValueError(f"effect_sizes need magnitude_status measured (got {status})")
    if status == "measured" and not effects:
        raise ValueError("magnitude_status measured needs at least one entry in effect_sizes")
    if status in ("no_number_stated", "study_not_found") and not note:
        raise ValueError(f"magnitude_status {status} needs a magnitude_note saying what was searched")
    if status is None and note is not None:
        raise ValueError("magnitude_note without magnitude_status")
    own = {t.therapy for t in therapies}
    for i, e in enumerate(effects):
        if e.therapy is not None and e.therapy not in own:
            raise ValueError(
                f"effect_sizes.{i} was measured under '{e.therapy}', which is not among the record's therapies "
                f"({', '.join(sorted(own)) or 'none'})"
            )


_CELL_ORDER = tuple(CellType)


def _check_outcomes(m: Mechanism) -> None:
    """Outcomes name the record's own phenotypes, after its own axis nodes, and cover every phenotype."""
    if not m.outcomes:
        return
    nodes = {m.cargo, *(s.target for s in m.axis)}
    for i, o in enumerate(m.outcomes):
        for ph in o.phenotypes:
            if ph not in m.phenotypes:
                raise ValueError(f"outcome {i + 1} names phenotype '{ph.value}', which is not among the record's phenotypes")
        for node in o.after:
            if node not in nodes:
                raise ValueError(f"outcome {i + 1} arises after '{node}', which is neither the cargo nor an axis node")
    missing = [p.value for p in m.phenotypes if not any(p in o.phenotypes for o in m.outcomes)]
    if missing:
        raise ValueError(f"outcomes place no step for the phenotype(s) {', '.join(missing)}; add them to an outcome")


def _check_axis(cargo: str, axis: list[AxisStep]) -> None:
    """Each step starts from the cargo or from a node already on the axis (axes may branch)."""
    seen = {cargo}
    for i, step in enumerate(axis):
        if step.source not in seen:
            raise ValueError(
                f"axis step {i + 1} starts at '{step.source}', which is neither the cargo '{cargo}' nor an earlier node"
            )
        seen.add(step.target)
