"""Landed migrations are never edited: migrations.sha256 holds each one's SHA-256."""

import subprocess
import sys
from pathlib import Path

import pytest

from config.migrations_manifest import BASE_DIR, ManifestError, add_new, check

INITIAL = "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    pass\n"


def test_every_migration_matches_the_committed_manifest():
    problems = check()
    assert not problems, "\n".join(problems)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with two apps' migrations, all recorded in its manifest."""
    for app in ("cohorts", "sponsors"):
        (tmp_path / app / "migrations").mkdir(parents=True)
        (tmp_path / app / "migrations" / "__init__.py").write_text("")
        (tmp_path / app / "migrations" / "0001_initial.py").write_text(f"# {app}\n{INITIAL}")
    assert add_new(tmp_path) == [
        "cohorts/migrations/0001_initial.py",
        "sponsors/migrations/0001_initial.py",
    ]
    assert check(tmp_path) == []
    return tmp_path


def test_an_edited_landed_migration_is_named_and_refused(project: Path):
    (project / "cohorts/migrations/0001_initial.py").write_text(f"# cohorts, edited\n{INITIAL}")

    problems = check(project)

    assert len(problems) == 1
    assert problems[0].startswith("cohorts/migrations/0001_initial.py has changed since it landed")
    assert "landed migrations are never edited" in problems[0]


def test_a_deleted_landed_migration_is_named_and_refused(project: Path):
    (project / "sponsors/migrations/0001_initial.py").unlink()

    problems = check(project)

    assert len(problems) == 1
    assert problems[0].startswith("sponsors/migrations/0001_initial.py is listed")
    assert "landed migrations are never edited, renamed or deleted" in problems[0]


def test_a_new_migration_fails_until_it_is_recorded(project: Path):
    (project / "cohorts/migrations/0002_cohort_code.py").write_text(INITIAL)

    problems = check(project)

    assert problems == [
        "cohorts/migrations/0002_cohort_code.py is a new migration not yet in migrations.sha256: "
        "once it is final, record it with `make migrations-manifest` and commit "
        "migrations.sha256 with it."
    ]
    landed = (project / "migrations.sha256").read_text()
    assert add_new(project) == ["cohorts/migrations/0002_cohort_code.py"]
    assert check(project) == []
    recorded = (project / "migrations.sha256").read_text()
    assert set(landed.splitlines()) < set(recorded.splitlines())
    assert recorded.splitlines() == sorted(recorded.splitlines(), key=lambda line: line[66:])


def test_recording_new_migrations_never_rewrites_a_changed_entry(project: Path):
    landed = (project / "migrations.sha256").read_text()
    (project / "cohorts/migrations/0001_initial.py").write_text(f"# cohorts, edited\n{INITIAL}")
    (project / "sponsors/migrations/0002_sponsor_code.py").write_text(INITIAL)

    with pytest.raises(ManifestError, match="cohorts/migrations/0001_initial.py has changed"):
        add_new(project)

    assert (project / "migrations.sha256").read_text() == landed


def test_a_malformed_manifest_is_refused(project: Path):
    (project / "migrations.sha256").write_text("not a digest  cohorts/migrations/0001_initial.py\n")

    with pytest.raises(ManifestError, match="line 1 is not"):
        check(project)


def test_the_command_line_reports_and_records(project: Path):
    (project / "cohorts/migrations/0002_cohort_code.py").write_text(INITIAL)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "config.migrations_manifest", "--root", str(project), *args],
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            check=False,
        )

    checked = run()
    assert checked.returncode == 1
    assert "cohorts/migrations/0002_cohort_code.py is a new migration" in checked.stderr
    added = run("--add")
    assert added.returncode == 0
    assert added.stdout == "added cohorts/migrations/0002_cohort_code.py\n"
    assert run().returncode == 0
