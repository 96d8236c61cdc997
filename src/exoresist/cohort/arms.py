"""Trial arms: the user's label, the drugs (KB therapy ids) and the interventions (KB ids)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from exoresist.kb import KnowledgeBase
from exoresist.kb.errors import UnknownNameError
from exoresist.model.assemble import AssemblyError, resolve_interventions, resolve_therapies


class TrialError(ValueError):
    """Bad trial arguments: unknown arm component, non-positive patients or months, ..."""


@dataclass(frozen=True)
class Arm:
    """A trial arm: the user's label, the drugs (KB therapy ids) and interventions (KB ids)."""

    label: str
    therapies: tuple[str, ...]
    interventions: tuple[str, ...]


def parse_arm(kb: KnowledgeBase, text: str) -> Arm:
    """``"sorafenib+anti-pIgR"`` -> drugs and interventions; ``"placebo"`` is no treatment.

    Each ``+``-separated part is a therapy (name, alias, id or a regimen such as
    ``atezolizumab+bevacizumab``) or an intervention (name, alias, id or short form such as
    ``secretion-blockade``). An unknown part raises ``TrialError`` naming it.
    """
    if not text.isprintable():
        shown = text.encode("unicode_escape").decode("ascii")
        raise TrialError(f"arm '{shown}' contains a control character: give each arm on one line")
    label = text.strip()
    if not label:
        raise TrialError("an arm name is empty")
    if label.casefold() == "placebo":
        return Arm("placebo", (), ())
    therapies: list[str] = []
    interventions: list[str] = []
    for part in [p.strip() for p in re.split(r"\+", label)]:
        if not part:
            raise TrialError(f"arm '{label}' has an empty component")
        try:
            for d in resolve_therapies(kb, [part]):
                if d not in therapies:
                    therapies.append(d)
            continue
        except (UnknownNameError, AssemblyError) as therapy_error:
            try:
                for i in resolve_interventions(kb, [part]):
                    if i.id not in interventions:
                        interventions.append(i.id)
            except (UnknownNameError, AssemblyError):
                raise TrialError(f"arm '{label}': '{part}' is neither a therapy nor an intervention ({therapy_error})") from None
    return Arm(label, tuple(therapies), tuple(interventions))
