"""Executing and rendering the notebook templates: papermill, nbclient and nbconvert.

Kept apart from :mod:`workbench.runs.pipeline` because every notebook kernel
imports the pipeline (``run.open_results``) and must not pay for this
module: papermill and nbconvert import nbformat, whose JSON-schema validator
loads ``rfc3987_syntax``, which builds a grammar at import (3.4 s of CPU per
kernel on this project's 2-core machines, more than the notebook's own cells).
Only ``workbench run`` imports this module.
"""

from __future__ import annotations

import ast
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat
import papermill as pm
from jinja2 import DictLoader
from jupyter_client.blocking import BlockingKernelClient
from nbclient import NotebookClient
from nbconvert import HTMLExporter
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines

from workbench.errors import RunError
from workbench.report.pages import external_references, sanitize_page

KERNEL = "python3"  # jupyter_client starts "python" kernels with the running interpreter: the venv's
# CRITICAL: no TCP warning per kernel, and no "KeyboardInterrupt caught in kernel" when
# jupyter_client interrupts the idle kernel before shutting it down (cell errors come by message)
KERNEL_ARGS = ["--IPKernelApp.log_level=CRITICAL"]
STARTUP_TIMEOUT = 60  # seconds for a kernel to answer its first request (papermill's own default)
#: Sent (silently) to a shared kernel before each notebook: see :mod:`workbench.runs.fresh`.
FRESH = '__import__("workbench.runs.fresh", fromlist=["fresh"]).fresh(get_ipython())'


class _ProgressEngine(NBClientEngine):
    """papermill's nbclient engine, calling ``on_cell(index, total)`` as each cell starts.

    Given ``km`` (a started kernel manager, :func:`shared_kernel`), the notebook
    runs in that kernel after :data:`FRESH` has cleared it, and the kernel is
    left running for the next notebook; without it, papermill starts and stops
    a kernel of its own.
    """

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, on_cell: Callable | None = None, km: Any = None, **kwargs):
        if on_cell is not None:
            start = nb_man.cell_start

            def cell_start(cell, cell_index=None, **kw):
                on_cell(cell_index, len(nb_man.nb.cells))
                return start(cell, cell_index, **kw)

            nb_man.cell_start = cell_start
        if km is None:
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
        # papermill's own engine with the kernel manager passed through (nbclient then leaves the kernel running)
        kwargs.pop("input_path", None)
        client = PapermillNotebookClient(
            nb_man,
            km=km,
            kernel_name=kernel_name,
            startup_timeout=kwargs.pop("start_timeout", 60),
            timeout=kwargs.pop("execution_timeout", None),
            log=pm.log.logger,
            log_output=kwargs.pop("log_output", False),
            stdout_file=kwargs.pop("stdout_file", None),
            stderr_file=kwargs.pop("stderr_file", None),
            **kwargs,
        )

        async def clear(notebook):  # nbclient's hook once the client is connected, before the first cell
            reply = await client.async_wait_for_reply(client.kc.execute(FRESH, silent=True, store_history=False))
            if reply is None or reply["content"]["status"] != "ok":
                raise RunError(f"the shared kernel could not be cleared before {nb_man.nb.metadata.papermill.input_path}")

        client.on_notebook_start = clear
        try:
            return client.execute()
        finally:
            if client.kc is not None:  # this notebook's connection; the kernel stays for the next one
                client.kc.stop_channels()
                client.kc = None


papermill_engines.register("workbench", _ProgressEngine)


def declared_parameters(folder: Path, names: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Parameter name -> {notebook: type name}, from each template's ``parameters`` cell."""
    out: dict[str, dict[str, str]] = {}
    for name in names:
        for p, spec in pm.inspect_notebook(str(folder / f"{name}.ipynb")).items():
            out.setdefault(p, {})[name] = spec["inferred_type_name"]
    return out


@contextmanager
def shared_kernel(cwd: Path) -> Iterator[Any]:
    """One kernel, started in ``cwd``, for every notebook of a run; shut down on exit.

    A kernel's start and the notebook's imports (pandas, matplotlib, seaborn,
    SciPy, the package) cost about as much as a small pilot's notebook itself;
    paid once per run instead of once per notebook. Each notebook still starts
    from a cleared namespace (:data:`FRESH`).
    """
    starter = NotebookClient(
        nbformat.v4.new_notebook(),
        kernel_name=KERNEL,
        extra_arguments=list(KERNEL_ARGS),
        resources={"metadata": {"path": str(cwd)}},
    )
    starter.km = starter.create_kernel_manager()
    starter.start_new_kernel(cwd=str(cwd))
    try:
        yield starter.km
    finally:
        starter._cleanup_kernel()  # nbclient's own shutdown of the kernel it started


def template_imports(folder: Path, names: tuple[str, ...]) -> str:
    """The import statements of the templates' code cells, each once, in the order met: what a
    kernel runs to be ready for them (:func:`warming`).

    Only statements at the top level of a cell; a cell that is not Python (an IPython magic) has none.
    """
    found: dict[str, None] = {}
    for name in names:
        for cell in json.loads((folder / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            for node in tree.body:
                if isinstance(node, ast.Import | ast.ImportFrom) and not getattr(node, "level", 0):
                    found.setdefault(ast.unparse(node))
    return "\n".join(found)


@contextmanager
def warming(km: Any, code: str) -> Iterator[Callable[[], None]]:
    """Run ``code`` in the kernel of ``km`` (just started) from a background thread; yield ``wait()``.

    The run starts its kernel before the analysis and sends it the notebooks'
    imports (:func:`template_imports`): the kernel's start and its imports,
    seconds of CPU, then take place on the other core while the run fits, not
    after it. ``wait()`` returns once the kernel has run ``code`` (or has died,
    or did not answer within :data:`STARTUP_TIMEOUT`); a warm-up that failed is no
    error of its own (the first notebook meets the same kernel and fails in one
    line if it is dead). Nothing ``code`` defines reaches a notebook: each
    starts from :data:`FRESH`. On exit the thread stops waiting and is joined.
    """
    stop = threading.Event()

    def warm() -> None:
        # a client of its own (its own session and sockets): the notebooks' clients connect after it is gone
        kc = BlockingKernelClient(parent=km, connection_file=km.connection_file)
        kc.load_connection_info(km.get_connection_info())
        kc.start_channels()
        try:
            # jupyter_client's wait_for_ready, but it stops when told to (a failed analysis shuts the kernel down)
            deadline, sent = time.monotonic() + STARTUP_TIMEOUT, None
            kc.kernel_info()
            while not stop.is_set():
                try:
                    msg = kc.get_shell_msg(timeout=0.5)
                except queue.Empty:
                    if not kc.is_alive() or (sent is None and time.monotonic() > deadline):
                        return
                    if sent is None:
                        kc.kernel_info()
                    continue
                if sent is None and msg["msg_type"] == "kernel_info_reply":
                    sent = kc.execute(code, silent=True, store_history=False)
                elif sent is not None and msg["parent_header"].get("msg_id") == sent:
                    return
        except Exception:  # a head start only: whatever stopped it, the first notebook meets it and says so in one line
            return
        finally:
            kc.stop_channels()

    thread = threading.Thread(target=warm, name="kernel-warm-up", daemon=True)
    thread.start()
    try:
        yield thread.join
    finally:
        stop.set()
        thread.join()


def execute(template: Path, out: Path, parameters: dict, cwd: Path, on_cell: Callable, km: Any = None) -> None:
    """Execute one template into ``out`` with papermill, in ``km`` (:func:`shared_kernel`) or a kernel of its own started in ``cwd``."""
    pm.execute_notebook(
        str(template),
        str(out),
        parameters=parameters,
        kernel_name=KERNEL,
        engine_name="workbench",
        progress_bar=False,
        cwd=str(cwd),
        extra_arguments=list(KERNEL_ARGS),
        on_cell=on_cell,
        km=km,
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
