"""Package data (prompts, theme lists, word and layout tables) read with importlib.resources.

Read this way rather than from a path beside the source, so a non-editable `pip install .`
finds the data inside the installed package.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib.resources import files


def read_text(name: str) -> str:
    """The text of rag/data/<name>; `name` may hold '/' for a sub-folder."""
    return files("rag").joinpath("data", *name.split("/")).read_text(encoding="utf-8")


@cache
def read_toml(name: str) -> dict:
    """A TOML file of rag/data, parsed once per process (treat the result as read-only)."""
    return tomllib.loads(read_text(name))
