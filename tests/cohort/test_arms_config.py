"""Trial arms and the trial configuration: parsing, validation, replicates and the run key."""

from __future__ import annotations

import pytest

from exoresist.cohort.arms import TrialError, parse_arm
from exoresist.cohort.config import MAX_REPLICATES, TrialConfig
from exoresist.cohort.covariates import IMBRAVE150, BaselineTable, Level
from exoresist.cohort.disease import LATER_LINE_SHARES
from exoresist.cohort.population import CohortParameters
from exoresist.cohort.runner import run_key
from exoresist.kb import KnowledgeBase


def test_parse_arm_resolves_therapies_regimens_and_interventions(kb: KnowledgeBase) -> None:
    assert parse_arm(kb, "placebo").therapies == () and parse_arm(kb, " Placebo ").label == "placebo"
    combo = parse_arm(kb, "atezolizumab+bevacizumab")
    assert combo.therapies == ("ther:atezolizumab", "ther:bevacizumab") and combo.interventions == ()
    blocked = parse_arm(kb, "sorafenib+secretion-blockade")
    assert blocked.therapies == ("ther:sorafenib",) and blocked.interventions == ("int:rab27a-knockdown",)
    assert blocked.label == "sorafenib+secretion-blockade"
    assert parse_arm(kb, "sorafenib+anti-pIgR").interventions == ("int:anti-pigr-antibody",)
    assert parse_arm(kb, "tremelimumab+durvalumab").therapies == ("ther:tremelimumab", "ther:durvalumab")
    assert parse_arm(kb, "EVE").therapies == ("ther:everolimus",)  # an alias
    assert parse_arm(kb, "ther:sorafenib").therapies == ("ther:sorafenib",)  # an id
    assert parse_arm(kb, "sorafenib+sorafenib").therapies == ("ther:sorafenib",)  # given once


@pytest.mark.parametrize("text", ["sorafenib+aspirin", "", "  ", "sorafenib+", "unknowndrug", "sorafenib\x00"])
def test_parse_arm_rejects_unknown_parts(kb: KnowledgeBase, text: str) -> None:
    with pytest.raises(TrialError):
        parse_arm(kb, text)


def test_unknown_part_is_named(kb: KnowledgeBase) -> None:
    with pytest.raises(TrialError, match="'aspirin' is neither a therapy nor an intervention"):
        parse_arm(kb, "sorafenib+aspirin")
    with pytest.raises(TrialError, match="empty component"):
        parse_arm(kb, "sorafenib++placebo")


def _user_table() -> BaselineTable:
    return BaselineTable("mine.csv", {"ecog": {"0": Level(0.9, "user"), "1": Level(0.1, "user")}}, {})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"patients": 0}, "at least 1"),
        ({"patients": -5}, "at least 1"),
        ({"months": 0.0}, "months"),
        ({"months": float("nan")}, "months"),
        ({"months": 121.0}, r"\(0, 120\]"),
        ({"months": 1.0}, "end before the first tumour assessment"),
        ({"population": "second-line"}, "unknown population"),
        ({"chunk_size": 0}, "chunk size"),
        ({"seed": -1}, "seed"),
        ({"arms": ()}, "at least one arm"),
        ({"arms": ("sorafenib", "sorafenib")}, "twice"),
        ({"replicates": 0}, f"replicates must be between 1 and {MAX_REPLICATES}"),
        ({"replicates": MAX_REPLICATES + 1}, "replicates"),
        ({"later_line_share": 1.5}, r"later-line share must be in \[0, 1\]"),
        ({"later_line_share": -0.1}, "later-line share"),
        ({"arms": ("sorafenib", "placebo"), "arm_sizes": (10,)}, "must give each of the 2 arms"),
        ({"arms": ("sorafenib", "placebo"), "arm_sizes": (10, 0)}, "arm sizes"),
        ({"arms": ("sorafenib", "placebo"), "patients": 10, "arm_sizes": (10, 11)}, "1 to 10 patients"),
        ({"arms": ("sorafenib", "placebo"), "reference": "lenvatinib"}, "reference arm 'lenvatinib' is not one of the arms"),
    ],
)
def test_config_validation(kb: KnowledgeBase, kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {"arms": ("sorafenib",)}
    base.update(kwargs)
    with pytest.raises(TrialError, match=message):
        TrialConfig(**base).validate(kb)  # type: ignore[arg-type]


def test_valid_config_returns_the_parsed_arms(kb: KnowledgeBase) -> None:
    config = TrialConfig(("placebo", "sorafenib"), patients=10, arm_sizes=(10, 5), reference="sorafenib", months=1.5)
    arms = config.validate(kb)
    assert [a.label for a in arms] == ["placebo", "sorafenib"]
    assert config.reference_arm == "sorafenib"
    assert TrialConfig(("placebo", "sorafenib")).reference_arm == "placebo"  # default: the first arm
    assert config.arm_size("placebo") == 10 and config.arm_size("sorafenib") == 5
    assert TrialConfig(("placebo",), patients=7).arm_size("placebo") == 7


def test_replicates_multiply_the_patients() -> None:
    config = TrialConfig(("sorafenib",), patients=7, replicates=3, chunk_size=5)
    assert config.total_patients == 21
    chunks = config.chunks()
    assert [len(c) for c in chunks] == [5, 5, 5, 5, 1]
    assert [i for c in chunks for i in c] == list(range(21))  # every patient once, in order


def test_later_line_default_is_the_modern_share() -> None:
    assert TrialConfig(("sorafenib",)).later_line == LATER_LINE_SHARES["modern"][0]
    assert TrialConfig(("sorafenib",), later_line_share=0.0).later_line == 0.0


def test_target_is_imbrave150_with_the_users_overrides() -> None:
    assert TrialConfig(("sorafenib",)).target is IMBRAVE150
    target = TrialConfig(("sorafenib",), baseline=_user_table()).target
    assert target.share("ecog", "0") == 0.9 and target.share("mvi", "yes") == IMBRAVE150.share("mvi", "yes")


def test_run_key_dict_has_only_the_options_that_are_set(kb: KnowledgeBase) -> None:
    """Options left at their defaults are absent, so the run keys of earlier runs (and their chunk
    folders) stay valid; each option set appears and changes the key."""
    plain = TrialConfig(("sorafenib",))
    assert set(plain.as_dict()) == {"arms", "population", "patients", "months", "seed", "chunk_size", "cohort"}
    assert plain.as_dict()["cohort"] == CohortParameters().as_dict()
    options: dict[str, tuple[dict[str, object], object]] = {
        "knockouts": ({"knockouts": True}, True),
        "replicates": ({"replicates": 3}, 3),
        "later_line_share": ({"later_line_share": 0.0}, 0.0),
        "reference": ({"arms": ("sorafenib", "placebo"), "reference": "placebo"}, "placebo"),
        "arm_sizes": ({"arm_sizes": (500,)}, [500]),
        "baseline": ({"baseline": _user_table()}, {"shares": {"ecog": {"0": 0.9, "1": 0.1}}, "means": {}}),
    }
    keys = {run_key(kb, plain)}
    for key, (kwargs, value) in options.items():
        base: dict[str, object] = {"arms": ("sorafenib",)}
        base.update(kwargs)
        config = TrialConfig(**base)  # type: ignore[arg-type]
        d = config.as_dict()
        assert d[key] == value
        assert set(d) - set(plain.as_dict()) == {key}
        keys.add(run_key(kb, config))
    assert len(keys) == len(options) + 1
    assert "replicates" not in TrialConfig(("sorafenib",), replicates=1).as_dict()
    assert "knockouts" not in TrialConfig(("sorafenib",), knockouts=False).as_dict()


def test_run_key_changes_with_the_code_that_makes_the_numbers(kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of other code are never reused: the key hashes the source of cohort, model, ode, kb."""
    from exoresist.cohort import runner

    config = TrialConfig(("sorafenib",))
    here = run_key(kb, config)
    assert len(runner.code_hash()) == 16 and run_key(kb, config) == here  # stable within one code
    monkeypatch.setattr(runner, "code_hash", lambda: "0" * 16)
    assert run_key(kb, config) != here
