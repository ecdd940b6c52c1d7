"""Every Bicep file parses with tree-sitter-bicep and refers only to names that exist.

This stands in for the Bicep compiler, which cannot be installed here: CI runs `az bicep build`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.infra import bicep_syntax
from tests.infra.conftest import BICEP_FILES, INFRA

IDS = [path.relative_to(INFRA).as_posix() for path in BICEP_FILES]


def test_the_infra_has_a_main_file_and_modules() -> None:
    assert "main.bicep" in IDS
    assert {"app/function.bicep", "app/roles.bicep", "app/workspace-role.bicep"} <= set(IDS)


@pytest.mark.parametrize("path", BICEP_FILES, ids=IDS)
def test_parses_without_syntax_errors(path: Path) -> None:
    problems = bicep_syntax.syntax_problems(bicep_syntax.parse_file(path))
    assert not problems, [str(p) for p in problems]


@pytest.mark.parametrize("path", BICEP_FILES, ids=IDS)
def test_every_name_is_declared(path: Path) -> None:
    problems = bicep_syntax.undefined_names(bicep_syntax.parse_file(path))
    assert not problems, [str(p) for p in problems]


@pytest.mark.parametrize("path", BICEP_FILES, ids=IDS)
def test_modules_get_known_params_and_all_required_ones(path: Path) -> None:
    tree = bicep_syntax.parse_file(path)
    declared = bicep_syntax.declarations(tree)
    for symbol, given in bicep_syntax.module_params_given(tree).items():
        target = bicep_syntax.declarations(
            bicep_syntax.parse_file(path.parent / declared.modules[symbol])
        )
        assert given <= set(target.params), f"{symbol}: unknown params {given - set(target.params)}"
        required = {name for name, has_default in target.params.items() if not has_default}
        assert required <= given, f"{symbol}: required params not given {required - given}"


@pytest.mark.parametrize("path", BICEP_FILES, ids=IDS)
def test_module_outputs_used_exist(path: Path) -> None:
    tree = bicep_syntax.parse_file(path)
    declared = bicep_syntax.declarations(tree)
    for symbol, output, where in bicep_syntax.module_outputs_used(tree):
        target = bicep_syntax.declarations(
            bicep_syntax.parse_file(path.parent / declared.modules[symbol])
        )
        assert output in target.outputs, f"{where}: {declared.modules[symbol]} has no such output"


# Seeded mistakes in copies of the real files: each must be reported, so the checks above can fail.
SEEDED_TYPOS = [
    pytest.param(
        "main.bicep",
        "storageBlobEndpoint: storage.outputs",
        "storageBlobEndpoint: storge.outputs",
        "undefined name 'storge'",
        id="module-symbol",
    ),
    pytest.param(
        "main.bicep",
        "table: table\n",
        "table: tabel\n",
        "undefined name 'tabel'",
        id="param",
    ),
    pytest.param(
        "main.bicep",
        "toLower(uniqueString(",
        "toLower(uniqeString(",
        "unknown function 'uniqeString'",
        id="function",
    ),
    pytest.param(
        "app/roles.bicep",
        "scope: vault\n",
        "scope: valut\n",
        "undefined name 'valut'",
        id="resource-scope",
    ),
    pytest.param(
        "app/function.bicep",
        "value: identityClientId }",
        "value: identityClientID }",
        "undefined name 'identityClientID'",
        id="case",
    ),
    pytest.param(
        "app/function.bicep",
        "var appSettings = concat(baseAppSettings,",
        "var appSettings = concat(baseAppSetings,",
        "undefined name 'baseAppSetings'",
        id="variable",
    ),
]


@pytest.mark.parametrize(("file", "old", "new", "expected"), SEEDED_TYPOS)
def test_a_seeded_typo_is_reported(file: str, old: str, new: str, expected: str) -> None:
    source = (INFRA / file).read_text()
    assert old in source, "the seed no longer matches the file: update the test"
    tree = bicep_syntax.parse(source.replace(old, new, 1).encode())
    assert not bicep_syntax.syntax_problems(tree)  # still valid syntax: the name check catches it
    messages = [p.message for p in bicep_syntax.undefined_names(tree)]
    assert expected in messages


def test_a_seeded_module_output_typo_is_reported() -> None:
    source = (INFRA / "main.bicep").read_text()
    tree = bicep_syntax.parse(
        source.replace("identity.outputs.clientId", "identity.outputs.clientID", 1).encode()
    )
    identity_outputs = bicep_syntax.declarations(
        bicep_syntax.parse_file(INFRA / "app" / "identity.bicep")
    ).outputs
    missing = [
        output
        for symbol, output, _ in bicep_syntax.module_outputs_used(tree)
        if symbol == "identity" and output not in identity_outputs
    ]
    assert missing == ["clientID"]


def test_a_seeded_syntax_error_is_reported_with_its_position() -> None:
    source = (INFRA / "app" / "identity.bicep").read_text()
    broken = source.replace("location: location\n", "location: \n", 1)
    problems = bicep_syntax.syntax_problems(bicep_syntax.parse(broken.encode()))
    assert problems
    assert problems[0].line > 1


def test_loop_variables_and_lambda_parameters_are_in_scope_only_where_declared() -> None:
    source = b"""param items1 array
var byIndex = [for (item, i) in items1: { n: item.name, i: i }]
var plain = [for item in items1: item]
var names = map(items1, entry => entry.name)
var pairs = filter(items1, (entry, i) => entry.n == i)
func label(x string) string => '${x}-${length(items1)}'
var labelled = label('a')
var leaked = [item, entry, x]
"""
    messages = [p.message for p in bicep_syntax.undefined_names(bicep_syntax.parse(source))]
    assert messages == ["undefined name 'item'", "undefined name 'entry'", "undefined name 'x'"]
