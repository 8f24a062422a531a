"""The lock files pin what pyproject.toml asks for, and every dependency has an upper bound."""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

BASE_DIR = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((BASE_DIR / "pyproject.toml").read_text())["project"]
RUNTIME = [Requirement(line) for line in PYPROJECT["dependencies"]]
DEV = [Requirement(line) for line in PYPROJECT["optional-dependencies"]["dev"]]
PIN = re.compile(
    r"^([A-Za-z0-9_.-]+)==(\S+)( ;[^\\]*)? \\\n((?:    --hash=sha256:[0-9a-f]{64}.*\n)+)", re.M
)


def pins(lock_name: str) -> dict[str, list[Version]]:
    """Each package the lock file pins, with its version(s) (one per environment marker)."""
    text = (BASE_DIR / lock_name).read_text()
    found: dict[str, list[Version]] = {}
    for name, version, _marker, _hashes in PIN.findall(text):
        found.setdefault(canonicalize_name(name), []).append(Version(version))
    requirement_lines = [line for line in text.splitlines() if line and line[0].isalnum()]
    assert len(requirement_lines) == sum(map(len, found.values())), (
        f"{lock_name} has a requirement without a pinned version and hashes"
    )
    return found


@pytest.mark.parametrize("requirement", RUNTIME + DEV, ids=str)
def test_every_dependency_is_bounded_below_its_next_major(requirement: Requirement):
    assert any(spec.operator in ("<", "<=", "==", "~=") for spec in requirement.specifier), (
        f"{requirement} in pyproject.toml needs an upper bound (<next major)"
    )


@pytest.mark.parametrize(
    ("lock_name", "requirements"),
    [("requirements.lock", RUNTIME), ("requirements-dev.lock", RUNTIME + DEV)],
)
def test_the_lock_pins_a_version_each_dependency_allows(lock_name, requirements):
    locked = pins(lock_name)
    for requirement in requirements:
        versions = locked.get(canonicalize_name(requirement.name))
        assert versions, f"{requirement.name} is not in {lock_name}: run `make lock`"
        for version in versions:
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{lock_name} pins {requirement.name}=={version}, outside {requirement.specifier} "
                "in pyproject.toml: run `make lock`"
            )


def test_the_dev_lock_pins_the_runtime_at_the_same_versions():
    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime
