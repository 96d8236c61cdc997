"""Controlled vocabularies of the knowledge base, in one place.

Every curated field that takes a term from a fixed list uses one of these enums. The YAML files
spell the enum *values* (lower-case, snake_case). Adding a term here is the only way to add it
anywhere; the JSON schema, the validator and the CLI all read these classes.
"""

from __future__ import annotations

from enum import StrEnum


class RecordKind(StrEnum):
    """Kinds of record. The id prefix of each record is fixed by its kind (see ``ID_PREFIX``)."""

    MECHANISM = "mechanism"
    HYPOTHESIS = "hypothesis"
    THERAPY = "therapy"
    INTERVENTION = "intervention"
    BIOMARKER = "biomarker"
    ENTITY = "entity"


ID_PREFIX: dict[RecordKind, str] = {
    RecordKind.MECHANISM: "mech",
    RecordKind.HYPOTHESIS: "hyp",
    RecordKind.THERAPY: "ther",
    RecordKind.INTERVENTION: "int",
    RecordKind.BIOMARKER: "bm",
    RecordKind.ENTITY: "ent",
}


class CargoClass(StrEnum):
    """What an exosome carries (or, for engineered vesicles, is loaded with)."""

    MIRNA = "miRNA"
    CIRCRNA = "circRNA"
    LNCRNA = "lncRNA"
    PROTEIN = "protein"
    UNCLASSIFIED = "unclassified_vesicles"
    SMALL_MOLECULE = "small_molecule"
    SIRNA = "siRNA"
    CRISPR = "CRISPR"


class EntityType(StrEnum):
    """Molecular and abstract things that mechanism axes and pathways are made of."""

    GENE = "gene"  # a gene or its protein product, named by its HGNC symbol
    MIRNA = "miRNA"
    CIRCRNA = "circRNA"
    LNCRNA = "lncRNA"
    PROTEIN = "protein"  # a protein named as cargo or as a non-HGNC form (e.g. native fibrinogen)
    VESICLES = "vesicles"  # an exosome population whose active cargo was not identified
    SMALL_MOLECULE = "small_molecule"
    SIRNA = "siRNA"
    CRISPR = "CRISPR"
    METABOLITE = "metabolite"
    PATHWAY = "pathway"
    PROCESS = "process"  # a cellular process used as an axis node (e.g. autophagy)


#: The entity types that can be an exosomal cargo, and the cargo class each maps to.
CARGO_CLASS_OF: dict[EntityType, CargoClass] = {
    EntityType.MIRNA: CargoClass.MIRNA,
    EntityType.CIRCRNA: CargoClass.CIRCRNA,
    EntityType.LNCRNA: CargoClass.LNCRNA,
    EntityType.PROTEIN: CargoClass.PROTEIN,
    EntityType.GENE: CargoClass.PROTEIN,
    EntityType.VESICLES: CargoClass.UNCLASSIFIED,
    EntityType.SMALL_MOLECULE: CargoClass.SMALL_MOLECULE,
    EntityType.SIRNA: CargoClass.SIRNA,
    EntityType.CRISPR: CargoClass.CRISPR,
}


class CellType(StrEnum):
    """Donor and recipient cell types named by the review."""

    HCC_CELL = "hcc_cell"
    LIVER_CANCER_STEM_CELL = "liver_cancer_stem_cell"
    FIBROBLAST = "fibroblast"
    CAF = "cancer_associated_fibroblast"
    MACROPHAGE = "macrophage"
    M2_MACROPHAGE = "m2_macrophage"
    CD8_T_CELL = "cd8_t_cell"
    T_LYMPHOCYTE = "tumour_infiltrating_t_lymphocyte"
    NK_CELL = "nk_cell"
    REGULATORY_B_CELL = "regulatory_b_cell"
    ENDOTHELIAL_CELL = "endothelial_cell"
    ADIPOSE_MSC = "adipose_mesenchymal_stem_cell"
    BONE_MARROW_MSC = "bone_marrow_mesenchymal_stem_cell"
    IRRADIATED_TUMOUR_CELL = "irradiated_tumour_cell"


class Phenotype(StrEnum):
    """Resistance phenotypes a mechanism produces in its recipients."""

    DRUG_EFFLUX = "drug_efflux"
    APOPTOSIS_EVASION = "apoptosis_evasion"  # includes pro-survival signalling
    AUTOPHAGY_MODULATION = "autophagy_modulation"
    STEMNESS = "stemness"
    EMT = "emt"
    CAF_ACTIVATION = "caf_activation"
    M2_POLARISATION = "m2_polarisation"
    CD8_DYSFUNCTION = "cd8_t_cell_dysfunction"
    NK_SUPPRESSION = "nk_suppression"
    BREG_EXPANSION = "regulatory_b_cell_expansion"
    CHECKPOINT_UPREGULATION = "immune_checkpoint_upregulation"
    ANGIOGENESIS = "angiogenesis"
    RADIATION_BYSTANDER = "radiation_bystander_effect"
    RESISTANCE_TRANSFER = "resistance_transfer"  # resistance state handed to sensitive cells
    PROLIFERATION = "proliferation"
    DRUG_SENSITISATION = "drug_sensitisation"  # the negative direction


class Direction(StrEnum):
    """How a record acts on a therapy."""

    PROMOTES_RESISTANCE = "promotes_resistance"
    SENSITISES = "sensitises"


class Relation(StrEnum):
    """Signed relations between consecutive nodes of a target axis."""

    ACTIVATES = "activates"
    UPREGULATES = "upregulates"
    STABILISES = "stabilises"
    INDUCES = "induces"
    INHIBITS = "inhibits"
    DOWNREGULATES = "downregulates"
    SPONGES = "sponges"  # a competing endogenous RNA binding and silencing a miRNA
    DEGRADES = "degrades"
    SEQUESTERS = "sequesters"


#: +1 for relations that raise the target's activity, -1 for those that lower it.
RELATION_SIGN: dict[Relation, int] = {
    Relation.ACTIVATES: 1,
    Relation.UPREGULATES: 1,
    Relation.STABILISES: 1,
    Relation.INDUCES: 1,
    Relation.INHIBITS: -1,
    Relation.DOWNREGULATES: -1,
    Relation.SPONGES: -1,
    Relation.DEGRADES: -1,
    Relation.SEQUESTERS: -1,
}


class TherapyClass(StrEnum):
    """Therapy classes. A mechanism can name a class when the review does not name a drug."""

    TARGETED = "targeted_therapy"
    TKI = "tyrosine_kinase_inhibitor"
    ANTI_VEGF = "anti_vegf"
    MTOR_INHIBITOR = "mtor_inhibitor"
    IMMUNOTHERAPY = "immunotherapy"
    ANTI_PD1 = "anti_pd1"
    ANTI_PDL1 = "anti_pdl1"
    ANTI_CTLA4 = "anti_ctla4"
    CHEMOTHERAPY = "chemotherapy"
    PLATINUM = "platinum"
    ANTHRACYCLINE = "anthracycline"
    ANTIMETABOLITE = "antimetabolite"
    TOPOISOMERASE_INHIBITOR = "topoisomerase_inhibitor"
    RADIOTHERAPY = "radiotherapy"
    AUTOPHAGY_INHIBITOR = "autophagy_inhibitor"


class Modality(StrEnum):
    SMALL_MOLECULE = "small_molecule"
    ANTIBODY = "antibody"
    RADIATION = "radiation"
    REGIMEN = "regimen"  # a combination of other therapy records


class LineOfTherapy(StrEnum):
    FIRST = "first_line"
    SECOND = "second_line"
    LOCOREGIONAL = "locoregional"
    NOT_APPROVED = "not_approved_in_hcc"


class EvidenceKind(StrEnum):
    IN_VITRO = "in_vitro"
    IN_VIVO = "in_vivo"
    PATIENT_SAMPLES = "patient_samples"


class EvidenceGrade(StrEnum):
    """How directly the evidence supports the claim in HCC.

    A: in vitro and in vivo in HCC. B: in vitro only, or patient samples only, in HCC.
    C: shown in other cancers, or in HCC without the exosomal step. D: proposed without direct
    evidence (hypotheses).
    """

    A = "A"
    B = "B"
    C = "C"
    D = "D"


#: What each evidence grade means, for help texts, the README and the report.
GRADE_MEANINGS: dict[EvidenceGrade, str] = {
    EvidenceGrade.A: "shown in HCC both in vitro and in vivo",
    EvidenceGrade.B: "shown in HCC in vitro only, or in patient samples only",
    EvidenceGrade.C: "shown in other cancers, or in HCC without the exosomal step",
    EvidenceGrade.D: "proposed without direct evidence (hypotheses)",
}


def evidence_grades_text(sep: str = "; ") -> str:
    """The evidence grades A-D in one line (``sep`` between grades): "A: shown in HCC ...; B: ..."."""
    return sep.join(f"{g.value}: {text}" for g, text in GRADE_MEANINGS.items())


class ReviewSection(StrEnum):
    """Sections of the review, in reading order (used by docs/coverage.md)."""

    INTRODUCTION = "introduction"
    TARGETED_THERAPY = "targeted_therapy"
    TABLE_1 = "table_1"
    IMMUNOTHERAPY = "immunotherapy"
    CHEMOTHERAPY = "chemotherapy"
    RADIOTHERAPY = "radiotherapy"
    STEMNESS_EMT = "stemness_emt"
    AUTOPHAGY = "autophagy"
    BIOMARKERS = "biomarkers"
    INTERVENTIONS = "interventions"
    CONCLUSIONS = "conclusions"


SECTION_TITLES: dict[ReviewSection, str] = {
    ReviewSection.INTRODUCTION: "Introduction",
    ReviewSection.TARGETED_THERAPY: "Exosomes induce molecular targeted therapy resistance",
    ReviewSection.TABLE_1: "Table 1: exosomal contents involved in therapeutic resistance",
    ReviewSection.IMMUNOTHERAPY: "Exosomes induce immunotherapy resistance",
    ReviewSection.CHEMOTHERAPY: "Exosomes promote chemotherapy resistance",
    ReviewSection.RADIOTHERAPY: "Exosomes mediate radioresistance",
    ReviewSection.STEMNESS_EMT: "Exosomes promote stemness and EMT in drug resistance",
    ReviewSection.AUTOPHAGY: "Exosomes induce autophagy in drug resistance",
    ReviewSection.BIOMARKERS: "Exosomes as predictive biomarkers",
    ReviewSection.INTERVENTIONS: "Exosomes as therapeutic interventions",
    ReviewSection.CONCLUSIONS: "Conclusions and perspectives",
}


class ModelProcess(StrEnum):
    """The model process a mechanism acts on (design.md, "Effects"). The model stage assembles
    each record by this term alone, never by reading its prose."""

    REDUCE_DRUG_KILL = "reduce_drug_kill"  # survival signalling, autophagy, efflux
    TRANSFER_RESISTANCE = "transfer_resistance"  # sensitive -> reversibly resistant cells
    INDUCE_STEMNESS = "induce_stemness"
    INDUCE_EMT = "induce_emt"
    ACTIVATE_CAF = "activate_caf"
    POLARISE_M2 = "polarise_m2"
    EXHAUST_CD8 = "exhaust_cd8"
    SUPPRESS_NK = "suppress_nk"
    EXPAND_BREG = "expand_breg"
    RAISE_PDL1 = "raise_pdl1"
    CHECKPOINT_DECOY = "checkpoint_decoy"  # vesicle PD-L1 binding checkpoint antibodies
    SUPPORT_ANGIOGENESIS = "support_angiogenesis"
    RADIATION_BYSTANDER = "radiation_bystander"
    SENSITISE = "sensitise"  # restores drug kill (miR-122, miR-199a, engineered cargos)
    BLOCK_SECRETION = "block_secretion"  # interventions: lower donor secretion
    NEUTRALISE_CARGO = "neutralise_cargo"  # interventions: clear a cargo pool faster


class Stimulus(StrEnum):
    """Conditions that raise the secretion or loading of a cargo (besides drugs, which are named
    by therapy reference)."""

    TGF_BETA = "tgf_beta"
    ACIDIC_PH = "acidic_ph"
    IRRADIATION = "irradiation"
    HBV_INFECTION = "hbv_infection"
    GOLPH3 = "golph3_overexpression"
    SLUG = "slug_overexpression"
    DRUG_RESISTANCE = "acquired_drug_resistance"  # donor cells made resistant by prior exposure


class InterventionKind(StrEnum):
    SECRETION_BLOCKADE = "secretion_blockade"
    NEUTRALISING_ANTIBODY = "neutralising_antibody"
    ENGINEERED_EXOSOME = "engineered_exosome"  # carries a nucleic acid or gene-editing payload
    DRUG_LOADED_EXOSOME = "drug_loaded_exosome"
    BIOGENESIS_INHIBITOR = "biogenesis_inhibitor"
    PATHWAY_INHIBITOR = "pathway_inhibitor"  # a non-exosomal co-treatment the review names


class BiomarkerUse(StrEnum):
    DIAGNOSTIC = "diagnostic"
    PREDICTIVE = "predictive"
    PROGNOSTIC = "prognostic"
    MONITORING = "monitoring"


class SampleType(StrEnum):
    SERUM = "serum"
    PLASMA = "plasma"
    TISSUE = "tissue"
    TISSUE_EXPLANT = "tissue_explant"
    CELL_CULTURE = "cell_culture_medium"
