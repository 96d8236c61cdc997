"""Stage 1: the curated, validated knowledge base.

Public API::

    from exoresist.kb import load_kb
    kb = load_kb()                                  # shipped YAML records, validated
    kb.query(therapy="anti-PD-1")                   # typed Mechanism records
    kb.to_dataframe(kb.query(cargo="circSORE"))     # a pandas DataFrame
    kb.get("mech:circuhrf1-nk-tim3")                # one record by id
"""

from exoresist.kb.base import KB_VERSION, KnowledgeBase, load_kb
from exoresist.kb.errors import Issue, KBValidationError, UnknownNameError
from exoresist.kb.models import Biomarker, Entity, Evidence, Intervention, Mechanism, Record, Therapy

__all__ = [
    "KB_VERSION",
    "Biomarker",
    "Entity",
    "Evidence",
    "Intervention",
    "Issue",
    "KBValidationError",
    "KnowledgeBase",
    "Mechanism",
    "Record",
    "Therapy",
    "UnknownNameError",
    "load_kb",
]
