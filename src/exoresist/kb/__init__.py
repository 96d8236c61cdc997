"""Stage 1: the curated, validated knowledge base.

Public API::

    from exoresist.kb import load_kb
    kb = load_kb()                                  # shipped YAML records, validated
    kb.query(therapy="anti-PD-1")                   # typed Mechanism records
    kb.to_dataframe(kb.query(cargo="circSORE"))     # a pandas DataFrame
    kb.get("mech:circuhrf1-nk-tim3")                # one record by id
    kb.names.resolve("Nexavar", "therapy")          # how a name resolves (exoresist.kb.names)
    load_kb(extra=["my-records.yaml"])              # the shipped KB plus your own records
"""

from exoresist.kb.base import KB_VERSION, KnowledgeBase, extend_kb, load_kb
from exoresist.kb.errors import Issue, KBValidationError, UnknownNameError
from exoresist.kb.models import Biomarker, Entity, Evidence, Intervention, Mechanism, Record, Therapy
from exoresist.kb.names import NameEntry, NameIndex, NameInputError, NameKind, Resolved, Synonym
from exoresist.kb.vocab import GRADE_MEANINGS, evidence_grades_text

__all__ = [
    "GRADE_MEANINGS",
    "KB_VERSION",
    "Biomarker",
    "Entity",
    "Evidence",
    "Intervention",
    "Issue",
    "KBValidationError",
    "KnowledgeBase",
    "Mechanism",
    "NameEntry",
    "NameIndex",
    "NameInputError",
    "NameKind",
    "Record",
    "Resolved",
    "Synonym",
    "Therapy",
    "UnknownNameError",
    "evidence_grades_text",
    "extend_kb",
    "load_kb",
]
