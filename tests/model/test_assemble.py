"""Model assembly: every term traces to records, knockouts remove exactly their terms."""

from __future__ import annotations

import pytest

from exoresist.kb import KnowledgeBase, UnknownNameError
from exoresist.model.assemble import AssemblyError, Context, Scenario, active_mechanisms, assemble, resolve_therapies
from exoresist.model.drugs import DRUGS, all_parameters
from exoresist.model.spec import ModelSpec

SCENARIOS = [
    Scenario("patient", ("sorafenib",), ("secretion-blockade",), days=200),
    Scenario("patient", ("atezolizumab+bevacizumab",), ("anti-pigr",), days=120),
    Scenario("mouse", ("lenvatinib", "cisplatin"), ("amsc-exo-mir122",), days=30, include_hypotheses=True),
    Scenario("culture", ("doxorubicin",), (), days=3),
    Scenario("patient", ("radiotherapy",), (), days=60, include_hypotheses=True),
]


def _terms(spec: ModelSpec) -> dict[str, tuple[str, ...]]:
    out = {f"reaction:{r.name}": r.records for r in spec.reactions}
    out |= {f"assignment:{a.name}": a.records for a in spec.assignments}
    out |= {f"species:{s.name}": s.records for s in spec.species}
    out |= {f"event:{e.name}": e.records for e in spec.events}
    return out


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: f"{s.context}-{'+'.join(s.therapies)}")
def test_every_record_cited_exists_and_every_mechanism_acts(kb: KnowledgeBase, scenario: Scenario) -> None:
    spec = assemble(kb, scenario)
    cited = {r for recs in _terms(spec).values() for r in recs}
    assert cited <= set(kb.by_id)
    for m in active_mechanisms(kb, scenario):
        assert m.id in cited, f"{m.id} contributes no term"


def _acts_on_removed_pool(key: str, base: ModelSpec, knocked: ModelSpec) -> bool:
    """Interventions that act on a cargo pool (neutralising antibodies) lose their term when the
    only record behind that pool is knocked out: there is nothing left to neutralise."""
    gone = set(base.species_names) - set(knocked.species_names)
    return any(pool in key for pool in gone)


@pytest.mark.parametrize("scenario", SCENARIOS[:3], ids=lambda s: s.context)
def test_knockout_removes_exactly_the_records_terms(kb: KnowledgeBase, scenario: Scenario) -> None:
    base = assemble(kb, scenario)
    base_terms = _terms(base)
    for m in active_mechanisms(kb, scenario):
        knocked = assemble(kb, Scenario(**{**scenario.__dict__, "knockouts": (m.id,)}))
        terms = _terms(knocked)
        for key, recs in base_terms.items():
            if m.id not in recs and _acts_on_removed_pool(key, base, knocked):
                continue
            if recs == (m.id,):
                # gone, or an aggregate (a summed drive) left empty
                assert key not in terms or terms[key] == (), f"{key} survived the knockout of {m.id}"
            elif m.id not in recs:
                assert terms.get(key) == recs, f"{key} changed when {m.id} was knocked out"
            else:  # shared with other records: stays, without the knocked-out record
                assert key in terms and m.id not in terms[key]
        assert not any(m.id in recs for recs in terms.values())
        strength = f"strength_{m.id.split(':', 1)[1].replace('-', '_')}"
        assert strength not in knocked.parameter_names


def test_contexts(kb: KnowledgeBase) -> None:
    names = {
        ctx: {s.name for s in assemble(kb, Scenario(ctx, ("sorafenib",), days=10)).species}
        for ctx in ("culture", "mouse", "patient")
    }
    assert "Te" in names["patient"] and "Te" not in names["mouse"]  # nude mice have no T cells
    assert "A_sorafenib" in names["patient"] and "A_sorafenib" not in names["culture"]  # culture sets exposure
    assert "Vs" not in names["culture"]


@pytest.mark.parametrize("context", ["culture", "mouse", "patient"])
def test_every_drug_assembles_in_every_context_with_half_effect_at_exposure_one(kb: KnowledgeBase, context: Context) -> None:
    """Culture and mouse exposures are multiples of each drug's half-effect concentration (EC50, or
    the binding constant of a checkpoint antibody, which once had no such reference)."""

    from exoresist.ode import simulate

    for drug_id, drug in DRUGS.items():
        spec = assemble(kb, Scenario(context, (drug_id,), days=2.0))
        if context == "patient" or drug.route == "radiation":
            continue
        ratio = "drug_exposure_ratio_fixed" if context == "culture" else "mouse_exposure_ratio"
        params = spec.defaults()
        params[spec.parameter_names.index(ratio)] = 1.0
        res = simulate(spec, params[None, :], t_end_day=2.0)
        assert res.ok.all(), drug_id
        assert res.derived_value(f"H_{drug.slug}")[0, -1] == pytest.approx(0.5, rel=1e-12), drug_id


def test_therapy_names_resolve_like_the_kb(kb: KnowledgeBase) -> None:
    assert resolve_therapies(kb, ["atezolizumab+bevacizumab"]) == ["ther:atezolizumab", "ther:bevacizumab"]
    assert resolve_therapies(kb, ["5-FU"]) == ["ther:5-fluorouracil"]
    with pytest.raises(UnknownNameError, match="sorafenib"):
        resolve_therapies(kb, ["sorafinib"])
    with pytest.raises(AssemblyError, match="no pharmacological model"):
        resolve_therapies(kb, ["camptothecin"])


def test_bad_scenarios(kb: KnowledgeBase) -> None:
    with pytest.raises(AssemblyError, match="not a record id"):
        assemble(kb, Scenario(knockouts=("mech:nope",)))
    with pytest.raises(AssemblyError, match="days must be positive"):
        assemble(kb, Scenario(days=0))
    with pytest.raises(UnknownNameError, match="intervention"):
        assemble(kb, Scenario(interventions=("rab27c",)))


def test_parameter_table() -> None:
    params = all_parameters()
    assert len({p.name for p in params}) == len(params)
    for p in params:
        assert p.low <= p.default <= p.high, p.name
        assert p.source and p.unit and p.description, p.name
        if p.name.endswith("_per_day"):
            assert p.unit.endswith("/day"), p.name
    assumed = [p for p in params if p.assumed]
    assert assumed and all(p.low < p.high for p in assumed)  # an assumed value always has a real prior range
