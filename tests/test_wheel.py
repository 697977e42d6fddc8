"""The app installs: a wheel built from this checkout runs outside it, with its templates, static
files and migrations.

The wheel is built with pip, installed into a fresh virtual environment in a temporary folder,
and used from there exactly as the README's production section says: migrate, load the demo,
serve with gunicorn. The new environment reaches the third-party packages of the test run's own
environment through a .pth file, so nothing is downloaded; carelog itself comes only from the
wheel (the checkout is neither on the path nor the working directory).
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import requests

from tests.postgres import free_port

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path, env: dict[str, str], timeout: int = 180) -> str:
    """Run a command, failing the test with its output if it fails."""
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{' '.join(args)}\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict[str, str], Path]:
    """A virtual environment holding only the carelog wheel (and a path to its dependencies)."""
    work = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARELOG_", "PYTHON"))}
    # Built from a copy: setuptools builds in the source's build/ folder, and two test workers
    # building in one folder at once trip over each other's files.
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "instance", "__pycache__", ".hypothesis", ".pytest_cache",
        ".ruff_cache", ".mypy_cache", "*.egg-info"))  # fmt: skip
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
        "-w", str(work / "dist"), str(source), cwd=work, env=env, timeout=300)  # fmt: skip
    wheel = next((work / "dist").glob("carelog-*.whl"))
    venv = work / "venv"
    run(sys.executable, "-m", "venv", str(venv), cwd=work, env=env)
    purelib = run(str(venv / "bin" / "python"), "-c", "import sysconfig; "
                  "print(sysconfig.get_paths()['purelib'])", cwd=work, env=env).strip()  # fmt: skip
    # The dependencies, from this test run's environment (its .pth files are not processed
    # there, so the checkout's editable install stays out of reach).
    Path(purelib, "dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    run(str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps", "-q", str(wheel),
        cwd=work, env=env)  # fmt: skip
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return venv, env, work


def test_the_wheel_carries_templates_static_files_and_migrations(installed):
    """The package imports from the virtual environment, and every resource folder is inside it."""
    venv, env, work = installed
    where = run(str(venv / "bin" / "python"), "-c", "import carelog.paths as p; "
                "print(p.PACKAGE); print(p.TEMPLATES); print(p.MIGRATIONS); print(p.STATIC)",
                cwd=work, env=env).split()  # fmt: skip
    package, templates, migrations, static = map(Path, where)
    assert package.is_relative_to(venv), package
    assert not package.is_relative_to(ROOT)
    for folder in (templates, migrations, static):
        assert folder.is_relative_to(package), folder
    assert (templates / "care" / "board.html").is_file()
    assert len(list((migrations / "versions").glob("*.py"))) >= 4
    assert (static / "carelog.css").is_file()
    assert (static / "vendor" / "jsqr" / "jsQR.js").is_file()  # the door cards' QR decoder
    assert (static / "vendor" / "jsqr" / "LICENSE").is_file()
    assert (templates / "tablets" / "switch.html").is_file()


@pytest.mark.longest
def test_the_installed_app_migrates_loads_the_demo_and_serves_the_sign_in_page(installed):
    """`flask --app carelog db upgrade`, `demo`, then gunicorn, all from the installed wheel.

    The dependencies' console scripts are not in the new environment, so each tool runs as
    `python -m`, which is the same program.
    """
    venv, env, work = installed
    instance = work / "instance"
    env = {**env, "CARELOG_DATABASE_URL": f"sqlite:///{instance / 'carelog.sqlite'}"}
    instance.mkdir()
    python = str(venv / "bin" / "python")
    run(python, "-m", "flask", "--app", "carelog", "db", "upgrade", cwd=work, env=env)
    shown = run(python, "-m", "flask", "--app", "carelog", "demo", cwd=work, env=env)
    assert "Demo sign-ins" in shown
    port = free_port()
    log = (work / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [python, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}",
         "carelog:create_app()"],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                page = requests.get(f"http://127.0.0.1:{port}/auth/sign-in", timeout=5)
                break
            except requests.ConnectionError:
                assert server.poll() is None, (work / "gunicorn.log").read_text()
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.2)
        assert page.status_code == 200
        assert 'name="username"' in page.text and "Sign in" in page.text
        css = requests.get(f"http://127.0.0.1:{port}/static/carelog.css", timeout=5)
        assert css.status_code == 200 and "body" in css.text
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()


def test_every_subpackage_is_listed_for_the_wheel():
    """A new capability folder not named in pyproject.toml would be left out of the wheel."""
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "carelog").rglob("__init__.py")
    }
    assert on_disk <= listed, on_disk - listed
