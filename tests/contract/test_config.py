"""pilot.yml: typed all the way down (priors, guardrail forms) and did-you-mean errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from workbench.contract.config import (
    DEFAULT_GUARDRAILS,
    FamilyPriors,
    HierarchicalBinaryPriors,
    dump_config,
    load_config,
    parse_config,
)
from workbench.errors import ConfigError

BASE = {"name": "t", "arms": {"control": "pressure", "treatment": "empathy"}, "observed_until": "2026-06-30T00:00:00Z"}


def _cfg(**over):
    return parse_config({**BASE, **over})


def _lines(**over) -> list[str]:
    with pytest.raises(ConfigError) as e:
        _cfg(**over)
    lines = e.value.lines()
    assert all(x.startswith("ERROR pilot.yml: ") for x in lines), lines  # printed as problem lines
    return [x.removeprefix("ERROR ") for x in lines]


# ---------------------------------------------------------------- priors


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        ({"priors": {"famlies": {}}}, "pilot.yml: priors.famlies: unknown key; did you mean 'families'?"),
        ({"priors": {"families": {"binery": {}}}}, "pilot.yml: priors.families.binery: unknown key; did you mean 'binary'?"),
        (
            {"priors": {"families": {"binary": {"alpa": 2}}}},
            "pilot.yml: priors.families.binary.alpa: unknown key; did you mean 'alpha'?",
        ),
        (
            {"priors": {"hierarchical_binary": {"arm_efect": {"sigma": 1}}}},
            "pilot.yml: priors.hierarchical_binary.arm_efect: unknown key; did you mean 'arm_effect'?",
        ),
        # Accepted and silently ignored before priors were typed: the engine reads priors.families.
        (
            {"priors": {"binary": {"alpha": 1000}}},
            "pilot.yml: priors.binary: unknown key; family priors go under priors.families (priors.families.binary)",
        ),
        (
            {"priors": {"families": {"survival": {"shape": 2}}}},
            "pilot.yml: priors.families.survival: unknown key; the retention prior is 'hazard' (on the daily exit hazard)",
        ),
    ],
)
def test_misspelt_priors_key_is_an_error_with_a_did_you_mean(over, expected):
    assert _lines(**over) == [expected]


@pytest.mark.parametrize(
    ("priors", "where"),
    [
        ({"families": {"binary": {"alpha": 0}}}, "priors.families.binary.alpha: Input should be greater than 0"),
        ({"families": {"count": {"rate": -1}}}, "priors.families.count.rate: Input should be greater than 0 (got -1)"),
        (
            {"families": {"ordinal": {"concentration": 0.0}}},
            "priors.families.ordinal.concentration: Input should be greater than 0 (got 0.0)",
        ),
        (
            {"families": {"hazard": {"rate_days": float("inf")}}},
            "priors.families.hazard.rate_days: Input should be a finite number (got inf)",
        ),
        ({"families": {"binary": {"beta": True}}}, "priors.families.binary.beta: Input should be a valid number (got True)"),
        (
            {"hierarchical_binary": {"agent_sd": {"sigma": 0}}},
            "priors.hierarchical_binary.agent_sd.sigma: Input should be greater than 0",
        ),
    ],
)
def test_priors_parameters_are_checked(priors, where):
    assert _lines(priors=priors) == [f"pilot.yml: {where}"]


def test_a_negative_location_is_a_valid_prior():
    # mu is a location on the logit scale: any finite number is fine.
    assert _cfg(priors={"hierarchical_binary": {"arm_effect": {"mu": -0.5}}}).priors.hierarchical_binary.arm_effect.mu == -0.5


def test_priors_override_reaches_the_dict_analyze_reads():
    from workbench.effects.analyze import design_from_config
    from workbench.models import conjugate

    cfg = _cfg(priors={"families": {"binary": {"alpha": 2}}, "hierarchical_binary": {"arm_effect": {"sigma": 0.2}}})
    # Typed access gives the prior in use, given or default.
    assert cfg.priors.families.binary.alpha == 2.0 and cfg.priors.families.binary.beta == 1.0
    priors = design_from_config(cfg).priors
    assert priors == {"families": {"binary": {"alpha": 2.0}}, "hierarchical_binary": {"arm_effect": {"sigma": 0.2}}}
    assert priors == cfg.priors.overrides()
    merged = conjugate.merge_priors(priors.get("families"))
    assert merged["binary"] == {"alpha": 2.0, "beta": 1.0}
    assert merged["count"] == conjugate.DEFAULT_PRIORS["count"]


def test_no_priors_gives_no_overrides():
    from workbench.effects.analyze import design_from_config

    assert design_from_config(_cfg()).priors == {}
    assert design_from_config(_cfg(priors={})).priors == {}


def test_priors_defaults_agree_with_the_models():
    from workbench.models import conjugate
    from workbench.models.binary import HierarchicalBinary

    assert FamilyPriors().model_dump() == conjugate.DEFAULT_PRIORS
    assert HierarchicalBinaryPriors().model_dump() == HierarchicalBinary.DEFAULT_PRIORS


def test_priors_are_written_back_as_given(tmp_path):
    cfg = _cfg(priors={"families": {"hazard": {"shape": 2}}})
    (tmp_path / "pilot.yml").write_text(dump_config(cfg), encoding="utf-8")
    assert "rate_days" not in dump_config(cfg)  # defaults are not pinned as if chosen
    assert load_config(tmp_path / "pilot.yml") == cfg


# ---------------------------------------------------------------- guardrails


def test_an_empty_guardrail_takes_the_default_margin():
    g = _cfg(guardrails={"complaints": {}}).guardrails
    assert set(g) == {"complaints"}
    assert g["complaints"].margin == 0.001 and g["complaints"].threshold == 0.05
    assert _cfg(guardrails={"complaints": None}).guardrails["complaints"].margin == 0.001  # `complaints:` in YAML


def test_a_given_margin_or_threshold_overrides_only_itself():
    g = _cfg(guardrails={"complaints": {"margin": 0.002}, "recovery": {"threshold": 0.1}}).guardrails
    assert g["complaints"].model_dump() == {"margin": 0.002, "threshold": 0.05}
    assert g["recovery"].model_dump() == {"margin": 0.005, "threshold": 0.1}


def test_list_form_takes_the_default_margins():
    g = _cfg(guardrails=["complaints", "recovery"]).guardrails
    assert g == {k: DEFAULT_GUARDRAILS[k] for k in ("complaints", "recovery")}


def test_no_guardrails_key_gives_the_documented_defaults_and_empty_gives_none():
    assert _cfg().guardrails == DEFAULT_GUARDRAILS
    assert _cfg(guardrails={}).guardrails == {} == _cfg(guardrails=[]).guardrails


@pytest.mark.parametrize("form", [{"complaint": {}}, ["complaint"]])
def test_unknown_metric_in_guardrails_is_an_error(form):
    assert _lines(guardrails=form) == ["pilot.yml: guardrails.complaint: unknown metric 'complaint'; did you mean 'complaints'?"]


def test_a_metric_without_a_default_margin_needs_one():
    (line,) = _lines(guardrails=["csat"])
    assert line.startswith("pilot.yml: guardrails.csat.margin: required: csat has no default margin")
    assert _cfg(guardrails={"csat": {"margin": 0.05}}).guardrails["csat"].margin == 0.05


@pytest.mark.parametrize(
    ("guardrails", "expected"),
    [
        ({"complaints": {"margn": 0.1}}, "pilot.yml: guardrails.complaints.margn: unknown key; did you mean 'margin'?"),
        (
            {"complaints": {"margin": -1}},
            "pilot.yml: guardrails.complaints.margin: Input should be greater than or equal to 0 (got -1)",
        ),
        (["complaints", "complaints"], "pilot.yml: guardrails: listed twice: complaints"),
        (
            ["complaints", {"recovery": {}}],
            (
                "pilot.yml: guardrails: a list of guardrails holds metric names only; "
                "give margins in the mapping form (complaints: {margin: 0.002})"
            ),
        ),
    ],
)
def test_guardrail_errors(guardrails, expected):
    assert _lines(guardrails=guardrails) == [expected]


# ---------------------------------------------------------------- did-you-mean at every level


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        ({"primary_metrc": "ptp"}, "pilot.yml: primary_metrc: unknown key; did you mean 'primary_metric'?"),
        ({"windows": {"outcome_day": 30}}, "pilot.yml: windows.outcome_day: unknown key; did you mean 'outcome_days'?"),
        ({"source": {"knd": "folder"}}, "pilot.yml: source.knd: unknown key; did you mean 'kind'?"),
        ({"source": {"schma": "x"}}, "pilot.yml: source.schma: unknown key; did you mean 'schema'?"),
        ({"portfolio": {"acounts": 10}}, "pilot.yml: portfolio.acounts: unknown key; did you mean 'accounts'?"),
        ({"primary_metric": "kept_pt"}, "pilot.yml: primary_metric: unknown metric 'kept_pt'; did you mean 'kept_ptp'?"),
        ({"rope": {"kept_pt": 0.01}}, "pilot.yml: rope.kept_pt: unknown metric 'kept_pt'; did you mean 'kept_ptp'?"),
    ],
)
def test_misspelt_keys_name_the_closest_known_one(over, expected):
    assert _lines(**over) == [expected]


def test_a_key_like_nothing_known_lists_the_known_keys():
    (line,) = _lines(xyzzy=1)
    assert line.startswith("pilot.yml: xyzzy: unknown key; known: contract, name, description, arms")


def test_every_problem_is_one_line():
    lines = _lines(windows={"outcome_day": 30}, priors={"famlies": {}}, guardrails=["complaint"])
    assert len(lines) == 3 and all("\n" not in x for x in lines)


# ---------------------------------------------------------------- existing files


def test_simulated_pilot_yml_still_parses(tmp_path):
    from workbench.simulate.pilot import simulate_pilot

    root = simulate_pilot(tmp_path / "p", accounts=200, seed=1, preset="null", with_truth=False)
    cfg = load_config(root / "pilot.yml")
    assert cfg.guardrails == DEFAULT_GUARDRAILS and cfg.priors.overrides() == {}
    assert parse_config(yaml.safe_load(dump_config(cfg))) == cfg


def test_documented_pilot_yml_parses():
    # The example block of docs/contract.md, as written there.
    text = (Path(__file__).parents[2] / "docs" / "contract.md").read_text(encoding="utf-8")
    block = text.split("## pilot.yml", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    parse_config(yaml.safe_load(block))
