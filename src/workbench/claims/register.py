"""The claims register as typed data: claims, their readings, population and horizon.

A claim is a wording from a source; a *reading* is one way of turning that
wording into a quantity and a range. A claim holds one or more readings; every
reading is judged and the claim's verdict says which readings agree
(:mod:`workbench.claims.evaluate`). The format is documented in docs/claims.md.

The single-reading short form (``metric``, ``scale``, ``range``, ``note`` on the
claim itself) stays valid: it is read as one reading with the claim's id.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from workbench.contract.config import ConfigError
from workbench.contract.source import locate

Scale = Literal["ratio", "relative_lift", "difference", "level", "between_segment_sd"]

#: Descriptive subgroups a claim may be conditioned on. Each is defined by what
#: happened after assignment, so a comparison within it is never causal.
CONDITIONS = {
    "kept_promise": "accounts that kept at least one payment promise in the outcome window",
    "paid": "accounts that paid anything in the outcome window",
    "promised": "accounts that made at least one payment promise in the outcome window",
    "engaged": "accounts that engaged (inbound contact or reached) in the outcome window",
}


class Condition(BaseModel):
    """One more (metric, scale, range) that must hold jointly with the reading's own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str
    scale: Literal["ratio", "relative_lift", "difference"]
    range: tuple[float | None, float | None]
    note: str = ""


class Reading(BaseModel):
    """One operationalization of a claim's wording.

    ``transform: complement`` judges 1 - mean (churn for retention, avoidance
    for engagement); ``prior`` is a Beta(a, b) prior on the quantity of a level
    claim (default flat); ``also`` lists conditions judged jointly (all must hold).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    metric: str
    scale: Scale
    range: tuple[float | None, float | None]
    transform: Literal["none", "complement"] = "none"
    quantity: Literal["mean", "top2"] | None = None
    prior: tuple[float, float] = (1.0, 1.0)
    also: tuple[Condition, ...] = ()
    note: str = Field(min_length=1)

    @model_validator(mode="after")
    def _range(self) -> Reading:
        lo, hi = self.range
        if lo is None and hi is None:
            raise ValueError("range needs at least one end")
        if lo is not None and hi is not None and lo > hi:
            raise ValueError("range low must be <= high")
        if min(self.prior) <= 0:
            raise ValueError("prior: both Beta parameters must be > 0")
        return self


class Claim(BaseModel):
    """One registered claim (the keys of ``workbench/data/claims.yml``; see docs/claims.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    text: str
    source: str = ""
    direction: Literal["increase", "decrease"] = "increase"
    horizon_days: int | None = Field(None, gt=0)
    population: Literal["all"] = "all"
    condition: str | None = None
    readings: tuple[Reading, ...] = ()
    # the single-reading short form
    metric: str | None = None
    scale: Scale | None = None
    range: tuple[float | None, float | None] | None = None
    quantity: Literal["mean", "top2"] | None = None
    note: str = ""

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data):
        if isinstance(data, dict) and not data.get("readings") and any(k in data for k in ("metric", "scale", "range")):
            missing = [k for k in ("metric", "scale", "range") if k not in data]
            if missing:
                raise ValueError(f"{', '.join(missing)}: Field required")
            one = {k: data[k] for k in ("metric", "scale", "range", "quantity") if data.get(k) is not None}
            data = {
                **data,
                "readings": [{"id": data.get("id", "reading"), "note": data.get("note") or data.get("text", "?"), **one}],
            }
        return data

    @model_validator(mode="after")
    def _check(self) -> Claim:
        if not self.readings:
            raise ValueError("readings: at least one reading (or metric, scale and range)")
        ids = [r.id for r in self.readings]
        if len(set(ids)) != len(ids):
            raise ValueError("readings: reading ids must be distinct")
        if self.condition is not None and self.condition not in CONDITIONS:
            raise ValueError(f"condition: unknown subgroup {self.condition!r}; known: {', '.join(CONDITIONS)}")
        return self

    @property
    def reading_text(self) -> str:
        """The operationalization in words: every reading's note."""
        if len(self.readings) == 1:
            return self.readings[0].note
        return " | ".join(f"{r.id}: {r.note}" for r in self.readings)


def _read(path: str | Path | None) -> tuple[str, str]:
    if path is None:
        return "claims.yml", resources.files("workbench").joinpath("data/claims.yml").read_text(encoding="utf-8")
    name = Path(path).name
    try:
        return name, Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{name}: (file): cannot read ({exc.strerror or exc})"]) from None


def _parse(name: str, text: str) -> tuple[list[Claim], list[str]]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return [], [f"{name}: (file): not valid YAML"]
    items = data.get("claims") if isinstance(data, dict) else data
    if not isinstance(items, list):
        return [], [f"{name}: (top level): expected a list of claims (or a mapping with key 'claims')"]
    out, problems = [], []
    for i, item in enumerate(items):
        try:
            out.append(Claim.model_validate(item))
        except ValidationError as err:
            cid = item.get("id", f"#{i + 1}") if isinstance(item, dict) else f"#{i + 1}"
            for e in err.errors():
                loc = ".".join(str(p) for p in e["loc"]) or "(claim)"
                msg = e["msg"].removeprefix("Value error, ")
                if isinstance(item, dict) and "readings" not in item:  # the short form: name the user's own key
                    loc = loc.removeprefix("readings.0.").removeprefix("readings.0")
                    loc = loc or "(claim)"
                if loc == "(claim)" and ": " in msg:  # the short form names its own field
                    loc, msg = msg.split(": ", 1)
                problems.append(f"{name}: claim {cid}: {loc}: {msg}")
    return out, list(dict.fromkeys(problems))  # the short form's keys are checked twice: say it once


def load_register(path: str | Path | Sequence[str | Path] | None = None, only: bool | None = None) -> list[Claim]:
    """The register: the shipped claims plus a user's files, or only the user's files.

    Parameters
    ----------
    path : a register YAML, several, or None (the shipped register alone).
    only : True: the files replace the shipped register; False: they add to it.
        Default (None) keeps the historical call ``load_register(file)``: the file alone.

    Raises ``ConfigError`` listing every problem (one line per problem), including an
    id used twice across the files.
    """
    paths = [] if path is None else [path] if isinstance(path, str | Path) else list(path)
    if only is None:
        only = bool(paths)
    sources = ([] if only and paths else [None]) + paths
    out, problems = [], []
    for p in sources:
        claims, probs = _parse(*_read(p))
        out += claims
        problems += probs
    ids = [c.id for c in out]
    problems += [f"claims: claim {d}: id: duplicated" for d in sorted({x for x in ids if ids.count(x) > 1})]
    if problems:
        raise ConfigError(problems)
    return out


def claims_register(pilot, cfg) -> list:
    """The claims pilot.yml asks for: ``claims: file.yml`` (beside pilot.yml) is that register,
    ``claims: [id, ...]`` those claims of the shipped register (an unknown id is a RunError),
    nothing the shipped register whole."""
    if isinstance(cfg.claims, str):
        return load_register(locate(pilot)[1].parent / cfg.claims)
    register = load_register()
    if cfg.claims is None:
        return register
    known = {c.id for c in register}
    unknown = [c for c in cfg.claims if c not in known]
    if unknown:
        raise ConfigError(
            f"pilot.yml: claims: unknown claim id(s) {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known))}"
        )
    return [c for c in register if c.id in set(cfg.claims)]
