"""The arrows of the design stay pointing one way: lower layers never import higher ones."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "voiceguide"

# layer -> modules it must never import (relative to voiceguide)
FORBIDDEN = {
    "script": ["cli", "voices", "sound", "export", "play", "render", "timeline", "batch"],
    "voices": ["cli", "sound", "export", "play", "render", "batch"],
    "sound": ["cli", "voices", "export", "play", "render", "batch"],
    "export": ["cli", "voices", "play", "render", "batch"],
    "timeline.py": ["cli", "voices", "sound", "export", "play", "render", "batch"],
    "render.py": ["cli", "play", "batch"],
    "batch": ["cli", "play"],
    "limits.py": ["cli", "voices", "sound", "export", "play", "render", "batch"],
    "tempfiles.py": ["cli", "script", "timeline", "voices", "sound", "export", "play", "render", "batch"],
}


def imported_modules(path: Path) -> set[str]:
    """Absolute names (voiceguide.x.y) this file imports."""
    tree = ast.parse(path.read_text())
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(parts[: len(parts) - node.level])
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_does_not_import_upwards(layer):
    target = PACKAGE / layer
    files = [target] if target.suffix == ".py" else sorted(target.rglob("*.py"))
    assert files
    for file in files:
        for module in imported_modules(file):
            for banned in FORBIDDEN[layer]:
                assert not (module == f"voiceguide.{banned}" or module.startswith(f"voiceguide.{banned}.")), \
                    f"{file.relative_to(PACKAGE)} imports {module}"
