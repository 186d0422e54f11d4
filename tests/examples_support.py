"""Finding the code examples in the README and the docs, and running them.

A fenced ``python`` block runs, in page order and in one namespace per page (so a later block can
use what an earlier one defined), unless an HTML comment on the line before it says otherwise::

    <!-- no-test -->                    the block is not run (a sketch, another tool's code)
    <!-- test: raises MappingError -->  the block must raise this exception (by class name)

The comments are invisible in the rendered page. Blocks in other languages (``bash``, ``toml``,
``console``) are never run.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
#: Pages whose python blocks the tests run.
PAGES = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))

NO_TEST = "<!-- no-test -->"
_RAISES = re.compile(r"<!--\s*test:\s*raises\s+(\w+)\s*-->")
_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>```+|~~~+)\s*(?P<info>[\w+-]*)")


@attrs.frozen
class CodeBlock:
    """One fenced block: where it is, what it says, and how the tests treat it."""

    page: Path
    line: int  # 1-based line of the opening fence
    language: str
    code: str
    skip: bool = False
    raises: str | None = None

    @property
    def where(self) -> str:
        page = self.page.relative_to(ROOT) if self.page.is_relative_to(ROOT) else self.page
        return f"{page}:{self.line}"


def code_blocks(page: Path) -> Iterator[CodeBlock]:
    """Every fenced block of a Markdown page, with the marker comment before it applied."""
    lines = page.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        fence, start = opening["fence"], index
        index += 1
        body: list[str] = []
        while index < len(lines) and not lines[index].strip().startswith(fence):
            body.append(lines[index])
            index += 1
        index += 1  # the closing fence
        marker = _marker_before(lines, start)
        raises = _RAISES.search(marker)
        yield CodeBlock(
            page=page,
            line=start + 1,
            language=opening["info"].lower(),
            code=textwrap.dedent("\n".join(body)),
            skip=marker.strip() == NO_TEST,
            raises=raises.group(1) if raises else None,
        )


def _marker_before(lines: list[str], fence_index: int) -> str:
    """The nearest non-blank line above a fence, if it is an HTML comment."""
    for previous in reversed(lines[:fence_index]):
        if previous.strip():
            return previous if previous.strip().startswith("<!--") else ""
    return ""


def python_blocks(page: Path) -> list[CodeBlock]:
    """The page's python blocks, in order."""
    return [block for block in code_blocks(page) if block.language in {"python", "py"}]


def run_blocks(blocks: list[CodeBlock]) -> dict[str, Any]:
    """Run blocks in order in one namespace; an error names the block that raised it."""
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    for block in blocks:
        if block.skip:
            continue
        compiled = compile(block.code, block.where, "exec")
        try:
            exec(compiled, namespace)
        except Exception as error:
            if block.raises is not None and type(error).__name__ == block.raises:
                continue
            raise AssertionError(f"{block.where}: {type(error).__name__}: {error}") from error
        if block.raises is not None:
            raise AssertionError(f"{block.where}: should raise {block.raises}, raised nothing")
    return namespace


def copy_examples(target: Path) -> Path:
    """A copy of ``examples/`` (the sample segment, its mapping, the notebook) to work in."""
    shutil.copytree(EXAMPLES, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("issues*"))
    return target
