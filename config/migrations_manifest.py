"""The SHA-256 of every migration that has landed, kept in `migrations.sha256`.

Every institution's schema has run the landed migrations as they were; an edited one would
leave existing schemas different from new ones without anything noticing. The test suite
checks the files against the manifest, and `make migrations-manifest` (`python -m
config.migrations_manifest --add`) records new files, never changing an entry that exists.
The manifest reads like `sha256sum` output, so `sha256sum -c migrations.sha256` checks it too.
"""

import argparse
import hashlib
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
MANIFEST_NAME = "migrations.sha256"
ADD_COMMAND = "make migrations-manifest"


class ManifestError(Exception):
    """The manifest cannot be read, or a landed migration differs from its entry."""


def migration_files(root: Path) -> dict[str, str]:
    """Each migration module of each top-level app (`<app>/migrations/*.py`, not `__init__`),
    by its path relative to `root`, with the SHA-256 of its bytes."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.glob("*/migrations/*.py"))
        if path.name != "__init__.py"
    }


def read_manifest(manifest: Path) -> dict[str, str]:
    entries: dict[str, str] = {}
    if not manifest.exists():
        return entries
    for number, line in enumerate(manifest.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        digest, separator, name = line.partition("  ")
        if not separator or len(digest) != 64 or not name or name in entries:
            raise ManifestError(
                f"{manifest.name} line {number} is not '<sha256>  <path>' or repeats a path: "
                f"{line!r}"
            )
        entries[name] = digest
    return entries


def landed_problems(manifest: Path, entries: dict[str, str], files: dict[str, str]) -> list[str]:
    """What differs between the manifest's entries and the files they name."""
    problems = []
    for name, digest in entries.items():
        if name not in files:
            problems.append(
                f"{name} is listed in {manifest.name} but no longer exists: landed migrations "
                "are never edited, renamed or deleted; restore it and write a new migration "
                "for the change."
            )
        elif files[name] != digest:
            problems.append(
                f"{name} has changed since it landed (its SHA-256 no longer matches "
                f"{manifest.name}): landed migrations are never edited; restore it and write a "
                "new migration for the change."
            )
    return problems


def check(root: Path = BASE_DIR, manifest: Path | None = None) -> list[str]:
    """Every problem, one sentence each: landed migrations changed or deleted, and migration
    files the manifest does not list yet."""
    manifest = manifest or root / MANIFEST_NAME
    files = migration_files(root)
    listed = read_manifest(manifest)
    problems = landed_problems(manifest, listed, files)
    problems += [
        f"{name} is a new migration not yet in {manifest.name}: once it is final, record it "
        f"with `{ADD_COMMAND}` and commit {manifest.name} with it."
        for name in files
        if name not in listed
    ]
    return problems


def add_new(root: Path = BASE_DIR, manifest: Path | None = None) -> list[str]:
    """Add an entry for each migration file the manifest does not list, keeping every existing
    entry as it is; refuse (ManifestError, nothing written) while a landed one differs.
    Returns the paths added."""
    manifest = manifest or root / MANIFEST_NAME
    files = migration_files(root)
    entries = read_manifest(manifest)
    problems = landed_problems(manifest, entries, files)
    if problems:
        raise ManifestError("\n".join(problems))
    added = [name for name in files if name not in entries]
    if added:
        entries.update({name: files[name] for name in added})
        # Sorted by path, so that migrations added to different apps on different branches
        # land on different lines of the manifest.
        manifest.write_text("".join(f"{entries[name]}  {name}\n" for name in sorted(entries)))
    return added


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--add", action="store_true", help="record new migration files")
    parser.add_argument("--root", type=Path, default=BASE_DIR, help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    try:
        if arguments.add:
            for name in add_new(arguments.root):
                print(f"added {name}")
            return 0
        problems = check(arguments.root)
    except ManifestError as error:
        print(error, file=sys.stderr)
        return 1
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
