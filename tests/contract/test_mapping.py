"""pilot.yml ``columns``, ``values`` and ``timestamp_format``: one set of rules, both readers, files untouched."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
import yaml
from pilot_factory import config_dict, make_pilot

from workbench.contract.casts import cast_table, typed_table
from workbench.contract.config import ConfigError, parse_config
from workbench.contract.hints import missing_column_rule, slash_format, timestamp_hint
from workbench.contract.mapping import Mapping, map_values_frame, number_text
from workbench.contract.validate import validate_pilot
from workbench.metrics.engine import open_pilot

CRM_COLUMNS = {"accounts": {"Account ID": "account_id", "Group": "arm", "Balance": "balance"}}


def _crm(t):
    """The tiny pilot as a CRM writes it: other names, other words, month-first dates, 1,000.00."""
    a = t["accounts"]
    a["arm"] = a["arm"].map({"pressure": "Control", "empathy": "Empathy"})
    a["balance"] = [f"{x:,.2f}" for x in a["balance"]]
    t["accounts"] = a.rename(columns={"account_id": "Account ID", "arm": "Group", "balance": "Balance"})
    c = t["contacts"]
    c["channel"] = ["Phone", "SMS", "phone", "Email"]
    c["direction"] = ["Outbound", "OUTBOUND", "Inbound", "outbound"]
    for df in t.values():
        for col in df.columns:
            if str(df[col].dtype).startswith("datetime"):
                df[col] = df[col].dt.strftime("%m/%d/%Y %H:%M").astype(object)


def _config(**over):
    mapping = {
        "columns": CRM_COLUMNS,
        "values": {"contacts.channel": {"Phone": "call"}},
        "timestamp_format": "%m/%d/%Y %H:%M",
    }
    return config_dict(arms={"control": "Control", "treatment": "Empathy"}, **(mapping | over))


def _hashes(root):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.iterdir())}


@pytest.fixture
def crm(tmp_path):
    return make_pilot(tmp_path / "crm", "csv", _config(), _crm)


def test_a_crm_export_validates_with_one_mapping_section_and_files_stay_as_they_were(crm):
    before = _hashes(crm)
    report = validate_pilot(crm)
    assert report.ok, [p.line() for p in report.errors]
    acc = report.pilot.tables["accounts"].execute().sort_values("account_id").reset_index(drop=True)
    ct = report.pilot.tables["contacts"].execute().sort_values("contact_id").reset_index(drop=True)
    assert list(acc["balance"]) == [1000.0, 2500.0, 800.0, 0.0]
    assert set(acc["arm"]) == {"Control", "Empathy"}
    assert list(ct["channel"]) == ["call", "sms", "call", "email"]
    assert list(ct["direction"]) == ["outbound", "outbound", "inbound", "outbound"]
    assert acc["assigned_at"].iloc[0] == pd.Timestamp("2026-01-05")  # UTC wall time, naive on the engine
    assert _hashes(crm) == before


def test_the_engine_reads_the_export_as_validation_does(crm):
    """Validation's safe casts and the analysis' casts apply the same mapping: the same typed values come out."""
    p = open_pilot(crm)
    mapping = Mapping.of(p.config)
    for name, cols in {
        "accounts": ["account_id", "arm", "balance", "assigned_at"],
        "contacts": ["contact_id", "channel", "direction", "reached", "at"],
    }.items():
        t, casts = cast_table(name, p.raw[name], mapping)
        checked = typed_table(t, casts).select(*cols).execute().sort_values(cols[0]).reset_index(drop=True)
        engine = p.tables[name].select(*cols).execute().sort_values(cols[0]).reset_index(drop=True)
        for col in cols:
            assert [str(x) for x in engine[col]] == [str(x) for x in checked[col]], (name, col)


def test_without_timestamp_format_the_error_asks_for_it_and_shows_the_values(tmp_path):
    cfg = _config()
    del cfg["timestamp_format"]
    root = make_pilot(tmp_path / "p", "csv", cfg, _crm)
    lines = [p.line() for p in validate_pilot(root).errors]
    line = next(x for x in lines if x.startswith("ERROR accounts.assigned_at"))
    assert "timestamp_format" in line and "'01/05/2026 00:00'" in line, line
    # 01/05 and 01/12: the day could come first or second; both formats are offered, none guessed.
    assert "'%m/%d/%Y %H:%M' (month first) or '%d/%m/%Y %H:%M' (day first)" in line


def test_an_unmapped_word_is_shown_with_where_to_map_it(tmp_path):
    cfg = _config(values={})
    lines = [p.line() for p in validate_pilot(make_pilot(tmp_path / "p", "csv", cfg, _crm)).errors]
    assert (
        "ERROR contacts.channel [one of call, sms, email, letter, chat, portal (any case); "
        "map others in pilot.yml values: contacts.channel]: 2 rows, e.g. 'Phone', 'phone'"
    ) in lines


def test_a_missing_required_column_lists_the_columns_found_and_the_closest(tmp_path):
    cfg = _config(columns={})
    lines = [p.line() for p in validate_pilot(make_pilot(tmp_path / "p", "csv", cfg, _crm)).errors]
    assert (
        "ERROR accounts.account_id [required column missing; found 'Account ID', 'Group', 'assigned_at', 'Balance', "
        "'segment', 'agent_id', 'days_past_due', 'prior_paid', 'closed_at'; did you mean 'Account ID'? "
        "map it in pilot.yml: columns: {accounts: {'Account ID': account_id}}]"
    ) in lines


def test_mapping_keys_are_checked_with_did_you_mean():
    for bad, said in [
        ({"columns": {"acounts": {"x": "account_id"}}}, "columns: unknown table 'acounts'; did you mean 'accounts'?"),
        ({"columns": {"accounts": {"x": "acount_id"}}}, "'acount_id' is not a column of accounts; did you mean 'account_id'?"),
        ({"values": {"contacts.chanel": {"a": "call"}}}, "did you mean 'contacts.channel'?"),
        ({"values": {"contacts.channel": {"a": "phone"}}}, "'phone' is not one of call, sms, email, letter, chat, portal"),
        ({"values": {"contacts.channel": {True: "call"}}}, "read as a boolean by YAML: quote it"),
        ({"timestamp_format": "%m/%Y"}, "does not read a whole date"),
        ({"timestamp_fromat": "%m/%d/%Y"}, "timestamp_fromat: unknown key; did you mean 'timestamp_format'?"),
    ]:
        with pytest.raises(ConfigError) as e:
            parse_config(config_dict(**bad))
        assert said in str(e.value), (bad, str(e.value))


def test_the_keys_round_trip_through_yaml():
    cfg = parse_config(yaml.safe_load(yaml.safe_dump(_config())))
    assert cfg.columns == CRM_COLUMNS
    assert cfg.values == {"contacts.channel": {"Phone": "call"}}
    assert cfg.timestamp_format == "%m/%d/%Y %H:%M"


def test_rules_on_their_own():
    m = Mapping(values={("contacts", "channel"): {"Phone": "call"}})
    df = pd.DataFrame({"channel": pd.Series(["PHONE", "Sms", "fax", None], dtype="string")})
    assert list(map_values_frame("contacts", df, m)["channel"].fillna("<na>")) == ["call", "sms", "fax", "<na>"]
    # Commas group thousands only in threes; anything else stays text and fails as a number.
    assert list(number_text(pd.Series(["1,660.78", "-12,000", "1.660,78", "1,66", "7"]))) == [
        "1660.78",
        "-12000",
        "1.660,78",
        "1,66",
        "7",
    ]
    assert slash_format(pd.Series(["03/01/2026 14:22", "03/15/2026 09:00"])) == ("%m/%d/%Y %H:%M", [])
    assert slash_format(pd.Series(["13.01.2026"])) == ("%d.%m.%Y", [])
    assert slash_format(pd.Series(["2026-03-01"])) == (None, [])
    assert "month-first dates: set timestamp_format: '%m/%d/%Y %H:%M'" in timestamp_hint(pd.Series(["03/15/2026 14:22"]), None)
    assert "did you mean 'Account ID'?" in missing_column_rule("accounts", "account_id", ["Account ID", "Group"])


def test_a_misspelt_export_column_in_columns_is_named_with_the_closest(tmp_path):
    cfg = _config(columns={"accounts": {"Acount ID": "account_id", "Group": "arm", "Balance": "balance"}})
    report = validate_pilot(make_pilot(tmp_path / "p", "csv", cfg, _crm))
    assert "WARNING pilot.yml.columns.accounts ['Acount ID' is not a column of accounts; did you mean 'Account ID'?]" in [
        p.line() for p in report.warnings
    ]
    assert any(p.line().startswith("ERROR accounts.account_id [required column missing") for p in report.errors)


def test_a_pilot_yml_without_a_mapping_is_written_without_the_keys():
    from workbench.contract.config import dump_config

    assert "columns" not in dump_config(parse_config(config_dict()))
    assert "Account ID" in dump_config(parse_config(_config()))
