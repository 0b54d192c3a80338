"""The apps' modules form layers that only point down (docs/decisions.md, "Layers").

LAYERS below is the map: each module of the apps gets the layer of the first pattern that
matches its dotted name. Every import, at the top of a module or inside a function, must go
to the same or a lower layer; no import may close a cycle; and a page module (a view, a
URLconf, a page form) may use any app's domain modules but no other app's pages, except the
root URLconf, which includes them all.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from fnmatch import fnmatchcase
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("smshub", "accounts", "audit", "providers", "audiences", "campaigns", "callbacks")
APPS += ("stats", "sandbox")

PAGES = 7
# (pattern, layer): the first pattern matching a module's dotted name gives its layer.
LAYERS = [
    # 7 pages, on top of every app's domain. smshub.urls is the root URLconf.
    ("smshub.urls", PAGES),
    ("smshub.views", 0),  # the health check and the error pages only
    ("*.views", PAGES),
    ("*.urls", PAGES),
    ("*.pages", PAGES),
    ("*.page_forms", PAGES),
    ("*.templatetags.*", PAGES),
    ("audiences.forms", PAGES),
    ("campaigns.forms", PAGES),
    ("stats.forms", PAGES),
    # 0 foundation: settings, http, db, crypto, Celery; users and roles; the audit log.
    ("smshub", 0),
    ("smshub.*", 0),
    ("accounts", 0),
    ("accounts.*", 0),
    ("audit", 0),
    ("audit.*", 0),
    # 1 providers, with the callback contract that provider kinds implement.
    ("callbacks.events", 1),
    ("callbacks.responses", 1),
    ("callbacks.receivers.base", 1),
    ("providers", 1),
    ("providers.*", 1),
    # 2 audiences.
    ("audiences", 2),
    ("audiences.*", 2),
    # 3 the stats rollup store, written by campaigns and callbacks.
    ("stats.models", 3),
    ("stats.rollups", 3),
    # 4 campaigns.
    ("campaigns", 4),
    ("campaigns.*", 4),
    # 5 callbacks.
    ("callbacks", 5),
    ("callbacks.*", 5),
    # 6 reading the stats (figures, charts, rebuilds); the sandbox provider.
    ("stats", 6),
    ("stats.*", 6),
    ("sandbox", 6),
    ("sandbox.*", 6),
]

# A service hands work to a Celery worker through its app's tasks module, which calls the
# service back: the one import allowed to close a cycle, made inside the function that queues.
CELERY_HAND_OFFS = {
    ("audiences.services", "audiences.tasks"),
    ("campaigns.services", "campaigns.tasks"),
}


def app_modules() -> dict[str, Path]:
    """Dotted name → file of every module of the apps, migrations left out."""
    modules = {}
    for app_name in APPS:
        for path in sorted((ROOT / app_name).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def layer_of(module: str) -> int | None:
    return next((layer for pattern, layer in LAYERS if fnmatchcase(module, pattern)), None)


def is_page(module: str) -> bool:
    return layer_of(module) == PAGES


def app(module: str) -> str:
    return module.partition(".")[0]


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The app modules `module` imports, anywhere in it (imports for type checking only,
    which never run, left out)."""
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    typing_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test).endswith("TYPE_CHECKING")
        for statement in block.body
        for node in ast.walk(statement)
    }
    names = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names += [f"{base}.{alias.name}" for alias in node.names]
    found = set()
    for name in names:
        while name and name not in modules:  # `from a.b import c`: c may be a module or a name
            name = name.rpartition(".")[0]
        if name and name != module:
            found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = app_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def test_every_module_has_a_layer():
    unplaced = [name for name in app_modules() if layer_of(name) is None]
    assert not unplaced, f"modules with no layer (add them to LAYERS): {unplaced}"


def test_imports_point_down():
    wrong = []
    for module, imported in sorted(import_graph().items()):
        for target in sorted(imported):
            if layer_of(target) > layer_of(module):
                wrong.append(f"{module} ({layer_of(module)}) → {target} ({layer_of(target)})")
            elif module != "smshub.urls" and is_page(target) and app(target) != app(module):
                wrong.append(f"{module} → {target}: another app's page")
    assert not wrong, "imports that point up:\n" + "\n".join(wrong)


def test_no_import_cycle():
    graph = import_graph()
    assert all(target in graph[module] for module, target in CELERY_HAND_OFFS)
    for module, target in CELERY_HAND_OFFS:
        graph[module].discard(target)
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        raise AssertionError("import cycle: " + " → ".join(error.args[1])) from None


IMPORT_EACH = textwrap.dedent(
    """
    import importlib, os, sys, traceback
    import django

    django.setup()
    failed = 0
    for name in sys.argv[1:]:
        pid = os.fork()  # each module imported first, as if it were the entry point
        if pid == 0:
            try:
                importlib.import_module(name)
            except BaseException:
                print(f"importing {name} failed:", file=sys.stderr)
                traceback.print_exc(limit=-3)
                os._exit(1)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        failed += bool(status)
    sys.exit(1 if failed else 0)
    """
)


def test_every_module_imports_in_a_fresh_interpreter():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "smshub.settings"}
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH, *app_modules()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
