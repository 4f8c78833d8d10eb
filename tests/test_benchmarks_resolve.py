"""`make bench` is not run by the suite, so a name it uses that moved elsewhere would only show at the
next bench run (benchmarks/clock once stopped at its first section that way).  Every section is
imported here, and every ``module.name`` it reads from a module it imported must exist."""

import ast
import importlib
import inspect
import pkgutil
import types

import pytest

import benchmarks

SECTIONS = sorted(name for _, name, _ in pkgutil.iter_modules(benchmarks.__path__))


def missing_names(module):
    """``module.name`` references in ``module``'s source whose module has no such name."""
    tree = ast.parse(inspect.getsource(module))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            target = vars(module).get(node.value.id)
            if isinstance(target, types.ModuleType) and not hasattr(target, node.attr):
                found.append("%s.%s (line %d)" % (node.value.id, node.attr, node.lineno))
    return found


def test_every_section_is_found():
    assert {"server", "firmware", "clock", "otp"} <= set(SECTIONS)


@pytest.mark.parametrize("section", SECTIONS)
def test_a_section_imports_and_names_only_what_exists(section):
    module = importlib.import_module("benchmarks." + section)
    assert missing_names(module) == []
    assert section.startswith("_") or callable(getattr(module, "main", None))


def test_a_moved_name_is_found(tmp_path, monkeypatch):
    """The check itself: a module naming a function its import no longer has."""
    (tmp_path / "moved_name_probe.py").write_text("import json\n\n\ndef main():\n    return json.offset(1)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert missing_names(importlib.import_module("moved_name_probe")) == ["json.offset (line 5)"]
