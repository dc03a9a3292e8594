"""The README stays true to the code: every setting is in its configuration table."""

from __future__ import annotations

import re
from pathlib import Path

from app.settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


class TestReadme:
    def test_every_setting_is_in_the_configuration_table(self) -> None:
        section = README[README.index("## Configuration") :]
        section = section[: section.index("\n## ", 1)]
        documented = set(re.findall(r"^\| `(CREDITGATE_[A-Z_]+)` \|", section, re.MULTILINE))
        assert documented == {f"CREDITGATE_{name.upper()}" for name in Settings.model_fields}

    def test_shows_the_two_commands(self) -> None:
        assert "make run" in README
        assert "make test" in README
