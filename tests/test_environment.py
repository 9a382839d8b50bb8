"""The two ways to install (pip/venv and conda) must ask for the same packages."""

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra, requirements in project.get("optional-dependencies", {}).items():
        wanted += [r for r in requirements if not r.startswith("graphfreeze")]
    return {_name(r): r.replace(" ", "") for r in wanted}


def _environment_pip_requirements() -> dict[str, str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    found = {}
    for line in lines[start + 1 :]:
        stripped = line.strip()
        if not stripped.startswith("- "):
            continue
        requirement = stripped[2:].split("#")[0].strip()
        if requirement.startswith("-e"):
            continue
        found[_name(requirement)] = requirement.replace(" ", "")
    return found


def test_environment_yml_lists_the_same_packages_and_pins():
    assert _environment_pip_requirements() == _pyproject_requirements()


def test_environment_installs_the_package_itself():
    assert "- -e .[dev]" in (ROOT / "environment.yml").read_text()


def test_tensorflow_pin_is_explained_in_both_files():
    for name in ("pyproject.toml", "environment.yml"):
        text = (ROOT / name).read_text()
        index = text.index("tensorflow==2.21")
        assert "#" in text[max(0, index - 400) : index], f"{name}: say why TensorFlow is pinned, beside the pin"


def test_readme_commands_are_the_ones_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make run" in readme
    ci_commands = re.findall(r"^make [a-z-]+", ci, flags=re.M)
    assert "make lint" in ci_commands and "make test" in ci_commands
    for command in ci_commands:
        assert command in readme, f"CI runs {command!r}; the README should show it"
    makefile = (ROOT / "Makefile").read_text()
    for command in ci_commands:
        assert re.search(rf"^{command.split()[1]}:.*## ", makefile, flags=re.M), f"make help should list {command}"


def test_python_versions_agree():
    """pyproject's requires-python, the README's claim and environment.yml's Python say the same."""
    spec = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    low, high = re.fullmatch(r">=3\.(\d+),<3\.(\d+)", spec).groups()
    newest = int(high) - 1
    assert f"Python 3.{low}–3.{newest}" in (ROOT / "README.md").read_text()
    assert f"Python 3.{low}-3.{newest}" in (ROOT / "docs" / "workshop.md").read_text()
    conda = re.search(r"- python=3\.(\d+)", (ROOT / "environment.yml").read_text()).group(1)
    assert int(low) <= int(conda) <= newest
    assert (3, int(low)) <= sys.version_info[:2] <= (3, newest), "the tests run on a Python the project claims"


def test_deprecation_warnings_are_filtered_by_module():
    """No filter hides every DeprecationWarning; each ignore names the module that triggers it."""
    filters = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["filterwarnings"]
    for entry in filters:
        action, _message, category, module = (entry.split(":") + ["", "", ""])[:4]
        if action == "ignore" and "Deprecation" in category:
            assert module, f"{entry!r} silences deprecations from every module; name the module"
    assert "error::DeprecationWarning:graphfreeze_helpers" in filters, "the project's own deprecated calls must fail"
