"""Offline Bicep checks with tree-sitter-bicep: syntax errors and undefined names.

No Bicep compiler can run here, so this module does the two things a compiler would catch first:
a file that does not parse (ERROR or MISSING nodes, with positions) and a name that refers to
nothing (a misspelt parameter, variable, resource, module, function, loop variable or lambda
parameter). It also reads a file's declarations so tests can check module wiring across files.
Pure functions of the source text; no network, no disk except ``parse_file``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import tree_sitter_bicep
from tree_sitter import Language, Node, Parser, Tree

_PARSER = Parser(Language(tree_sitter_bicep.language()))

# Built-in functions of the az and sys namespaces (learn.microsoft.com .../bicep/bicep-functions),
# decorators, and the namespaces themselves.
_BUILTIN_FUNCTION_TABLE = """
    any array bool int json string concat contains empty first last length min max range skip take
    union intersection filter map reduce sort toObject flatten groupBy mapValue items objectKeys
    shallowMerge tryGet indexOf lastIndexOf join
    base64 base64ToJson base64ToString dataUri dataUriToString endsWith format guid newGuid padLeft
    replace split startsWith substring toLower toUpper trim uniqueString uri uriComponent
    uriComponentToString parseCidr cidrSubnet cidrHost dateTimeAdd dateTimeFromEpoch
    dateTimeToEpoch utcNow coalesce
    deployment environment loadFileAsBase64 loadJsonContent loadYamlContent loadTextContent
    readEnvironmentVariable externalInput
    managementGroup resourceGroup subscription tenant extensionResourceId
    managementGroupResourceId pickZones providers reference resourceId subscriptionResourceId
    tenantResourceId listKeys listAccountSas listServiceSas listSecrets
    secure description allowed minLength maxLength minValue maxValue metadata batchSize export
    sealed discriminator onlyIfNotExists
    az sys
"""
BUILTIN_FUNCTIONS: frozenset[str] = frozenset(_BUILTIN_FUNCTION_TABLE.split())

# Statements whose first identifier child is the name being declared.
_DECLARATIONS = frozenset(
    {
        "parameter_declaration",
        "variable_declaration",
        "resource_declaration",
        "module_declaration",
        "output_declaration",
        "type_declaration",
        "user_defined_function",
        "test_block",
    }
)


@dataclass(frozen=True)
class Problem:
    """One finding, with a 1-based position."""

    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.message}"


@dataclass(frozen=True)
class Declarations:
    """Top-level names declared in one Bicep file."""

    params: dict[str, bool] = field(default_factory=dict)  # name -> has a default value
    variables: frozenset[str] = frozenset()
    resources: frozenset[str] = frozenset()  # includes nested child resources
    modules: dict[str, str] = field(default_factory=dict)  # symbol -> module path
    outputs: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()
    functions: frozenset[str] = frozenset()
    imports: frozenset[str] = frozenset()

    @property
    def values(self) -> frozenset[str]:
        """Names an expression may refer to."""
        return (
            frozenset(self.params)
            | self.variables
            | self.resources
            | frozenset(self.modules)
            | self.imports
        )


def parse(source: bytes) -> Tree:
    return _PARSER.parse(source)


def parse_file(path: Path) -> Tree:
    return parse(path.read_bytes())


def _text(node: Node) -> str:
    return (node.text or b"").decode()


def _position(node: Node, message: str) -> Problem:
    row, column = node.start_point
    return Problem(row + 1, column + 1, message)


def _walk(node: Node) -> Iterator[Node]:
    yield node
    for child in node.children:
        yield from _walk(child)


def syntax_problems(tree: Tree) -> list[Problem]:
    """ERROR and MISSING nodes, in source order."""
    problems = []
    for node in _walk(tree.root_node):
        if node.is_missing:
            problems.append(_position(node, f"missing {node.type!r}"))
        elif node.type == "ERROR":
            problems.append(_position(node, f"syntax error near {_text(node)[:40]!r}"))
    return problems


def _declared_name(node: Node) -> str | None:
    for child in node.children:
        if child.type == "identifier":
            return _text(child)
    return None


def _string_content(node: Node) -> str:
    return "".join(_text(part) for part in node.children if part.type == "string_content")


def declarations(tree: Tree) -> Declarations:
    """The names each top-level statement (and each nested resource) declares."""
    params: dict[str, bool] = {}
    variables, resources, outputs, types, functions, imports = (
        set(),
        set(),
        set(),
        set(),
        set(),
        set(),
    )
    modules: dict[str, str] = {}
    for node in _walk(tree.root_node):
        name = _declared_name(node) if node.type in _DECLARATIONS else None
        if node.type == "parameter_declaration" and name:
            params[name] = any(child.type == "=" for child in node.children)
        elif node.type == "variable_declaration" and name:
            variables.add(name)
        elif node.type == "resource_declaration" and name:
            resources.add(name)
        elif node.type == "module_declaration" and name:
            path = next(child for child in node.children if child.type == "string")
            modules[name] = _string_content(path)
        elif node.type == "output_declaration" and name:
            outputs.add(name)
        elif node.type == "type_declaration" and name:
            types.add(name)
        elif node.type == "user_defined_function" and name:
            functions.add(name)
        elif node.type == "import_functionality":
            imports.update(_text(c) for c in node.children if c.type == "identifier")
    return Declarations(
        params=params,
        variables=frozenset(variables),
        resources=frozenset(resources),
        modules=modules,
        outputs=frozenset(outputs),
        types=frozenset(types),
        functions=frozenset(functions),
        imports=frozenset(imports),
    )


def _is_declaration_name(node: Node) -> bool:
    parent = node.parent
    if parent is None:
        return False
    if parent.type in _DECLARATIONS:
        first = next((c for c in parent.children if c.type == "identifier"), None)
        return first is not None and first.id == node.id
    # import aliases and user-defined function parameters declare names too
    return parent.type in {"import_functionality", "parameter"}


def _is_property_key(node: Node) -> bool:
    parent = node.parent
    return (
        parent is not None
        and parent.type == "object_property"
        and parent.children[0].id == node.id
        and len(parent.children) > 1
        and parent.children[1].type == ":"
    )


def _lambda_parameters(node: Node) -> set[str]:
    """Parameter names of a lambda: the identifiers before its `=>`."""
    names: set[str] = set()
    for child in node.children:
        if child.type == "=>":
            break
        names.update(_text(n) for n in _walk(child) if n.type == "identifier")
    return names


def _is_lambda_parameter(node: Node) -> bool:
    """True for an identifier that declares a lambda parameter (left of `=>`)."""
    current: Node | None = node
    while current is not None and current.parent is not None:
        parent = current.parent
        if parent.type == "lambda_expression":
            for child in parent.children:
                if child.type == "=>":
                    return False
                if child.id == current.id:
                    return True
            return False
        if parent.type not in {"parenthesized_expression", "arguments"}:
            return False
        current = parent
    return False


def _loop_names(node: Node) -> set[str]:
    """Names a `[for ...]` declares: `for x in`, or `for (x, i) in`."""
    names = set()
    for child in node.children:
        if child.type == "identifier" and child.prev_sibling and child.prev_sibling.type == "for":
            names.add(_text(child))
        elif child.type == "for_loop_parameters":
            names.update(
                _text(c) for c in child.children if c.type in {"loop_variable", "loop_enumerator"}
            )
    return names


def _is_loop_variable(node: Node) -> bool:
    previous = node.prev_sibling
    return previous is not None and previous.type == "for"


def undefined_names(tree: Tree) -> list[Problem]:
    """Identifiers that refer to no declaration, built-in function, loop variable or lambda
    parameter in scope. Property names after `.` and object keys are not references."""
    declared = declarations(tree)
    values = declared.values
    callables = BUILTIN_FUNCTIONS | declared.functions | declared.imports
    problems: list[Problem] = []

    def visit(node: Node, scope: frozenset[str]) -> None:
        if node.type == "for_statement":
            scope = scope | _loop_names(node)
        elif node.type == "arguments":
            # tree-sitter-bicep attaches a lambda's body partly outside the lambda node
            # (`x => x.key` parses as `(x => x).key`), so lambda parameters are in scope for
            # the whole argument list that holds the lambda.
            lambdas = [n for n in _walk(node) if n.type == "lambda_expression"]
            for lambda_node in lambdas:
                scope = scope | _lambda_parameters(lambda_node)
        elif node.type == "user_defined_function":
            parameters = next((c for c in node.children if c.type == "parameters"), None)
            if parameters is not None:
                scope = scope | {
                    _declared_name(p) or "" for p in parameters.children if p.type == "parameter"
                }
        if node.type == "identifier":
            check(node, scope)
        for child in node.children:
            visit(child, scope)

    def check(node: Node, scope: frozenset[str]) -> None:
        name = _text(node)
        parent = node.parent
        if (
            _is_declaration_name(node)
            or _is_property_key(node)
            or _is_lambda_parameter(node)
            or _is_loop_variable(node)
        ):
            return
        if (
            parent is not None
            and parent.type == "call_expression"
            and parent.children[0].id == node.id
        ):
            if name not in callables:
                problems.append(_position(node, f"unknown function {name!r}"))
            return
        if parent is not None and parent.type == "type":
            if name not in declared.types:
                problems.append(_position(node, f"unknown type {name!r}"))
            return
        if name not in values and name not in scope and name not in {"az", "sys"}:
            problems.append(_position(node, f"undefined name {name!r}"))

    visit(tree.root_node, frozenset())
    return problems


def module_outputs_used(tree: Tree) -> list[tuple[str, str, Problem]]:
    """(module symbol, output name, position) for each `<module>.outputs.<name>` expression."""
    declared = declarations(tree)
    found = []
    for node in _walk(tree.root_node):
        if node.type != "member_expression":
            continue
        inner = node.children[0]
        if inner.type != "member_expression" or inner.children[0].type != "identifier":
            continue
        symbol = _text(inner.children[0])
        if symbol in declared.modules and _text(inner.children[-1]) == "outputs":
            output = _text(node.children[-1])
            found.append((symbol, output, _position(node, f"{symbol}.outputs.{output}")))
    return found


def module_params_given(tree: Tree) -> dict[str, set[str]]:
    """Module symbol -> names of the params its `params: { ... }` object sets."""
    given: dict[str, set[str]] = {}
    for node in _walk(tree.root_node):
        if node.type != "module_declaration":
            continue
        symbol = _declared_name(node) or ""
        names: set[str] = set()
        body = next(
            c for c in node.children if c.type in {"object", "if_statement", "for_statement"}
        )
        for prop in _walk(body):
            if prop.type == "object_property" and _text(prop.children[0]) == "params":
                value = prop.children[-1]
                for entry in value.children:
                    if entry.type == "object_property":
                        names.add(_text(entry.children[0]))
                break
        given[symbol] = names
    return given
