import importlib

import pytest

from voiceguide.sound.lazy import LazyModule


def test_ctrl_c_inside_an_extension_import_is_a_cancel(monkeypatch):
    """Ctrl-C during scipy's import shows up as ImportError("initialization failed") caused by
    the KeyboardInterrupt; the render must see the KeyboardInterrupt (exit 130, one line)."""
    def interrupted(name):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise ImportError("initialization failed") from exc

    monkeypatch.setattr(importlib, "import_module", interrupted)
    with pytest.raises(KeyboardInterrupt):
        LazyModule("scipy.signal").sosfilt
    with pytest.raises(KeyboardInterrupt):
        LazyModule("scipy.signal").load()


def test_other_import_errors_stay_import_errors():
    with pytest.raises(ImportError):
        LazyModule("voiceguide_no_such_module").anything
