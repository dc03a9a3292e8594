"""Every reason code the evaluator can give is listed in the README."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_reason_code_of_the_evaluator_is_listed_in_the_readme() -> None:
    source = (ROOT / "app" / "policy" / "evaluator.py").read_text()
    codes = set(re.findall(r'Reason\(\s*"([A-Z][A-Z_]+)"', source))
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Reason codes") :]
    section = section[: section.index("\n## ", 1)]
    documented = set(re.findall(r"^\| `([A-Z][A-Z_]+)` \|", section, re.MULTILINE))
    assert len(codes) >= 15
    assert codes == documented
