"""The one-way layer order of pyproject.toml holds, and lint-imports really enforces it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT), "--no-logo", "--no-cache", str(tree / "pyproject.toml")],
        cwd=tree, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def _copy(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "bot", tree / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_the_tree_keeps_every_contract() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower().replace("0 broken", "")


@pytest.mark.parametrize(
    ("module", "planted", "expected"),
    [
        # An upward import: detection reaching for a chat adapter.
        ("bot/detect/posts.py", "import bot.chat.telegram", "bot.detect is not allowed to import"),
        # The store reaching up to the relay that reads it.
        ("bot/store/fanout.py", "import bot.notify.relay", "bot.store is not allowed to import"),
        # An adapter opening the database itself.
        ("bot/chat/console.py", "import bot.store.models", "bot.chat is not allowed to import"),
        # The leaf importing a database library.
        ("bot/reply.py", "import sqlalchemy", "bot.reply is not allowed to import sqlalchemy"),
    ],
)
def test_a_planted_violation_breaks_the_build(
    tmp_path: Path, module: str, planted: str, expected: str
) -> None:
    tree = _copy(tmp_path)
    target = tree / module
    target.write_text(target.read_text() + f"\n{planted}  # planted by the test\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert expected in result.stdout, result.stdout
