"""The container image is reproducible: a base image pinned by tag and digest, dependencies only from the hashed
lock (installed before the sources are copied), the project itself without dependency resolution, a non-root user;
and the lock says exactly what pyproject.toml asks for (runtime dependencies, the postgres extra, the build backend).
It is the bot alone (no demo, no moto, no dev tools), labelled as OCI says, and its HEALTHCHECK is liveness.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
LOCK = ROOT / "requirements.lock"
PYPROJECT = ROOT / "pyproject.toml"
LICENSE = ROOT / "LICENSE"
SOURCES = ("bot", "handlers", "scheduler")
# sha256 of https://www.apache.org/licenses/LICENSE-2.0.txt (the same bytes ship in s3transfer's and
# jsonpath-ng's wheels).
APACHE_2_0_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"
# The tag says what the image is; the digest fixes its bytes (a tag can be re-pushed). The Dockerfile's header
# says how to read the digest of a new tag.
BASE_IMAGE = re.compile(r"^python:(?P<version>\d+\.\d+\.\d+)-slim-(?P<debian>[a-z]+)@sha256:[0-9a-f]{64}$")
OCI_LABELS = ("title", "description", "source", "licenses", "version", "revision")
# Never in the image: the demo's and the tests' packages.
DEV_ONLY = ("moto", "pytest", "hypothesis", "ruff", "mypy", "cfn-lint", "parliament", "pip-tools", "orjson")


@dataclass(frozen=True)
class Instruction:
    stage: int
    keyword: str
    arguments: str


def instructions(text: str) -> list[Instruction]:
    """Dockerfile instructions in order, continuation lines joined, comments dropped, build ARGs substituted."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    arguments: dict[str, str] = {}
    stage = -1
    out = []
    for line in joined.splitlines():
        if not line.strip():
            continue
        keyword, _, rest = line.strip().partition(" ")
        keyword = keyword.upper()
        if keyword == "ARG" and "=" in rest:
            name, _, value = rest.strip().partition("=")
            arguments.setdefault(name, value)
        rest = re.sub(r"\$\{(\w+)\}", lambda m: arguments.get(m[1], m[0]), rest.strip())
        if keyword == "FROM":
            stage += 1
        out.append(Instruction(stage, keyword, rest))
    return out


@cache
def dockerfile() -> list[Instruction]:
    return instructions(DOCKERFILE.read_text())


def pip_installs(steps: list[Instruction]) -> list[tuple[int, list[str]]]:
    """(position, arguments) of each `pip install` inside a RUN."""
    found = []
    for index, step in enumerate(steps):
        if step.keyword != "RUN":
            continue
        for command in re.split(r"&&|;", step.arguments):
            words = shlex.split(command)
            for i in range(len(words) - 1):
                if words[i].endswith("pip") and words[i + 1] == "install":
                    found.append((index, words[i + 2 :]))
    return found


def check_dockerfile(steps: list[Instruction]) -> list[str]:
    """What keeps the image from being reproducible and unprivileged; empty when all is well."""
    problems = []
    images = [s.arguments.split()[0] for s in steps if s.keyword == "FROM"]
    stage_names = {s.arguments.split()[-1] for s in steps if s.keyword == "FROM" and " AS " in s.arguments.upper()}
    for image in images:
        if image not in stage_names and not BASE_IMAGE.match(image):
            problems.append(f"base image {image} is not pinned to an exact python:X.Y.Z-slim-<debian>@sha256:<digest>")
    copies = [(i, s.arguments.split()) for i, s in enumerate(steps) if s.keyword == "COPY"]
    first_source = min((i for i, words in copies if any(w.rstrip("/") in SOURCES for w in words[:-1])), default=None)
    lock_installs = [
        i for i, words in pip_installs(steps) if "--require-hashes" in words and LOCK.name in words and "-r" in words
    ]
    if not lock_installs:
        problems.append(f"no `pip install --require-hashes -r {LOCK.name}`")
    elif first_source is None or lock_installs[0] > first_source:
        problems.append("the locked dependencies must be installed before `COPY bot` (their own layer)")
    else:
        early = [w for i, words in copies if i < lock_installs[0] for w in words[:-1] if not w.startswith("--")]
        if early != [LOCK.name]:
            problems.append(f"only {LOCK.name} may be copied before the locked install, not {early}")
    for i, words in pip_installs(steps):
        if i not in lock_installs and "--no-deps" not in words:
            problems.append(f"`pip install {' '.join(words)}` resolves dependencies outside the lock")
        if i in lock_installs and "--no-deps" not in words:
            problems.append("the locked install must use --no-deps too: nothing but the lock is installed")
    project = [i for i, words in pip_installs(steps) if "." in words]
    if not project or "--no-deps" not in dict(pip_installs(steps))[project[-1]]:
        problems.append("the project itself must be installed with `pip install --no-deps .`")
    elif not any(s.keyword == "RUN" and "compileall" in s.arguments for s in steps[project[-1] :]):
        problems.append("bytecode must be compiled (python -m compileall) after the project is installed")
    final = [s for s in steps if s.stage == max(s.stage for s in steps)]
    users = [s.arguments for s in final if s.keyword == "USER"]
    if not users or users[-1].split(":")[0] in {"root", "0"}:
        problems.append("the final stage must run as a non-root USER")
    problems += check_health_and_contents(steps, final)
    return problems


def check_health_and_contents(steps: list[Instruction], final: list[Instruction]) -> list[str]:
    """Liveness health check; the final stage takes the built virtualenv and the licence, never the sources."""
    problems = []
    checks = [s.arguments for s in final if s.keyword == "HEALTHCHECK"]
    if not checks or "/healthz" not in checks[-1]:
        problems.append("the final stage's HEALTHCHECK must probe /healthz (liveness)")
    elif "/readyz" in checks[-1]:
        problems.append("the HEALTHCHECK must not probe /readyz: a database outage would restart every replica")
    for step in final:
        words = step.arguments.split()
        if step.keyword in {"COPY", "ADD"} and not (words[0].startswith("--from=") or words[:-1] == [LICENSE.name]):
            problems.append(f"the final stage copies {' '.join(words)} from the context: only the built venv")
    for _, words in pip_installs(steps):
        if any("[" in w for w in words):
            problems.append(f"`pip install {' '.join(words)}` installs an extra: the image gets the lock only")
    return problems


def test_the_dockerfile_is_reproducible_and_unprivileged() -> None:
    assert check_dockerfile(dockerfile()) == []


def base_python_version() -> str:
    """The Python version of the pinned base image (every stage uses the same one)."""
    versions = set()
    for step in dockerfile():
        match = BASE_IMAGE.match(step.arguments.split()[0]) if step.keyword == "FROM" else None
        if match:
            versions.add(match["version"])
    (version,) = versions
    return version


def test_the_base_image_python_satisfies_requires_python() -> None:
    requires = SpecifierSet(tomllib.loads(PYPROJECT.read_text())["project"]["requires-python"])
    assert Version(base_python_version()) in requires


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("python:3.11.16-slim-bookworm", "python:3.11-slim"), "not pinned"),
        (("-slim-bookworm@sha256:", "-slim-bookworm #"), "not pinned"),
        (("'http://127.0.0.1:%s/healthz'", "'http://127.0.0.1:%s/readyz'"), "HEALTHCHECK must probe /healthz"),
        (("'http://127.0.0.1:%s/healthz'", "'http://127.0.0.1:%s/healthz' or '/readyz'"), "must not probe /readyz"),
        (("COPY LICENSE /usr", "COPY bot /usr/bot\nCOPY LICENSE /usr"), "copies bot /usr/bot"),
        (("--no-build-isolation .", "--no-build-isolation .[demo]"), "installs an extra"),
        (("--require-hashes ", ""), "--require-hashes"),
        (("USER ddbbot", "USER root"), "non-root"),
        (("--no-deps --no-build-isolation .", "--no-build-isolation ."), "resolves dependencies"),
        (("COPY requirements.lock ./", "COPY requirements.lock pyproject.toml ./"), "only requirements.lock"),
        (("python -m compileall", "python -m pip --version"), "compileall"),
    ],
)
def test_the_dockerfile_check_catches_each_regression(change: tuple[str, str], problem: str) -> None:
    old, new = change
    text = DOCKERFILE.read_text()
    assert old in text
    assert any(problem in p for p in check_dockerfile(instructions(text.replace(old, new, 1))))


def test_moving_the_locked_install_after_the_sources_is_caught() -> None:
    text = DOCKERFILE.read_text()
    install = "RUN pip install --no-compile --require-hashes --no-deps -r requirements.lock\n"
    assert install in text
    moved = text.replace(install, "").replace("COPY scheduler ./scheduler\n", "COPY scheduler ./scheduler\n" + install)
    assert any("before `COPY bot`" in p for p in check_dockerfile(instructions(moved)))


# --- the lock ---------------------------------------------------------------------------------------------


def locked(text: str) -> dict[str, tuple[Version, int]]:
    """Package → (pinned version, number of hashes)."""
    pins: dict[str, tuple[Version, int]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        head = re.match(r"^([A-Za-z0-9._-]+)==([^\s\\;]+)", block)
        if head:
            pins[canonicalize_name(head[1])] = (Version(head[2]), len(re.findall(r"--hash=sha256:[0-9a-f]{64}", block)))
    return pins


def image_environment() -> dict[str, str]:
    """Marker values of the image: Linux, CPython, the base image's Python."""
    version = base_python_version()
    return {key: str(value) for key, value in default_environment().items()} | {
        "python_version": ".".join(version.split(".")[:2]),
        "python_full_version": version,
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
    }


def top_requirements() -> list[Requirement]:
    """What pyproject.toml asks the image for: dependencies, the postgres extra, the build backend."""
    project = tomllib.loads(PYPROJECT.read_text())
    texts = [
        *project["project"]["dependencies"],
        *project["project"]["optional-dependencies"]["postgres"],
        *project["build-system"]["requires"],
    ]
    return [Requirement(t) for t in texts]


def applies(requirement: Requirement, extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    env = image_environment()
    return any(requirement.marker.evaluate(env | {"extra": extra}) for extra in (extras or {""}))


def closure(requirements: list[Requirement]) -> dict[str, str]:
    """Every package the image needs → who needs it, from the installed distributions' metadata."""
    needed: dict[str, str] = {}
    queue = [(r, "pyproject.toml") for r in requirements]
    while queue:
        requirement, parent = queue.pop()
        name = canonicalize_name(requirement.name)
        extras = set(requirement.extras)
        if name in needed and not extras:
            continue
        needed.setdefault(name, parent)
        try:
            requires = importlib.metadata.distribution(name).requires or []
        except importlib.metadata.PackageNotFoundError:
            pytest.fail(f"{name} (needed by {parent}) is not installed here; run `make install`")
        for text in requires:
            child = Requirement(text)
            marker_extra = child.marker is not None and "extra" in str(child.marker)
            if applies(child, extras) and (not marker_extra or extras):
                queue.append((child, name))
    return needed


def lock_problems(pins: dict[str, tuple[Version, int]], requirements: list[Requirement]) -> list[str]:
    problems = []
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        if name not in pins:
            problems.append(f"{requirement} is in pyproject.toml but not in {LOCK.name}")
        elif not requirement.specifier.contains(pins[name][0], prereleases=True):
            problems.append(f"{LOCK.name} pins {name}=={pins[name][0]}, outside pyproject's {requirement}")
    needed = closure(requirements)
    problems += [
        f"{name} (needed by {parent}) is missing from {LOCK.name}"
        for name, parent in sorted(needed.items())
        if name not in pins
    ]
    problems += [f"{LOCK.name} has {name}, which nothing requires" for name in sorted(pins.keys() - needed.keys())]
    problems += [f"{name} has no --hash in {LOCK.name}" for name, (_, hashes) in sorted(pins.items()) if hashes == 0]
    return problems


def test_the_lock_is_in_sync_with_pyproject() -> None:
    assert lock_problems(locked(LOCK.read_text()), top_requirements()) == []


def test_the_lock_check_catches_an_out_of_range_pin_an_extra_package_and_a_missing_one() -> None:
    pins = locked(LOCK.read_text())
    pins[canonicalize_name("slack-bolt")] = (Version("2.0.0"), 2)
    pins["left-pad"] = (Version("1.0"), 1)
    del pins["waitress"]
    problems = lock_problems(pins, top_requirements())
    assert any("slack-bolt==2.0.0, outside" in p for p in problems)
    assert any("left-pad, which nothing requires" in p for p in problems)
    assert any(p.startswith("waitress") and "not in" in p for p in problems)


def test_the_license_is_apache_2_0_as_pyproject_says() -> None:
    license_field = tomllib.loads(PYPROJECT.read_text())["project"]["license"]
    assert (license_field.get("text") if isinstance(license_field, dict) else license_field) == "Apache-2.0"
    assert hashlib.sha256(LICENSE.read_bytes()).hexdigest() == APACHE_2_0_SHA256


# --- what the image is: labels, contents -----------------------------------------------------------------


def labels(steps: list[Instruction]) -> dict[str, str]:
    """The final stage's LABELs, build ARGs at their defaults."""
    final = [s for s in steps if s.stage == max(s.stage for s in steps)]
    found: dict[str, str] = {}
    for step in final:
        if step.keyword == "LABEL":
            found.update(word.partition("=")[::2] for word in shlex.split(step.arguments))
    return found


def test_the_image_carries_the_oci_labels_from_pyproject_and_build_args() -> None:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    found = labels(dockerfile())
    assert {f"org.opencontainers.image.{name}" for name in OCI_LABELS} <= found.keys()
    assert found["org.opencontainers.image.title"] == project["name"]
    assert found["org.opencontainers.image.description"] == project["description"]
    assert found["org.opencontainers.image.licenses"] == project["license"]["text"]
    assert found["org.opencontainers.image.version"] == project["version"], "ARG VERSION's default is pyproject's"
    text = DOCKERFILE.read_text()
    final_stage = text[text.rindex("\nFROM ") :]
    for label, argument in (("revision", "REVISION"), ("source", "SOURCE"), ("version", "VERSION")):
        assert re.search(rf"^ARG {argument}\b", final_stage, re.M), f"ARG {argument} is declared in the final stage"
        assert f'org.opencontainers.image.{label}="${{{argument}}}"' in final_stage


def test_the_image_gets_no_demo_and_no_dev_or_demo_packages() -> None:
    assert "bot/demo" in DOCKERIGNORE.read_text().splitlines(), "bot/demo stays out of the build context"
    pins = locked(LOCK.read_text())
    assert [name for name in DEV_ONLY if canonicalize_name(name) in pins] == []


def build_stage_sources() -> list[str]:
    """What the build stage copies from the context before `pip install .` (the lock aside)."""
    return [
        word
        for step in dockerfile()
        if step.stage == 0 and step.keyword == "COPY" and not step.arguments.startswith("--from")
        for word in step.arguments.split()[:-1]
        if word != LOCK.name
    ]


def test_the_wheel_the_image_installs_is_the_bot_without_its_demo(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in build_stage_sources():
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(ROOT / name, source / name)
    assert (source / "bot" / "demo").is_dir()  # the checkout has it; the package must leave it out
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index"]
    subprocess.run(
        [*pip_wheel, "--wheel-dir", str(tmp_path / "dist"), str(source)],
        check=True,
        capture_output=True,
        timeout=240,
    )
    (wheel,) = (tmp_path / "dist").glob("ddb_backup_bot-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert [n for n in names if n.startswith("bot/demo/")] == []
    for needed in ("bot/__main__.py", "bot/migrations/script.py.mako", "handlers/__init__.py", "scheduler/runner.py"):
        assert needed in names


def test_the_bot_starts_without_moto_or_the_demo() -> None:
    """`python -m bot` with moto and bot.demo unimportable gets as far as checking its settings (exit 2)."""
    blocked = "import runpy, sys; sys.modules.update(dict.fromkeys(('moto', 'bot.demo'), None)); "
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", blocked + "runpy.run_module('bot', run_name='__main__')"],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2 and "cannot start" in result.stderr, result.stderr[-2000:]
    imported = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import")]
    assert "bot.wiring.runtime" in imported  # everything the bot runs with was loaded
    assert [m for m in imported if m.startswith(("moto", "bot.demo", "pytest"))] == []
