"""Whether PyTensor's Numba cache is empty, read before anything imports Numba (tests/conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path


def numba_cache_is_empty() -> bool:
    """True when PyTensor's Numba cache (``<base_compiledir>/numba``) holds no compiled kernel.

    Read without importing PyTensor (1.7 s in every process, the xdist controller's too): the
    folder is ``base_compiledir`` from ``PYTENSOR_FLAGS`` when set there, else ``~/.pytensor``.
    """
    try:
        base = Path.home() / ".pytensor"
        for item in os.environ.get("PYTENSOR_FLAGS", "").split(","):
            key, _, value = item.partition("=")
            if key.strip() == "base_compiledir" and value.strip():
                base = Path(value.strip()).expanduser()
        folder = base / "numba"
        return not folder.is_dir() or next(folder.iterdir(), None) is None
    except (OSError, RuntimeError):  # unreadable, or no home directory: the level stays 0, as before this check
        return False
