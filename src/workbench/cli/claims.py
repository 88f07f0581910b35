"""``workbench claims``: registered claims against a pilot or against arm-level counts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def _fail(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line, err=True)
    raise typer.Exit(1)


def claims(
    pilot: Annotated[Path | None, typer.Argument(help="pilot folder, its pilot.yml, or a DuckDB file")] = None,
    summary: Annotated[Path | None, typer.Option(help="arm-level counts CSV (the analyze-summary format) instead of a pilot")] = None,
    control: Annotated[str | None, typer.Option(help="control arm (with --summary)")] = None,
    treatment: Annotated[str | None, typer.Option(help="treatment arm (with --summary; default: the pilot's first treatment)")] = None,
    register: Annotated[Path | None, typer.Option("--claims", help="a claims register YAML (default: the shipped one)")] = None,
    out: Annotated[Path | None, typer.Option(help="claims JSON")] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    level: Annotated[float, typer.Option(min=0.5, max=0.999, help="interval level")] = 0.95,
) -> None:
    """Judge the claims made for empathy-led collections: supported, contradicted or inconclusive."""
    from workbench.claims import evaluate, load_register
    from workbench.contract.config import ConfigError
    from workbench.effects.analyze import Design, Settings, analyze_pilot, analyze_stats, to_json

    if (pilot is None) == (summary is None):
        _fail(["give either a PILOT or --summary FILE.csv (not both)"])
    try:
        register_claims = load_register(register)
    except ConfigError as err:
        _fail(err.problems)
    settings = Settings(seed=seed, level=level)
    draws: dict = {}
    if summary is not None:
        from workbench.effects.summary import SummaryError, read_summary

        if not control or not treatment:
            _fail(["--summary needs --control and --treatment"])
        try:
            stats, hib, deff = read_summary(summary, control, treatment)
        except SummaryError as err:
            _fail(err.problems)
        analyze_stats(stats, Design(control, [treatment], higher_is_better=hib, design_effect=deff), settings, draws_out=draws)
        windows = None
    else:
        from workbench.contract.validate import validate_pilot

        report = validate_pilot(pilot)
        if not report.ok:
            _fail([f"pilot {pilot}: invalid; run `workbench validate {pilot}`"] + [p.line() for p in report.errors])
        cfg = report.pilot.config
        control = cfg.control
        treatment = treatment or cfg.treatments[0]
        if treatment not in cfg.treatments:
            _fail([f"--treatment: {treatment!r} is not a treatment arm of the pilot ({', '.join(cfg.treatments)})"])
        analyze_pilot(pilot, settings, draws_out=draws)
        stats = draws.pop("_stats")
        draws.pop("_segment_stats", None)
        windows = cfg.windows.model_dump()
    results = evaluate(register_claims, draws, stats, control, treatment, level, windows, seed)
    for r in results:
        if r["probability"] is None:
            typer.echo(f"{r['verdict']:13} {r['id']:34} {r.get('reason', '')}")
            continue
        lo, hi = r["interval"]
        extra = ""
        if not r.get("arithmetic", {}).get("feasible", True):
            extra = "  [" + r["arithmetic"]["note"] + "]"
        elif r["verdict"] == "inconclusive" and r.get("to_settle", {}).get("accounts_per_arm"):
            extra = f"  [to settle: {r['to_settle']['note']}]"
        typer.echo(f"{r['verdict']:13} {r['id']:34} P={r['probability']:.3f}  {r['scale']} {r['mean']:.3g} [{lo:.3g}, {hi:.3g}]{extra}")
    if out is not None:
        doc = {"level": level, "control": control, "treatment": treatment, "claims": results}
        try:
            out.write_text(to_json(doc), encoding="utf-8")
        except OSError as exc:
            _fail([f"--out {out}: cannot write ({exc.strerror or exc})"])
