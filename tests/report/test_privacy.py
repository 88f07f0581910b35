"""Pseudonyms, small-cell suppression and the identifier scanner."""

from __future__ import annotations

import pandas as pd

from workbench.report.privacy import pseudonym, pseudonymize, scan, suppress_small


def test_pseudonyms_are_stable_keyed_and_distinct():
    assert pseudonym("G001", "k") == pseudonym("G001", "k")
    assert pseudonym("G001", "k") != pseudonym("G001", "other")
    names = {pseudonym(f"G{i:03}", "k") for i in range(200)}
    assert len(names) == 200
    df = pseudonymize(pd.DataFrame({"agent_id": ["G001", None], "n": [3, 4]}), "k")
    assert df["agent_id"].iloc[0].startswith("agent-") and pd.isna(df["agent_id"].iloc[1])


def test_small_cells_are_suppressed_and_say_so():
    df = pd.DataFrame({"segment": ["a", "b"], "accounts": [50, 4], "mean": [0.2, 0.75]})
    out = suppress_small(df, "accounts", 10, keep=["segment"])
    assert out.loc[1, "suppressed"] and out.loc[1, "mean"] is None and out.loc[1, "accounts"] == "< 10"
    assert out.loc[0, "mean"] == 0.2 and not out.loc[0, "suppressed"]


def test_scan_finds_whole_tokens_only(tmp_path):
    f = tmp_path / "r.html"
    f.write_text("<p>A0000012 paid; A00000123 did not; Jane Roe</p>")
    hits = scan([f], ["A0000012", "Jane Roe", "absent"])
    assert sorted(h[1] for h in hits) == ["A0000012", "Jane Roe"]


def test_scan_finds_what_a_plain_alternation_finds(tmp_path):
    # The scanner's trie (one branch per character) against the plain alternation it replaced,
    # on identifiers that share prefixes, contain each other, carry regex metacharacters or are long.
    import random
    import re

    rng = random.Random(7)
    alphabet = "A0B1-_.+*()[]? "
    ids = {"A1", "A12", "A1-2", "P.1", "(x)", "a+b", "Jane Roe", "Jane Roe Jr", "Z" * 250, "Z" * 251}
    ids |= {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8))) for _ in range(400)}
    ids = {i for i in ids if i.strip()}
    plain = re.compile(r"(?<![A-Za-z0-9])(" + "|".join(map(re.escape, sorted(ids, key=len, reverse=True))) + r")(?![A-Za-z0-9])")
    for k in range(30):
        text = "".join(rng.choice([*sorted(ids), "x", " ", "9", "<p>", "Z" * 250]) for _ in range(60))
        f = tmp_path / f"r{k}.html"
        f.write_text(text)
        assert {h[1] for h in scan([f], ids)} == set(plain.findall(text)), text
    f.write_text(f"<p>{'Z' * 251}</p> {'Z' * 252}")  # words past the trie's depth: plain alternatives
    assert [h[1] for h in scan([f], ["Z" * 251, "A1"])] == ["Z" * 251]
    assert scan([f], ["Z" * 250]) == []  # a prefix of a longer token is not a whole token


def test_metrics_by_agent_shows_pseudonyms_and_suppresses_small_cells(tmp_path):
    import json

    from pilot_factory import make_pilot
    from typer.testing import CliRunner

    from workbench.cli.main import app

    root = make_pilot(tmp_path / "p", "parquet")
    r = CliRunner().invoke(app, ["metrics", str(root), "--by", "agent", "--out", str(tmp_path / "m.json")])
    assert r.exit_code == 0, r.output
    saved = (tmp_path / "m.json").read_text()
    for text in (r.output, saved):
        assert scan_text(text, ["G1", "G2"]) == [] and "agent-" in text
    rows = json.loads(saved)["stats"]
    assert all(row["suppressed"] and row["accounts"] == "< 10" and row["mean"] is None for row in rows)


def scan_text(text: str, ids: list[str]) -> list[str]:
    import re

    return [i for i in ids if re.search(rf"(?<![A-Za-z0-9]){re.escape(i)}(?![A-Za-z0-9])", text)]
