"""`make help` is the first thing a new developer reads: it must show real values."""

import shutil
import subprocess

from shoplocal.template import PROJECT_ROOT


def make_help(*assignments: str) -> str:
    make = shutil.which("make")
    assert make is not None
    result = subprocess.run(
        [make, "--no-print-directory", "help", *assignments],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def test_help_shows_the_ports_not_make_variables() -> None:
    text = make_help()
    assert "$(" not in text
    assert "http://127.0.0.1:3000" in text
    assert "port 8000" in text


def test_help_shows_ports_given_on_the_command_line() -> None:
    text = make_help("API_PORT=3001", "DB_PORT=8001")
    assert "http://127.0.0.1:3001" in text
    assert "port 8001" in text


def commands_of(*arguments: str) -> str:
    """What make would run (-n), counting the virtualenv and the docs page as built (-o)."""
    make = shutil.which("make")
    assert make is not None
    built = ["-o", ".venv/.installed", "-o", "functions/docs/assets/index.html.gz"]
    command = [make, "--no-print-directory", "-n", *built, *arguments]
    return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=True).stdout


def test_run_and_reset_pass_the_django_database_on() -> None:
    for target in ("run", "reset"):
        assert '--django-db "backups/db.sqlite3"' in commands_of(target, "DJANGO_DB=backups/db.sqlite3")
        assert "--django-db" not in commands_of(target)
