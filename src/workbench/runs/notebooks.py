"""Executing and rendering the notebook templates: papermill, nbclient and nbconvert.

Kept apart from :mod:`workbench.runs.pipeline` because every notebook kernel
imports the pipeline (``run.open_results``) and must not pay for this
module: papermill and nbconvert import nbformat, whose JSON-schema validator
loads ``rfc3987_syntax``, which builds a grammar at import (3.4 s of CPU per
kernel on this project's 2-core machines, more than the notebook's own cells).
Only ``workbench run`` imports this module.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import papermill as pm
from jinja2 import DictLoader
from nbconvert import HTMLExporter
from papermill.engines import NBClientEngine, papermill_engines

from workbench.errors import RunError
from workbench.report.pages import external_references, sanitize_page

KERNEL = "python3"  # jupyter_client starts "python" kernels with the running interpreter: the venv's


class _ProgressEngine(NBClientEngine):
    """papermill's nbclient engine, calling ``on_cell(index, total)`` as each cell starts."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, on_cell: Callable | None = None, **kwargs):
        if on_cell is not None:
            start = nb_man.cell_start

            def cell_start(cell, cell_index=None, **kw):
                on_cell(cell_index, len(nb_man.nb.cells))
                return start(cell, cell_index, **kw)

            nb_man.cell_start = cell_start
        return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)


papermill_engines.register("workbench", _ProgressEngine)


def declared_parameters(folder: Path, names: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Parameter name -> {notebook: type name}, from each template's ``parameters`` cell."""
    out: dict[str, dict[str, str]] = {}
    for name in names:
        for p, spec in pm.inspect_notebook(str(folder / f"{name}.ipynb")).items():
            out.setdefault(p, {})[name] = spec["inferred_type_name"]
    return out


def execute(template: Path, out: Path, parameters: dict, cwd: Path, on_cell: Callable) -> None:
    """Execute one template into ``out`` with papermill in a fresh kernel started in ``cwd``."""
    pm.execute_notebook(
        str(template),
        str(out),
        parameters=parameters,
        kernel_name=KERNEL,
        engine_name="workbench",
        progress_bar=False,
        cwd=str(cwd),
        # CRITICAL: no TCP warning per kernel, and no "KeyboardInterrupt caught in kernel" when
        # jupyter_client interrupts the idle kernel before shutting it down (cell errors come by message)
        extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        on_cell=on_cell,
    )


def html_exporter(no_input: bool):
    """nbconvert's lab template without any CDN script (require.js, MathJax, mermaid, widgets).

    Images are already base64 PNG in the executed notebook; ``embed_images``
    also inlines any image a Markdown cell links to.
    """

    offline = DictLoader(
        {
            "workbench_offline.html.j2": (
                "{%- extends 'index.html.j2' -%}"
                "{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}"
                "{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}"
                "{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}"
                "{% block jupyter_widgets %}{% endblock jupyter_widgets %}"
            )
        }
    )
    return HTMLExporter(
        template_name="lab",
        template_file="workbench_offline.html.j2",
        extra_loaders=[offline],
        embed_images=True,
        exclude_input=no_input,
        exclude_input_prompt=no_input,
        exclude_output_prompt=no_input,
    )


def render_html(nb_path: Path, html_path: Path, no_input: bool) -> None:
    """Render one executed notebook, sanitized and stamped with the CSP; refuse HTML that would
    fetch anything from outside (:func:`workbench.report.pages.external_references`)."""
    body, _ = html_exporter(no_input).from_filename(str(nb_path))
    page = sanitize_page(body)
    outside = external_references(page)
    if outside:
        raise RunError(f"{nb_path.name}: the rendered HTML would load from outside the page ({outside[0]})")
    html_path.write_text(page, encoding="utf-8")


def error_line(nb: str, exc: Exception) -> tuple[str, dict]:
    """One readable line and the status record for a notebook that failed."""
    if isinstance(exc, pm.PapermillExecutionError):
        ename, evalue = exc.ename, (exc.evalue or "").strip().splitlines()
        msg = f"{ename}: {evalue[0] if evalue else ''}".rstrip(": ")
        where = f"cell {exc.cell_index + 1} (In [{exc.exec_count}])"
        return f"notebook {nb} failed at {where}: {msg}", {
            "notebook": nb,
            "cell": exc.cell_index + 1,
            "execution_count": exc.exec_count,
            "error": msg,
        }
    msg = f"{exc.__class__.__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}".rstrip(": ")
    return f"notebook {nb} failed: {msg}", {"notebook": nb, "cell": None, "error": msg}
