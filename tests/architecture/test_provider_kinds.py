"""What is particular to a provider kind lives in its folder (providers/kinds/<kind>/): no
code elsewhere asks which kind a provider is, it asks the provider's kind class."""

from __future__ import annotations

import ast
from pathlib import Path

from providers import registry
from providers.kinds.base import Kind

ROOT = Path(__file__).resolve().parents[2]
KINDS_FOLDER = ROOT / "providers" / "kinds"
SKIPPED = {".venv", ".git", "node_modules", "__pycache__"}


def python_files():
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if path == Path(__file__).resolve():  # this test compares kinds to check them
            continue
        if SKIPPED.isdisjoint(relative.parts) and not path.is_relative_to(KINDS_FOLDER):
            yield path, relative


SWITCHES = (ast.Eq, ast.NotEq, ast.Is, ast.IsNot)


def names_kind(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id == "kind") or (
        isinstance(node, ast.Attribute) and node.attr == "kind"
    )


def is_switch(node: ast.AST) -> bool:
    """A kind compared for (in)equality or identity, or looked up in a literal list of keys;
    a lookup in the registry (`kind in registry.kinds()`) is not a switch."""
    if not isinstance(node, ast.Compare):
        return False
    sides = (node.left, *node.comparators)
    if not any(names_kind(side) for side in sides):
        return False
    literal = (ast.Tuple, ast.List, ast.Set, ast.Constant)
    return any(isinstance(op, SWITCHES) for op in node.ops) or any(
        isinstance(side, literal) for side in node.comparators
    )


def test_no_code_outside_the_kinds_folder_compares_a_kind():
    found = []
    for path, relative in python_files():
        source = path.read_text()
        for number, line in enumerate(source.splitlines(), 1):
            if any(f"kind {operator}" in line for operator in ("==", "!=")):
                found.append(f"{relative}:{number}: {line.strip()}")
        for node in ast.walk(ast.parse(source)):
            if is_switch(node):
                found.append(f"{relative}:{node.lineno}: compares a kind")
    assert found == []


def test_every_registered_kind_is_complete_and_keyed_by_its_form():
    for key, kind in registry.kinds().items():
        assert issubclass(kind, Kind)
        assert key == kind.form_class.kind, kind
        assert kind.label and kind.description and kind.template
        assert Path(kind.__module__.replace(".", "/")).parent.parent == Path("providers/kinds")


def test_provider_kind_choices_come_from_the_registry():
    from providers.models import Provider

    choices = list(Provider._meta.get_field("kind").choices)
    assert choices == [(key, kind.label) for key, kind in registry.kinds().items()]
