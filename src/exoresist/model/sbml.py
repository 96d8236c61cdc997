"""Export a :class:`~exoresist.model.spec.ModelSpec` to SBML Level 3 Version 2 core.

Mapping:

- one compartment ``body`` (size 1, dimensionless): every dynamic species is an *amount*
  (``hasOnlySubstanceUnits=true``), so rate laws in amount/day carry over unchanged;
- initial values: an ``initialAssignment`` per species from its spec expression (so changing a
  parameter in a simulator changes the initial value, as in :mod:`exoresist.ode`), plus the same
  value evaluated numerically as ``initialAmount``/``value`` for tools that ignore them;
- discrete species: non-constant parameters (changed only by events);
- parameters: constant parameters with their values (defaults or ``params``);
- assignments: ``assignmentRule`` s on non-constant parameters, in spec order;
- reactions: irreversible, kinetic law from the rate string (``t`` becomes the csymbol time);
- events: trigger ``time >= T`` (``initialValue=false``, ``persistent=true``,
  ``useValuesFromTriggerTime=true``). SBML computes all events that fire together from the values
  before any of them, whereas the spec applies events at the same time one after another; so
  events at the same time are merged into one SBML event whose assignments are composed by
  substitution (the later event's expressions with the earlier targets replaced by their new
  values and the assignments inlined), which reproduces the spec's order exactly.

Units: the model time unit is ``day``. A species' or parameter's ``unit`` string is translated
when it is a product/quotient (``*``, ``/``, ``^n``) of known units (see :data:`UNIT_TABLE`);
otherwise the element is left without units rather than given a wrong one (``unitless`` in the
return of :func:`sbml_units_report`). Rate laws mix amounts in different units through
parameters whose units are not all expressible, so libSBML's unit-consistency *warnings* are
possible; :func:`to_sbml` fails only on errors. The warnings seen on the test models are 99507
(extent units not declared: reactions move amounts in different units, so no single model-wide
extent unit exists), 10503 (kinetic laws with different units, for the same reason) and 99505
(literal numbers such as ``1`` in ``1 - N / K`` or an initial value ``0`` carry no units).
"""

from __future__ import annotations

import io
import math
import os
import re
import tempfile
import tokenize
from collections.abc import Mapping
from pathlib import Path

import libsbml

from exoresist.model.spec import ModelSpec, rename_names

COMPARTMENT = "body"

# unit name -> (SBML base kind, exponent scale multiplier to the base, scale power of ten)
UNIT_TABLE: dict[str, tuple[int, float, int]] = {
    "day": (libsbml.UNIT_KIND_SECOND, 86400.0, 0),
    "d": (libsbml.UNIT_KIND_SECOND, 86400.0, 0),
    "h": (libsbml.UNIT_KIND_SECOND, 3600.0, 0),
    "hour": (libsbml.UNIT_KIND_SECOND, 3600.0, 0),
    "min": (libsbml.UNIT_KIND_SECOND, 60.0, 0),
    "s": (libsbml.UNIT_KIND_SECOND, 1.0, 0),
    "g": (libsbml.UNIT_KIND_GRAM, 1.0, 0),
    "mg": (libsbml.UNIT_KIND_GRAM, 1.0, -3),
    "ug": (libsbml.UNIT_KIND_GRAM, 1.0, -6),
    "ng": (libsbml.UNIT_KIND_GRAM, 1.0, -9),
    "kg": (libsbml.UNIT_KIND_GRAM, 1.0, 3),
    "L": (libsbml.UNIT_KIND_LITRE, 1.0, 0),
    "mL": (libsbml.UNIT_KIND_LITRE, 1.0, -3),
    "uL": (libsbml.UNIT_KIND_LITRE, 1.0, -6),
    "mol": (libsbml.UNIT_KIND_MOLE, 1.0, 0),
    "mmol": (libsbml.UNIT_KIND_MOLE, 1.0, -3),
    "umol": (libsbml.UNIT_KIND_MOLE, 1.0, -6),
    "nmol": (libsbml.UNIT_KIND_MOLE, 1.0, -9),
    "pmol": (libsbml.UNIT_KIND_MOLE, 1.0, -12),
    "cell": (libsbml.UNIT_KIND_ITEM, 1.0, 0),
    "cells": (libsbml.UNIT_KIND_ITEM, 1.0, 0),
    "particle": (libsbml.UNIT_KIND_ITEM, 1.0, 0),
    "particles": (libsbml.UNIT_KIND_ITEM, 1.0, 0),
    "item": (libsbml.UNIT_KIND_ITEM, 1.0, 0),
    "copies": (libsbml.UNIT_KIND_ITEM, 1.0, 0),
    "molecule": (libsbml.UNIT_KIND_ITEM, 1.0, 0),
}
_DIMENSIONLESS = {"1", "dimensionless", "fraction", "ratio", ""}
_SBML_RESERVED = {"time", "avogadro", "pi", "e", "exponentiale", "true", "false", "inf", "infinity", "nan", "notanumber"}


class SbmlExportError(ValueError):
    """A spec (or parameter values) that SBML cannot express, or an export libSBML rejects."""


def _tokens(expression: str) -> list[tokenize.TokenInfo]:
    return [
        tok
        for tok in tokenize.generate_tokens(io.StringIO(expression).readline)
        if tok.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER)
    ]


def _evaluate(expression: str, values: Mapping[str, float]) -> float:
    """Numeric value of a spec expression (Python semantics, as the engine uses)."""
    env: dict[str, object] = {"pow": math.pow, "exp": math.exp, "sqrt": math.sqrt, **values}
    return float(eval(compile(expression, "<expression>", "eval"), {"__builtins__": {}}, env))


def _unit_terms(unit: str) -> list[tuple[str, int]] | None:
    """``"particle/cell/day"`` -> ``[("particle", 1), ("cell", -1), ("day", -1)]``; None if unknown."""
    text = unit.replace(" ", "")
    if text in _DIMENSIONLESS:
        return []
    terms: list[tuple[str, int]] = []
    for sign, token in re.findall(r"(^|[*/])([^*/]+)", text):
        match = re.fullmatch(r"([A-Za-z]+|1)(?:\^(-?\d+))?", token)
        if not match:
            return None
        name, power = match.group(1), int(match.group(2) or 1)
        if name == "1":
            continue
        if name not in UNIT_TABLE:
            return None
        terms.append((name, -power if sign == "/" else power))
    return terms


def _unit_id(unit: str) -> str:
    return "u_" + re.sub(r"[^A-Za-z0-9]", "_", unit.replace("/", "_per_").replace("*", "_").replace("^", "")).strip("_")


class _Builder:
    def __init__(self, spec: ModelSpec, values: Mapping[str, float]) -> None:
        self.spec = spec
        self.values = values
        self.doc = libsbml.SBMLDocument(3, 2)
        self.model = self.doc.createModel()
        self.units: dict[str, str | None] = {}
        self.unitless: list[str] = []

    def check(self, status: int, what: str) -> None:
        if status != libsbml.LIBSBML_OPERATION_SUCCESS:
            raise SbmlExportError(f"libSBML refused {what}: {libsbml.OperationReturnValue_toString(status)}")

    def unit(self, unit: str, owner: str) -> str | None:
        """The id of a unit definition for ``unit`` (created once), or None when not expressible."""
        if unit in self.units:
            found = self.units[unit]
            if found is None:
                self.unitless.append(owner)
            return found
        terms = _unit_terms(unit)
        if terms is None:
            self.units[unit] = None
            self.unitless.append(owner)
            return None
        if not terms:
            self.units[unit] = "dimensionless"
            return "dimensionless"
        uid = _unit_id(unit)
        definition = self.model.createUnitDefinition()
        self.check(definition.setId(uid), f"unit id {uid}")
        definition.setName(unit)
        for name, power in terms:
            kind, multiplier, scale = UNIT_TABLE[name]
            u = definition.createUnit()
            u.setKind(kind)
            u.setExponent(power)
            u.setScale(scale)
            u.setMultiplier(multiplier)
        self.units[unit] = uid
        return uid

    def math(self, expression: str, what: str) -> libsbml.ASTNode:
        text = rename_names(expression, {"t": "time"})
        settings = libsbml.L3ParserSettings()
        settings.setModel(self.model)  # model ids win over built-in constant names
        node = libsbml.parseL3FormulaWithSettings(text, settings)
        if node is None:
            raise SbmlExportError(f"cannot parse {what}: {expression!r}: {libsbml.getLastParseL3Error()}")
        return node

    def build(self) -> libsbml.SBMLDocument:
        spec, model = self.spec, self.model
        names = [*spec.parameter_names, *spec.species_names, *(a.name for a in spec.assignments)]
        clash = sorted(set(names) & _SBML_RESERVED)
        if clash:
            raise SbmlExportError(f"names reserved in SBML formulas: {clash}")
        self.check(model.setId(re.sub(r"\W", "_", spec.name) or "model"), "model id")
        model.setName(f"{spec.name} {spec.version}")
        day = model.createUnitDefinition()
        day.setId("day")
        u = day.createUnit()
        u.setKind(libsbml.UNIT_KIND_SECOND)
        u.setExponent(1)
        u.setScale(0)
        u.setMultiplier(86400.0)
        self.units["day"] = "day"
        model.setTimeUnits("day")

        compartment = model.createCompartment()
        compartment.setId(COMPARTMENT)
        compartment.setConstant(True)
        compartment.setSize(1.0)
        compartment.setSpatialDimensions(3)
        compartment.setUnits("dimensionless")

        for p in spec.parameters:
            par = model.createParameter()
            self.check(par.setId(p.name), f"parameter id {p.name}")
            par.setConstant(True)
            par.setValue(float(self.values[p.name]))
            uid = self.unit(p.unit, p.name)
            if uid is not None:
                par.setUnits(uid)

        initial_values: dict[str, float] = {}
        for s in spec.species:
            value = _evaluate(s.initial, self.values)
            initial_values[s.name] = value
            uid = self.unit(s.unit, s.name)
            if s.kind == "dynamic":
                sp = model.createSpecies()
                self.check(sp.setId(s.name), f"species id {s.name}")
                sp.setCompartment(COMPARTMENT)
                sp.setHasOnlySubstanceUnits(True)
                sp.setBoundaryCondition(False)
                sp.setConstant(False)
                sp.setInitialAmount(value)
                if uid is not None:
                    sp.setSubstanceUnits(uid)
            else:
                par = model.createParameter()
                self.check(par.setId(s.name), f"parameter id {s.name}")
                par.setConstant(False)
                par.setValue(value)
                if uid is not None:
                    par.setUnits(uid)
            ia = model.createInitialAssignment()
            ia.setSymbol(s.name)
            self.check(ia.setMath(self.math(s.initial, f"initial value of {s.name}")), f"initial value of {s.name}")

        for a in spec.assignments:
            par = model.createParameter()
            self.check(par.setId(a.name), f"assignment id {a.name}")
            par.setConstant(False)
            uid = self.unit(a.unit, a.name)
            if uid is not None:
                par.setUnits(uid)
            rule = model.createAssignmentRule()
            rule.setVariable(a.name)
            self.check(rule.setMath(self.math(a.expression, f"assignment {a.name}")), f"assignment {a.name}")

        for r in spec.reactions:
            reaction = model.createReaction()
            self.check(reaction.setId(r.name), f"reaction id {r.name}")
            reaction.setReversible(False)
            for name, coef in r.reactants:
                ref = reaction.createReactant()
                ref.setSpecies(name)
                ref.setStoichiometry(float(coef))
                ref.setConstant(True)
            for name, coef in r.products:
                ref = reaction.createProduct()
                ref.setSpecies(name)
                ref.setStoichiometry(float(coef))
                ref.setConstant(True)
            changed = {name for name, _ in (*r.reactants, *r.products)}
            for name in sorted(self._species_in(r.rate) - changed):
                modifier = reaction.createModifier()
                modifier.setSpecies(name)
            law = reaction.createKineticLaw()
            self.check(law.setMath(self.math(r.rate, f"rate of {r.name}")), f"rate of {r.name}")

        self.events()
        return self.doc

    def events(self) -> None:
        by_time: dict[float, list[int]] = {}
        for k, e in enumerate(self.spec.events):
            by_time.setdefault(float(e.time_day), []).append(k)
        inline = self._inlined_assignments()
        for n, (time_day, members) in enumerate(sorted(by_time.items())):
            current: dict[str, str] = {}  # target -> expression in pre-event values
            for k in members:
                event = self.spec.events[k]
                composed: dict[str, str] = {}
                for target, expr in event.assignments:
                    full = rename_names(expr, inline)  # assignments in terms of species/parameters
                    composed[target] = "(" + rename_names(full, {s: f"({v})" for s, v in current.items()}) + ")"
                current.update(composed)
            ev = self.model.createEvent()
            ev.setId(f"event_{n}")
            ev.setName(" + ".join(self.spec.events[k].name for k in members))
            ev.setUseValuesFromTriggerTime(True)
            trigger = ev.createTrigger()
            trigger.setInitialValue(False)
            trigger.setPersistent(True)
            node = self.math(f"t >= {time_day!r}", "event trigger")
            node.getChild(1).setUnits("day")  # the literal is a time: lets libSBML check the trigger's units
            self.check(trigger.setMath(node), "event trigger")
            for target, expr in current.items():
                assignment = ev.createEventAssignment()
                assignment.setVariable(target)
                self.check(assignment.setMath(self.math(expr, f"event {ev.getName()}")), f"event {ev.getName()}")

    def _species_in(self, expression: str) -> set[str]:
        """Dynamic species an expression uses, directly or through assignments."""
        inline = self._inlined_assignments()
        dynamic = {s.name for s in self.spec.species if s.kind == "dynamic"}
        full = rename_names(expression, inline)
        return {tok.string for tok in _tokens(full) if tok.type == tokenize.NAME} & dynamic

    def _inlined_assignments(self) -> dict[str, str]:
        """Each assignment name -> its expression in species, parameters and ``t`` only."""
        out: dict[str, str] = {}
        for a in self.spec.assignments:
            out[a.name] = "(" + rename_names(a.expression, out) + ")"
        return out


def _parameter_values(spec: ModelSpec, params: Mapping[str, float] | None) -> dict[str, float]:
    values = {p.name: float(p.default) for p in spec.parameters}
    for name, value in (params or {}).items():
        if name not in values:
            raise SbmlExportError(f"unknown parameter '{name}'")
        if not math.isfinite(float(value)):
            raise SbmlExportError(f"parameter '{name}' is not finite: {value}")
        values[name] = float(value)
    return values


def build_document(spec: ModelSpec, params: Mapping[str, float] | None = None) -> libsbml.SBMLDocument:
    """The libSBML document for ``spec`` (parameter values: defaults, then ``params``), checked.

    Raises :class:`SbmlExportError` if libSBML's consistency check reports any error (warnings,
    e.g. about units it cannot verify, are allowed).
    """
    builder = _Builder(spec, _parameter_values(spec, params))
    doc = builder.build()
    doc.checkConsistency()
    errors = [doc.getError(i) for i in range(doc.getNumErrors()) if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    if errors:
        detail = "; ".join(f"{e.getErrorId()}: {e.getShortMessage()} ({e.getMessage().strip()})" for e in errors[:5])
        raise SbmlExportError(f"SBML export of {spec.name} failed consistency checks: {detail}")
    return doc


def to_sbml(spec: ModelSpec, params: Mapping[str, float] | None = None) -> str:
    """SBML L3V2 core text for ``spec`` with parameter values ``params`` (name → value; missing
    names take their defaults). Passes ``checkConsistency()`` without errors."""
    text: str = libsbml.writeSBMLToString(build_document(spec, params))
    return text


def sbml_units_report(spec: ModelSpec) -> list[str]:
    """Names of parameters, species and assignments exported without units (unit string not
    expressible with :data:`UNIT_TABLE`)."""
    builder = _Builder(spec, _parameter_values(spec, None))
    builder.build()
    return sorted(set(builder.unitless))


def write_sbml(spec: ModelSpec, path: str | os.PathLike[str], params: Mapping[str, float] | None = None) -> Path:
    """Write :func:`to_sbml` to ``path`` atomically (temporary file in the same folder, then
    ``os.replace``); returns the path."""
    target = Path(path)
    text = to_sbml(spec, params)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
