#!/usr/bin/env python3
"""Fail while the German catalog is incomplete or its compiled file is stale.

Runs `manage.py makemessages` on a temporary copy of the project (the working tree is
left alone), so strings marked since the last update show up as untranslated. Fails,
naming each message, when any is untranslated or fuzzy, and when the committed .mo does
not hold exactly the committed .po's translations (compilemessages was not run).
`make test` runs it before pytest; it needs GNU gettext (Debian: gettext).
"""

import gettext
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ["de"]
# The flags every update of the catalogs uses (the .po file's header says so too).
MAKEMESSAGES = ["makemessages", "-e", "html,txt,py", "--no-location", "--no-obsolete"]
SKIP = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", "staticfiles", "test-results", "test-artifacts", "*.pyc"
)


def catalog_path(root: Path, language: str, ext: str) -> Path:
    return root / "locale" / language / "LC_MESSAGES" / f"django.{ext}"


def refreshed_catalog(language: str):
    """The .po file as makemessages makes it from the code now (merged with ours)."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "project"
        shutil.copytree(ROOT, copy, ignore=SKIP)
        # Settings that import anywhere (makemessages touches no database).
        env = {**os.environ, "DEBUG": "true", "ENV_FILE": ""}
        env.pop("DATABASE_URL", None)
        run = subprocess.run(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", *MAKEMESSAGES, "-l", language],
            cwd=copy, env=env, capture_output=True, text=True,
        )  # fmt: skip
        if run.returncode:
            raise SystemExit(f"makemessages failed:\n{run.stdout}{run.stderr}")
        with catalog_path(copy, language, "po").open("rb") as po:
            return read_po(po, locale=language)


def compiled(catalog) -> dict:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return translations(buffer)


def translations(mo) -> dict:
    """msgid -> msgstr of a compiled catalog, without the header (it holds dates)."""
    entries = dict(gettext.GNUTranslations(mo)._catalog)
    entries.pop("", None)
    return entries


def problems(language: str) -> list[str]:
    found = []
    fresh = refreshed_catalog(language)
    for message in fresh:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        label = message.id[0] if isinstance(message.id, tuple) else message.id
        if not all(strings):
            found.append(f"{language}: untranslated: {label!r}")
        elif message.fuzzy:
            found.append(f"{language}: fuzzy: {label!r}")
    if not found:
        with catalog_path(ROOT, language, "po").open("rb") as po:
            committed = read_po(po, locale=language)
        mo_path = catalog_path(ROOT, language, "mo")
        if compiled(committed) != compiled(fresh):
            found.append(f"{language}: django.po is out of date: run makemessages")
        elif not mo_path.exists():
            found.append(f"{language}: django.mo is missing: run compilemessages")
        else:
            with mo_path.open("rb") as mo:
                if translations(mo) != compiled(committed):
                    found.append(f"{language}: django.mo is stale: run compilemessages")
    return found


def main() -> int:
    if shutil.which("msgfmt") is None:
        print("GNU gettext is missing (Debian: apt-get install gettext).", file=sys.stderr)
        return 2
    found = [problem for language in LANGUAGES for problem in problems(language)]
    for problem in found:
        print(problem, file=sys.stderr)
    if found:
        print(
            "Translations are incomplete: see the header of locale/de/LC_MESSAGES/django.po.",
            file=sys.stderr,
        )
        return 1
    print(f"Translations complete and compiled: {', '.join(LANGUAGES)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
