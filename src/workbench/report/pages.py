"""HTML that cannot run a script or fetch anything: templates, sanitizer, offline guard, CSP.

Every text that comes from the data or from pilot.yml (a pilot name, an arm
label, a segment value) reaches HTML through a Jinja2 template with
autoescape (:func:`render`), never through an f-string or Markdown, which
passes raw HTML through. A finished page is then

1. sanitized (:func:`sanitize_page`): no ``<script>``, ``<iframe>``,
   ``<object>``, ``<base>``, ``<link>``, meta refresh, ``on*`` handler or
   ``javascript:`` link survives;
2. stamped with a strict Content-Security-Policy (:data:`CSP`) as the
   first element of its head: no script from anywhere, no network fetch,
   images and fonts from ``data:`` URIs only;
3. checked offline (:func:`external_references`): the HTML is parsed, and
   so is every style sheet and style attribute (tinycss2), and any
   reference outside the page (``src``, ``href``, ``srcset``, ``url(...)``,
   ``@import``, meta refresh) is an error.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import bleach
import tinycss2
from bleach.css_sanitizer import CSSSanitizer
from bs4 import BeautifulSoup, Comment
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"

#: The page's policy: nothing runs, nothing is fetched; inline styles and data: images only.
CSP = (
    "default-src 'none'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-src 'none'; connect-src 'none'; img-src data:; font-src data:; style-src 'unsafe-inline'"
)

DANGEROUS_TAGS = ("script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "link", "form", "noscript")
URL_ATTRS = ("src", "href", "srcset", "action", "formaction", "poster", "background", "data", "cite", "ping", "xlink:href")
SCHEME = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.\-]*):")

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html", "j2"], default=True),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


def render(template: str, **context) -> str:
    """Render ``templates/<template>`` with autoescape: every value is text, never markup."""
    return _env.get_template(template).render(**context)


FRAGMENT_TAGS = {
    "p",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "b",
    "i",
    "span",
    "div",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "br",
}
FRAGMENT_CSS = ("display", "margin", "margin-right", "padding", "border-radius", "background", "color", "font-weight")


def clean_fragment(markup: str) -> str:
    """A fragment of HTML (a table, a badge) reduced to harmless formatting by bleach's allow-list:
    no script, no handler, no link, style attributes with layout and colour properties only."""
    return bleach.clean(
        markup,
        tags=FRAGMENT_TAGS,
        attributes={"*": ["class", "style"]},
        css_sanitizer=CSSSanitizer(allowed_css_properties=FRAGMENT_CSS),
        strip=True,
    )


def _local(value: str, allow_data: bool) -> bool:
    """Whether a URL stays inside the page or the run folder (a fragment, a relative path, a data: URI)."""
    v = value.strip()
    if v.startswith(("//", "\\\\", "/\\", "\\/")):
        return False
    m = SCHEME.match(v)
    if m is None:
        return not v.startswith("/")  # an absolute path reads the machine's file system
    return allow_data and m.group(1).lower() == "data"


@functools.lru_cache(maxsize=256)
def _css_urls(css: str, declarations: bool) -> tuple[str, ...]:
    """Every ``url(...)`` / ``image-set`` string and ``@import`` in a style sheet or style attribute.

    Cached: every page of a run carries the same large nbconvert style sheets,
    checked twice each (sanitizing, then the final check); parsing them was a
    third of rendering a page.
    """
    parse = tinycss2.parse_blocks_contents if declarations else tinycss2.parse_stylesheet
    found: list[str] = []

    def walk(nodes) -> None:
        for n in nodes or ():
            if n.type == "at-rule" and n.lower_at_keyword == "import":
                found.append("@import " + tinycss2.serialize(n.prelude).strip())
            if n.type == "url":
                found.append(n.value)
            elif n.type == "function" and n.lower_name in ("url", "src", "image", "image-set", "-webkit-image-set"):
                found.extend(a.value for a in n.arguments if a.type in ("string", "url"))
                walk(n.arguments)
            for child in ("prelude", "content", "value", "arguments"):
                sub = getattr(n, child, None)
                if isinstance(sub, list) and not (n.type == "function" and child == "arguments"):
                    walk(sub)

    walk(parse(css, skip_comments=True, skip_whitespace=True))
    return tuple(found)


def _css_outside(css: str, declarations: bool = False) -> list[str]:
    return [u for u in _css_urls(css, declarations) if u.startswith("@import") or not _local(u, allow_data=True)]


def external_references(page: str) -> list[str]:
    """Every reference in ``page`` that would leave it, as ``what: value`` (empty when offline).

    ``src`` may hold a ``data:`` image; ``href`` a fragment or a relative
    path in the run folder; ``srcset``, ``@import``, meta refresh and any
    ``url(...)`` that is not a ``data:`` URI or a fragment are refused.
    """
    soup = BeautifulSoup(page, "html.parser")
    out: list[str] = []
    for tag in soup.find_all(True):
        for attr, value in tag.attrs.items():
            value = " ".join(value) if isinstance(value, list) else str(value)
            if attr == "srcset":
                out.append(f"{tag.name} srcset: {value[:80]}")
            elif attr in URL_ATTRS and not _local(value, allow_data=attr != "href"):
                out.append(f"{tag.name} {attr}: {value[:80]}")
            elif attr == "style":
                out += [f"{tag.name} style url: {u[:80]}" for u in _css_outside(value, declarations=True)]
        if tag.name == "meta" and str(tag.get("http-equiv", "")).lower() == "refresh":
            out.append(f"meta refresh: {str(tag.get('content', ''))[:80]}")
        if tag.name == "style":
            out += [f"style url: {u[:80]}" for u in _css_outside(tag.get_text())]
    return out


def sanitize_page(page: str) -> str:
    """``page`` without anything that runs or fetches, with :data:`CSP` first in its head.

    Removes the tags of :data:`DANGEROUS_TAGS`, meta refresh, ``on*``
    handlers, URL attributes pointing outside the page (``javascript:``
    included) and style attributes or sheets with an outside reference.
    """
    soup = BeautifulSoup(page, "html.parser")
    for tag in soup.find_all(list(DANGEROUS_TAGS)):
        tag.decompose()
    for tag in soup.find_all("meta"):
        if str(tag.get("http-equiv", "")).lower() in ("refresh", "content-security-policy", "set-cookie"):
            tag.decompose()
    for tag in soup.find_all("style"):
        if _css_outside(tag.get_text()):
            tag.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()  # conditional comments can carry markup older engines run
    for tag in soup.find_all(True):
        for attr in list(tag.attrs):
            value = tag.attrs[attr]
            value = " ".join(value) if isinstance(value, list) else str(value)
            if (
                attr.lower().startswith("on")
                or attr == "srcset"
                or (attr in URL_ATTRS and not _local(value, allow_data=attr != "href"))
                or (attr == "style" and _css_outside(value, declarations=True))
            ):
                del tag.attrs[attr]
    head = soup.head
    if head is None:
        head = soup.new_tag("head")
        (soup.html or soup).insert(0, head)
    head.insert(0, soup.new_tag("meta", attrs={"http-equiv": "Content-Security-Policy", "content": CSP}))
    return str(soup)
