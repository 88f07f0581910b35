"""Templates with autoescape, the page sanitizer, the offline guard (HTML and CSS) and the CSP."""

from __future__ import annotations

import pandas as pd

from workbench.report.pages import CSP, clean_fragment, external_references, render, sanitize_page
from workbench.report.privacy import group_undeclared, neutralize, safe_frame, write_csv

ATTACK = '<img src=x onerror="alert(1)"><style>body{background:url(https://example.invalid/a.png)}</style>'


def test_templates_escape_every_value() -> None:
    html = render(
        "executive_intro.html.j2",
        name=ATTACK,
        subject="s",
        treatment=ATTACK,
        control="c",
        randomization="account",
        observed_until="1 June 2026",
    )
    assert "<img" not in html and "<style" not in html and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html


def test_offline_guard_parses_html_and_css() -> None:
    page = (
        "<html><head><style>@import 'https://x.invalid/a.css'; .a{background:url(https://x.invalid/b.png)}"
        " .ok{background:url(data:image/png;base64,AA)} .m{mask:url(#m)}</style></head><body>"
        '<p style="background-image:url(//x.invalid/c)">x</p><img srcset="https://x.invalid/d 1x">'
        '<img src="data:image/png;base64,AA"><a href="01_pilot_design.html">ok</a><a href="javascript:alert(1)">j</a>'
        '<meta http-equiv="refresh" content="0;url=https://x.invalid"><svg><image href="https://x.invalid/e"/></svg>'
        '<img src="/etc/passwd"></body></html>'
    )
    assert external_references(page) == [
        'style url: @import "https://x.invalid/a.css"',
        "style url: https://x.invalid/b.png",
        "p style url: //x.invalid/c",
        "img srcset: https://x.invalid/d 1x",
        "a href: javascript:alert(1)",
        "meta refresh: 0;url=https://x.invalid",
        "image href: https://x.invalid/e",
        "img src: /etc/passwd",
    ]
    clean = sanitize_page(page + "<script>alert(1)</script><iframe src=x></iframe>")
    assert external_references(clean) == []
    assert "<script" not in clean and "<iframe" not in clean and "javascript:" not in clean
    assert clean.count(f'content="{CSP}"'.replace("'", "&#x27;")) + clean.count(f'content="{CSP}"') == 1
    assert '<a href="01_pilot_design.html">ok</a>' in clean and 'src="data:image/png;base64,AA"' in clean


def test_fragments_keep_formatting_only() -> None:
    out = clean_fragment(
        '<span style="color:#fff;position:fixed" onclick="x()">a</span><script>b</script><a href="https://x">l</a>'
    )
    assert out == '<span style="color:#fff;">a</span>bl'


def test_formulas_are_neutralized_and_csvs_stable(tmp_path) -> None:
    assert [neutralize(v) for v in ("=1+1", "+SUM(1,1)", "-2+3", "@SUM(1)", "\tx", "\rx", "ok", -1.5)] == [
        "'=1+1",
        "'+SUM(1,1)",
        "'-2+3",
        "'@SUM(1)",
        "'\tx",
        "'\rx",
        "ok",
        -1.5,
    ]
    df = pd.DataFrame({"segment": ['=HYPERLINK("https://x","y")', "a"], "mean": [1 / 3, -2.0]})
    assert list(safe_frame(df)["segment"]) == ['\'=HYPERLINK("https://x","y")', "a"]
    a, b = write_csv(df, tmp_path / "a.csv"), write_csv(df.assign(mean=df["mean"] + 1e-17), tmp_path / "b.csv")
    assert a.read_bytes() == b.read_bytes() == b'segment,mean\n"\'=HYPERLINK(""https://x"",""y"")",0.333333333333\na,-2\n'


def test_undeclared_segments_become_other() -> None:
    df = pd.DataFrame({"segment": ["retiree", "Jane Roe +1-555-0199", None]})
    assert list(group_undeclared(df, ["retiree"])["segment"].fillna("-")) == ["retiree", "other", "-"]
    assert group_undeclared(df, None) is df
