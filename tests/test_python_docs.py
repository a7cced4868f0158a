"""docs/python.md's example runs as written and prints what it promises."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "python.md"


def test_the_python_example_runs(tmp_path):
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                            timeout=600)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    import voiceguide
    meta = voiceguide.load("desk-break").meta
    assert lines[0] == f"{meta.title} - {meta.description}"
    assert len(lines) == 1 + len(voiceguide.plan("desk-break").sections) + 3
    seconds, lufs = re.match(r"(\d+) s at (-?[\d.]+) LUFS", lines[-3]).groups()
    assert 60 < int(seconds) < 300 and abs(float(lufs) + 16) < 0.5
    assert lines[-2] == "['desk.mp3', 'desk.vtt']"
    assert lines[-1] == "speed: 3 is out of range (0.5 to 2)"
