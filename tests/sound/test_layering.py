"""The sound and export layers stand on their own: no CLI, no speech engines."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "voiceguide"


@pytest.mark.parametrize("package", ["sound", "export"])
def test_no_imports_from_cli_or_voices(package):
    for path in (ROOT / package).glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [("." * node.level) + (node.module or "")]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                assert "cli" not in name.split(".") and "voices" not in name.split("."), f"{path.name}: {name}"
