"""The arrows of the design stay pointing one way: lower layers never import higher ones."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "voiceguide"

FACES = ["cli", "batch", "studio", "serve", "cachedir"]     # the faces, and the one place they find the store folder
STEPS = ["script", "timeline", "voices", "sound", "export"]
LIBRARY = ["api", "session", "to_file", "live", "preview", "library"]

# layer -> modules it must never import (relative to voiceguide). Arrows point down:
# faces -> library -> steps -> support (settings, store, errors, limits, tempfiles).
FORBIDDEN = {
    "script": [*FACES, *LIBRARY, "timeline", "voices", "sound", "export", "store"],
    "voices": [*FACES, *LIBRARY, "sound", "export"],
    "sound": [*FACES, *LIBRARY, "voices", "export"],
    "export": [*FACES, *LIBRARY, "voices"],
    "timeline.py": [*FACES, *LIBRARY, "voices", "sound", "export"],
    "library.py": [*FACES, "api", "session", "to_file", "live", "voices", "sound", "export"],
    "session.py": [*FACES, "api", "to_file", "live"],
    "inputs.py": [*FACES, *LIBRARY, "voices"],
    "to_file.py": [*FACES, "api", "live"],
    "live": [*FACES, "api", "to_file"],
    "api.py": FACES,
    "lengths.py": [*FACES, "api", "session", "to_file", "live"],
    "batch": ["cli", "studio", "live"],
    "studio": ["cli", "batch", "live"],
    "serve": ["cli", "batch", "live"],
    "preview.py": [*FACES, "api", "to_file", "live"],
    "preview_voices.py": [*FACES, "api", "to_file", "live"],
    "feed.py": [*FACES, "api", "session", "to_file", "live", "voices"],
    "settings.py": [*FACES, *LIBRARY, *STEPS[1:], "script.parse", "script.front", "script.model", "store"],
    "limits.py": [*FACES, *LIBRARY, *STEPS[1:], "settings", "store"],
    "store.py": [*FACES, *LIBRARY, *STEPS, "settings", "limits"],
    "tempfiles.py": [*FACES, *LIBRARY, *STEPS, "settings", "store"],
    "datafolder.py": [*FACES, *LIBRARY, *STEPS, "settings", "store", "limits", "tempfiles"],
    "errors.py": [*FACES, *LIBRARY, *STEPS, "settings", "store", "limits", "tempfiles"],
}


def imported_modules(path: Path) -> set[str]:
    """Absolute names (voiceguide.x.y) this file imports."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):      # imports for annotations only are not dependencies
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            node.body = []
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


def test_only_the_faces_read_the_cache_folder_from_the_environment():
    """The library is handed its store folder; VOICEGUIDE_CACHE_DIR is read in cachedir.py alone,
    and only the faces import that."""
    for file in sorted(PACKAGE.rglob("*.py")):
        relative = file.relative_to(PACKAGE)
        if relative.name == "cachedir.py":
            continue
        if "VOICEGUIDE_CACHE_DIR" in file.read_text():
            assert relative.parts[0] == "cli", f"{relative} reads VOICEGUIDE_CACHE_DIR"
        if relative.parts[0] not in ("cli", "batch", "studio"):
            assert not any(m == "voiceguide.cachedir" for m in imported_modules(file)), f"{relative} finds the store"


def test_nothing_below_the_faces_imports_click():
    for file in sorted(PACKAGE.rglob("*.py")):
        relative = file.relative_to(PACKAGE)
        if relative.parts[0] != "cli":
            assert not any(m == "click" or m.startswith("click.") for m in imported_modules(file)), relative


WEB = ("starlette", "uvicorn", "jinja2")


def test_only_the_studio_imports_the_web_stack():
    """The studio extra is optional: nothing outside voiceguide/studio/ imports it, and the
    CLI's `studio` command imports it only when it runs (so `voiceguide --help` works without)."""
    for file in sorted(PACKAGE.rglob("*.py")):
        relative = file.relative_to(PACKAGE)
        if relative.parts[0] in ("studio", "serve"):
            continue
        tree = ast.parse(file.read_text())
        top_level = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
        lazy = relative in (Path("cli/studio.py"), Path("cli/serve.py"))
        for node in (top_level if lazy else ast.walk(tree)):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [("voiceguide." if node.level else "") + (node.module or "")]
            else:
                continue
            assert not any(n.split(".")[0] in WEB for n in names), f"{relative} imports {names}"
            if lazy:
                assert not any(n.startswith(("voiceguide.studio", "voiceguide.serve")) for n in names), \
                    f"{relative} imports {names} at load"


def test_no_module_is_over_about_400_lines():
    long = {str(f.relative_to(PACKAGE)): n for f in PACKAGE.rglob("*.py")
            if (n := len(f.read_text().splitlines())) > 420}
    assert not long, long


def test_the_top_level_functions_stay_functions():
    """`voiceguide.render` and `voiceguide.play` are the API's functions; importing every
    module of the package (as batch and the CLI do) must not replace them with a module."""
    import importlib
    import voiceguide
    for file in sorted(PACKAGE.rglob("*.py")):
        parts = file.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] != "__main__":
            importlib.import_module(".".join(p for p in parts if p != "__init__"))
    for name in ("load", "plan", "validate", "render", "play"):
        assert callable(getattr(voiceguide, name)), name
