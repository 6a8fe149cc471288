"""The lock file pins, with hashes, every dependency pyproject.toml names (a dependency added
without `make lock` fails here, not on the next fresh install)."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-").replace(".", "-")


def test_every_dependency_is_pinned_with_hashes():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        wanted |= {_name(r) for r in extra}
    lock = (ROOT / "requirements.lock").read_text()
    pinned = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", lock):
        found = re.match(r"([A-Za-z0-9._-]+)==(\S+)", block)
        if found:
            pinned[_name(found.group(1))] = block
    assert wanted - pinned.keys() == set()
    assert all("--hash=sha256:" in block for block in pinned.values())
