"""The shape of app/, read from the code's own imports (ast; nothing is imported or run): no import cycles,
small modules, few modules at the top beside the capability packages, the request only in the web layer,
a docstring on every package, and README's "How it is built" tree equal to the real one."""
import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"
SKIPPED_FOLDERS = {"static", "templates", "translations", "__pycache__"}
MAX_LINES = 400
MAX_TOP_MODULES = 10
MIN_PACKAGES = 3
REQUEST_GLOBALS = {"request", "g", "session"}
WEB_LAYER = ("app.views", "app.web")  # the only places that may know about the request


def python_files() -> list[Path]:
    return sorted(path for path in APP.rglob("*.py")
                  if not SKIPPED_FOLDERS & set(path.relative_to(APP).parts[:-1]))


def module_name(path: Path) -> str:
    parts = ("app", *path.relative_to(APP).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in python_files()}


def is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def imported_modules(name: str, tree: ast.Module) -> set[str]:
    """Modules of app/ that ``name`` imports anywhere in its file, function bodies included."""
    package = name if is_package(name) else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            # `from .pkg import sub` imports the module pkg.sub when there is one, else a name of pkg.
            subs = {f"{base}.{alias.name}" for alias in node.names} & MODULES.keys()
            found |= subs or {base}
    return {module for module in found if module in MODULES and module != name}


def parsed(name: str) -> ast.Module:
    return ast.parse(MODULES[name].read_text(), filename=str(MODULES[name]))


def import_graph() -> dict[str, set[str]]:
    return {name: imported_modules(name, parsed(name)) for name in MODULES}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], [0]
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_layout_checks_see_the_whole_app():
    assert {"app", "app.config", "app.models", "app.views", "app.web"} <= MODULES.keys()
    graph = import_graph()
    assert "app.config" in graph["app"] and "app.errors" in graph["app.pagination"]
    assert "app.views" in graph["app"]  # found inside create_app's body


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_between_modules():
    assert cycles(import_graph()) == []


def test_no_module_is_over_400_lines():
    sizes = {name: len(path.read_text().splitlines()) for name, path in MODULES.items()}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def test_few_modules_at_the_top_beside_capability_packages():
    top = [path.name for path in APP.glob("*.py")]
    packages = [path.parent.name for path in APP.glob("*/__init__.py") if path.parent.name != "views"]
    assert len(top) <= MAX_TOP_MODULES, sorted(top)
    assert len(packages) >= MIN_PACKAGES, sorted(packages)


def flask_globals_used(tree: ast.Module) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "flask":
            found |= {alias.name for alias in node.names} & REQUEST_GLOBALS
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and node.value.id == "flask" and node.attr in REQUEST_GLOBALS):
            found.add(node.attr)
    return found


def test_request_g_and_session_only_in_the_web_layer():
    outside = {name: sorted(used) for name in MODULES
               if not name.startswith(WEB_LAYER) and (used := flask_globals_used(parsed(name)))}
    assert outside == {}


def test_every_package_says_what_it_holds():
    bare = [name for name in MODULES if is_package(name) and not ast.get_docstring(parsed(name))]
    assert bare == []


# -- README's "How it is built" ------------------------------------------------------------------------

def readme_tree(readme: str) -> set[str]:
    """Paths under app/ that README's tree lists: `pkg/` for a folder, `pkg/mod.py` for a module; lines are
    `name  what it holds`, two spaces of indentation a level. Non-Python files and the folders the real
    tree ignores (static/, templates/ ...) are ignored here too."""
    section = readme.split("\n## How it is built", 1)
    assert len(section) == 2, 'README.md has no "## How it is built" heading'
    block = re.search(r"^```[^\n]*\n(.*?)^```", section[1], re.DOTALL | re.MULTILINE)
    assert block, 'no fenced code block after "## How it is built"'
    listed, folders = set(), []
    for line in block.group(1).splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        assert indent % 2 == 0, f"indentation is two spaces a level: {line!r}"
        name = line.split()[0]
        folders = folders[:indent // 2]
        parts = [*folders, name.rstrip("/")]
        if name.endswith("/"):
            folders.append(name.rstrip("/"))
        if parts[0] != "app" or len(parts) == 1 or SKIPPED_FOLDERS & set(parts):
            continue
        if name.endswith("/") or name.endswith(".py"):
            listed.add("/".join(parts[1:]) + ("/" if name.endswith("/") else ""))
    return listed


def real_tree() -> set[str]:
    paths = set()
    for path in python_files():
        relative = path.relative_to(APP)
        paths.update("/".join(relative.parts[:i + 1]) + "/" for i in range(len(relative.parts) - 1))
        if relative.name != "__init__.py" or len(relative.parts) == 1:  # a package's own: its folder line
            paths.add(relative.as_posix())
    return paths


@pytest.mark.parametrize("tree, expected", [
    ("app/\n  __init__.py     factory\n  web/            the web\n    caller.py     who calls\n"
     "  models.py       tables\nmigrations/       revisions\n  env.py  alembic\n",
     {"__init__.py", "web/", "web/caller.py", "models.py"}),
    ("app/\n  views/          blueprints\n    health.py     x\n  static/         assets\n    widget/\n"
     "      thread.js   js\n  templates/\n  babel.cfg       not python\ntests/\n",
     {"views/", "views/health.py"}),
])
def test_reading_the_readme_tree(tree, expected):
    readme = f"# X\n\n## How it is built\n\nSome words.\n\n```\n{tree}```\n\n```\napp/\n  other.py\n```\n"
    assert readme_tree(readme) == expected


def test_the_real_tree_holds_packages_and_modules():
    real = real_tree()
    assert {"__init__.py", "views/", "web/", "discussion/tree.py"} <= real and "views/__init__.py" not in real
    assert not [path for path in real if path.startswith(("static/", "templates/"))]


def test_readme_tree_is_the_real_tree():
    """README's tree is written by hand: it must list every module and package of app/, and no other."""
    listed, real = readme_tree((ROOT / "README.md").read_text()), real_tree()
    assert {"missing from README": sorted(real - listed), "in README, not in app/": sorted(listed - real)} == {
        "missing from README": [], "in README, not in app/": []}
