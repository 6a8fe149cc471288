"""Every decision that reads a role is a named policy in `siaga112.auth.permissions`.

Outside `auth/`, Python code never compares a role (`who.role == "admin"`, `row.role in {...}`,
`Role.ADMIN`), and templates never read `who.role`: they ask `can.*`.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import siaga112
from siaga112.auth.principal import Role

PACKAGE = Path(siaga112.__file__).parent
ROLE_VALUES = {r.value for r in Role}
# `who.role == ...`, `who.role in (...)`, `... == who.role`: a decision, not a label shown.
TEMPLATE_ROLE_TEST = re.compile(r"\bwho\.role\s*(==|!=|\bin\b|\bnot\b)|(==|!=|\bin)\s*who\.role\b")


def _mentions_role(node: ast.AST) -> bool:
    """A user role in an expression: a role literal, a Role member, or `<someone>.role`."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and sub.value in ROLE_VALUES:
            return True
        if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id == "Role":
            return True
    return False


def _reads_principal_role(node: ast.AST) -> bool:
    return any(isinstance(sub, ast.Attribute) and sub.attr == "role" and isinstance(sub.value, ast.Name)
               and sub.value.id in ("who", "principal", "user", "me", "actor")
               for sub in ast.walk(node))


def role_comparisons(source: str) -> list[int]:
    """Lines of `source` that compare a role."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if _reads_principal_role(node) or (
                    any(isinstance(s, ast.Attribute) and s.attr == "role" for s in sides)
                    and any(_mentions_role(s) for s in sides)):
                found.append(node.lineno)
    return found


def test_no_role_is_compared_outside_auth():
    offenders = {}
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in ("auth", "migrations"):
            continue
        lines = role_comparisons(path.read_text(encoding="utf-8"))
        if lines:
            offenders[str(relative)] = lines
    assert offenders == {}, f"role comparisons outside auth/ (use auth.permissions): {offenders}"


def test_no_template_decides_by_the_role():
    offenders = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.html")
                 if TEMPLATE_ROLE_TEST.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_check_sees_role_comparisons():
    assert role_comparisons('if who.role == "admin": pass') == [1]
    assert role_comparisons('x = row.role in ("commander", "admin")') == [1]
    assert role_comparisons("ok = user.role != Role.VIEWER") == [1]
    # Assignment and agency roles are not user roles.
    assert role_comparisons('lead = a.role == "lead" or agency.role == "operator"') == []
    assert TEMPLATE_ROLE_TEST.search('{% if who.role == "admin" %}')
    assert TEMPLATE_ROLE_TEST.search('{% if who.role in ("a", "b") %}')
    assert not TEMPLATE_ROLE_TEST.search("{{ role_labels[who.role] }}")
