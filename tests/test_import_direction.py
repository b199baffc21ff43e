"""Dependencies point inward (STYLE point 1, docs/architecture.md): the register (`dsr`) imports
no feature app, the apps import each other without a circle, and no module imports its way back
to itself at load time. Read from the source, so a wrong-way arrow fails here whatever runs."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("dsr", "referrals", "reviews", "escalation", "reports")
FEATURES = set(APPS) - {"dsr"}


def _modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(path: Path, *, enqueues: bool = True) -> set[str]:
    """The project modules `path` imports, inside functions too. Without `enqueues`, leave out
    a tasks module imported inside a function: a service enqueuing a task after commit, the one
    way round the circle every Celery project has (tasks call services, services enqueue
    tasks)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()

    def walk(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            found = []
            if isinstance(child, ast.Import):
                found = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                # `from dsr import outbox` imports the module dsr.outbox.
                found = [child.module, *(f"{child.module}.{a.name}" for a in child.names)]
            for name in found:
                if enqueues or not (in_function and name.endswith(".tasks")):
                    names.add(name)
            walk(child, inner)

    walk(tree, False)
    return {name for name in names if name in MODULES}


def _app(module: str) -> str:
    return module.split(".")[0]


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A circle in `graph`, as the nodes along it, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_register_imports_no_feature_app():
    wrong = sorted(
        f"{module} imports {target}"
        for module, path in MODULES.items()
        if _app(module) == "dsr"
        for target in _imports(path)
        if _app(target) in FEATURES
    )
    assert wrong == []


def test_the_apps_import_each_other_without_a_circle():
    graph: dict[str, set[str]] = {app: set() for app in APPS}
    for module, path in MODULES.items():
        for target in _imports(path):
            if _app(target) != _app(module):
                graph[_app(module)].add(_app(target))
    assert _cycle(graph) is None


@pytest.mark.parametrize("app", APPS)
def test_no_module_imports_its_way_back_to_itself(app):
    graph = {
        module: {
            target
            for target in _imports(path, enqueues=False)
            # A package re-exporting its own modules is not a circle back to them.
            if target != module and not module.startswith(target + ".")
        }
        for module, path in MODULES.items()
        if _app(module) == app
    }
    assert _cycle(graph) is None


def test_the_walk_finds_a_wrong_way_arrow():
    """The check itself: a circle is found, and a register module importing an app would be."""
    assert _cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
    services = ROOT / "dsr" / "outbox" / "__init__.py"  # enqueues delivery inside a function
    assert "dsr.models" in _imports(services)
    assert "dsr.tasks" in _imports(services)
    assert "dsr.tasks" not in _imports(services, enqueues=False)
