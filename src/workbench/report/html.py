"""HTML from Jinja2 templates with autoescape: every value from the data is text, never markup.

A minimal renderer for the scorecard, banner and badges (templates/*.html.j2);
the executive page's other fragments move to templates in the trust work
(issue 20), which can absorb this module.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html", "j2"], default=True),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


def render(template: str, **context) -> str:
    """Render ``templates/<template>`` with autoescape."""
    return _env.get_template(template).render(**context)
