"""The suite's Numba level follows the state of PyTensor's Numba cache (tests/conftest.py)."""

from __future__ import annotations

from numba_cache import numba_cache_is_empty


def test_empty_missing_or_filled_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTENSOR_FLAGS", f"floatX=float64, base_compiledir={tmp_path / 'pt'},mode=FAST_RUN")
    assert numba_cache_is_empty()  # no folder at all: a fresh machine
    (tmp_path / "pt" / "numba").mkdir(parents=True)
    assert numba_cache_is_empty()  # the folder PyTensor makes on import, nothing compiled yet
    (tmp_path / "pt" / "numba" / "string.add-0f_fastmath1.py311.nbi").write_bytes(b"")
    assert not numba_cache_is_empty()


def test_default_folder_is_in_the_home_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("PYTENSOR_FLAGS", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert numba_cache_is_empty()
    (tmp_path / ".pytensor" / "numba").mkdir(parents=True)
    (tmp_path / ".pytensor" / "numba" / "index.nbi").write_bytes(b"")
    assert not numba_cache_is_empty()


def test_unreadable_folder_counts_as_filled(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTENSOR_FLAGS", f"base_compiledir={tmp_path}")
    (tmp_path / "numba").write_text("a file where the folder should be")
    assert numba_cache_is_empty()  # not a folder: nothing cached there
    monkeypatch.setattr("pathlib.Path.iterdir", lambda self: (_ for _ in ()).throw(PermissionError(13, "denied")))
    (tmp_path / "numba").unlink()
    (tmp_path / "numba").mkdir()
    assert not numba_cache_is_empty()  # unreadable: the level stays 0, as before the check
