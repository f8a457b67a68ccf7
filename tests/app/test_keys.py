"""Every session-state key of the app is named in ganlab/state/keys.py: no widget key or session-state
index is spelled as a literal anywhere else."""

from __future__ import annotations

import re
from pathlib import Path

LITERAL_KEY = re.compile(r"""key\s*=\s*f?["']|session_state(\.get|\.pop|\.setdefault)?[\[(]\s*f?["']""")


def test_no_session_key_is_spelled_outside_keys_py() -> None:
    root = Path(__file__).resolve().parents[2] / "ganlab"
    found = [f"{path.relative_to(root)}:{number}: {line.strip()}"
             for path in sorted(root.rglob("*.py")) if path.name != "keys.py"
             for number, line in enumerate(path.read_text().splitlines(), 1) if LITERAL_KEY.search(line)]
    assert found == []
