"""The README names what the tree holds: every library module and every graphfreeze subcommand."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_names_every_module():
    package = ROOT / "graphfreeze_helpers"
    modules = [path.stem for path in package.glob("*.py") if path.stem != "__init__"]
    modules += [path.name + "/" for path in package.iterdir() if (path / "__init__.py").is_file()]
    assert len(modules) > 10
    missing = [name for name in modules if f"`{name}`" not in README]
    assert missing == [], f"the README's module list does not name {missing}"


def test_readme_shows_every_subcommand():
    from graphfreeze_helpers.cli import build_parser

    parser = build_parser()
    subcommands = next(action for action in parser._actions if action.dest == "command").choices
    assert {"freeze", "inspect", "scan", "run"} <= set(subcommands)
    missing = [name for name in subcommands if f"$ graphfreeze {name} " not in README]
    assert missing == [], f"the README's command block does not show {missing}"
