"""The import rules of docs/architecture.md, enforced: each layer imports only what it may.

Read from the source with ``ast``, so a rule broken by a function-level import is caught too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import omnisend_sdk

PACKAGE = Path(omnisend_sdk.__file__).parent

#: Top-level modules every layer may use: constants, errors, models, wire names, state files.
CORE = {
    "_config",
    "_constants",
    "_documents",
    "_errors",
    "_json",
    "_models",
    "_privacy",
    "_state",
    "_version",
    "_wire",
}
#: The Omnisend client: requests, pacing, retries, connections.
CLIENT = {
    "_auth",
    "_batches",
    "_client",
    "_connection",
    "_contacts",
    "_deadline",
    "_http",
    "_key_sources",
    "_keychain",
    "_profiles",
    "_ratelimit",
    "_retry",
    "_segments",
    "_tags",
}

#: What each layer may import from the package (``"mapping"`` means its public names only).
ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "client": {"core", "client"},
    "mapping": {"core", "mapping"},
    "sources": {"core", "mapping", "sources"},
    "export": {"core", "client", "mapping", "sources", "export"},
    "testing": {"testing"},
    "cli": {"cli", "facade", "core", "client", "mapping", "sources", "export", "testing"},
    "facade": {"core", "client", "mapping", "sources", "export"},
}


def layer_of(module: str) -> str:
    """The layer of a dotted module name inside the package."""
    parts = module.split(".")[1:]
    if not parts or parts == ["__init__"]:
        return "facade"
    head = parts[0]
    if head in {"mapping", "sources", "export", "testing"}:
        return head
    if head in {"cli", "__main__", "_cli_connections"}:
        return "cli"
    if head in CORE:
        return "core"
    if head in CLIENT:
        return "client"
    raise AssertionError(f"{module} belongs to no layer: add it to tests/test_architecture.py")


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[str]:
    """Every ``omnisend_sdk`` module a file imports, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    )
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            if name == "omnisend_sdk" or (node.level and not node.module):
                # "from omnisend_sdk import x": x may be a module or a name of the facade.
                found += [
                    f"{name}.{alias.name}" if _is_module(f"{name}.{alias.name}") else name
                    for alias in node.names
                ]
            else:
                found.append(name)
    return [name for name in found if name == "omnisend_sdk" or name.startswith("omnisend_sdk.")]


def _is_module(name: str) -> bool:
    relative = Path(*name.split(".")[1:])
    return (PACKAGE / relative).with_suffix(".py").exists() or (PACKAGE / relative).is_dir()


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_module_imports_only_what_its_layer_may(path: Path) -> None:
    importer = module_name(path)
    mine = layer_of(importer)
    broken = []
    for imported in imports_of(path):
        theirs = layer_of(imported)
        if theirs not in ALLOWED[mine]:
            broken.append(f"{imported} ({theirs})")
        elif theirs in {"mapping", "sources"} and mine != theirs:
            # Other layers use mapping and sources through their public names only.
            public = f"omnisend_sdk.{theirs}"
            if imported != public:
                broken.append(f"{imported} (use {public})")
    assert not broken, f"{importer} ({mine}) may not import: {', '.join(broken)}"


def test_the_mapping_package_has_no_import_cycle() -> None:
    graph = {
        module_name(path): {
            name for name in imports_of(path) if name.startswith("omnisend_sdk.mapping.")
        }
        for path in (PACKAGE / "mapping").glob("*.py")
    }
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> None:
        if module in done:
            return
        assert module not in visiting, "import cycle: " + " -> ".join([*visiting, module])
        visiting.append(module)
        for imported in sorted(graph.get(module, ())):
            visit(imported)
        visiting.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


def test_the_rules_see_imports() -> None:
    # A guard on the guard: the parser finds the imports it is meant to police.
    found = imports_of(PACKAGE / "export" / "_api.py")
    assert "omnisend_sdk.export._engine" in found
    assert "omnisend_sdk.mapping" in found
