"""Reader for the configuration check (Azure Resource Graph) on the scopes of `verifyScopes` only.

`verifyScopes` is a string of resource group or subscription ids; `main.bicep` splits it into two
lists and deploys `app/verify-reader.bicep` to each resource group and
`app/verify-reader-subscription.bicep` to each subscription. No Bicep compiler runs here, so the
split is evaluated from the parsed Bicep (pycep's tree of its `filter`, `split`, `replace`, ...
calls) by a small interpreter of exactly those functions, and the modules' scopes the same way.
The guide's permission commands for a verify scope run through the real Azure CLI.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.infra import azcli
from tests.infra.conftest import INFRA, REPO

Json = dict[str, Any]
# Reader (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/general#reader)
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
SUB_A = "/subscriptions/11111111-2222-3333-4444-555555555555"
SUB_B = "/subscriptions/66666666-7777-8888-9999-000000000000"
READER_FILES = {
    "app/verify-reader.bicep": "resourceGroup",
    "app/verify-reader-subscription.bicep": "subscription",
}

_ESCAPES = {"\\r": "\r", "\\n": "\n", "\\t": "\t", "\\'": "'", "\\\\": "\\"}


def _literal(text: str) -> str:
    """pycep keeps Bicep's escapes (`'\\n'` is two characters): the deployed string has none."""
    return re.sub(r"\\[rnt'\\]", lambda m: _ESCAPES[m.group(0)], text)


def evaluate(node: Any, names: Mapping[str, Any]) -> Any:
    """The value of a pycep expression using only the functions the verify split needs."""
    if isinstance(node, str):
        return names[node] if node in names else _literal(node)
    if isinstance(node, bool | int):
        return node
    if "function" in node:
        kind, args = node["function"]["type"], node["function"]["parameters"]
        if kind == "filter":
            items = evaluate(args["input_array"], names)
            detail = args["expression"]["detail"]
            return [
                item
                for item in items
                if evaluate(detail["expression"], {**names, detail["var_1"]: item})
            ]
        values = [evaluate(v, names) for v in args.values()]
        functions = {
            "replace": lambda text, old, new: text.replace(old, new),
            "split": lambda text, delimiter: text.split(delimiter),
            "empty": lambda value: len(value) == 0,
            "contains": lambda container, item: item in container,
            "to_lower": lambda text: text.lower(),
        }
        return functions[kind](*values)
    operator = node["operator"]
    operands = [evaluate(v, names) for v in operator["operands"].values()]
    if operator["type"] == "not":
        return not operands[0]
    if operator["type"] == "index_accessor":
        return operands[0][operands[1]]
    raise AssertionError(f"not interpreted here: {operator['type']}")


@pytest.fixture(scope="module")
def main(bicep_json: dict[str, Json]) -> Json:
    return bicep_json["main.bicep"]


def split(main: Json, verify_scopes: str) -> tuple[list[str], list[str]]:
    """(resource group ids, subscription ids) that main.bicep deploys Reader to."""
    variables = main["variables"]
    names: dict[str, Any] = {"verifyScopes": verify_scopes}
    for name in ("verifyScopeIds", "verifyResourceGroupIds", "verifySubscriptionIds"):
        names[name] = evaluate(variables[name]["value"], names)
    return names["verifyResourceGroupIds"], names["verifySubscriptionIds"]


def test_the_parameter_is_optional_and_empty_assigns_nothing(main: Json) -> None:
    param = main["parameters"]["verifyScopes"]
    assert param["type"] == "string" and param["default"] == ""
    assert split(main, "") == ([], [])
    given = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert given["verifyScopes"]["value"] == "${VERIFY_SCOPES=}"


@pytest.mark.parametrize(
    ("verify_scopes", "groups", "subscriptions"),
    [
        (f"{SUB_A}/resourceGroups/rg-apps", [f"{SUB_A}/resourceGroups/rg-apps"], []),
        (
            f"{SUB_A}/resourceGroups/rg-apps, {SUB_B}\r\n\t{SUB_A}/resourcegroups/rg-net,",
            [f"{SUB_A}/resourceGroups/rg-apps", f"{SUB_A}/resourcegroups/rg-net"],
            [SUB_B],
        ),
        (f"  {SUB_B}  ", [], [SUB_B]),
    ],
    ids=["one-group", "mixed-separators", "subscription-only"],
)
def test_scopes_are_split_into_resource_groups_and_subscriptions(
    main: Json, verify_scopes: str, groups: list[str], subscriptions: list[str]
) -> None:
    assert split(main, verify_scopes) == (groups, subscriptions)


def _module(main: Json, symbol: str) -> Json:
    return main["modules"][symbol]  # type: ignore[no-any-return]


def test_each_resource_group_gets_its_own_module_deployed_there(main: Json) -> None:
    module = _module(main, "verifyReaderOnResourceGroups")
    assert module["detail"]["path"] == "app/verify-reader.bicep"
    loop = module["config"]["loop_type"]["detail"]
    assert loop["array_name"] == "verifyResourceGroupIds"
    scope = module["config"]["config"]["scope"]["function"]
    assert scope["type"] == "resource_group"
    names = {loop["item_name"]: f"{SUB_B}/resourceGroups/rg-registry"}
    assert evaluate(scope["parameters"]["subscription_id"], names) == SUB_B.rsplit("/", 1)[1]
    assert evaluate(scope["parameters"]["resource_group_name"], names) == "rg-registry"
    assert "identity.outputs.principalId" in _dotted(module["config"]["config"]["params"])


def test_a_subscription_gets_a_module_only_when_its_id_is_listed(main: Json) -> None:
    module = _module(main, "verifyReaderOnSubscriptions")
    assert module["detail"]["path"] == "app/verify-reader-subscription.bicep"
    loop = module["config"]["loop_type"]["detail"]
    assert loop["array_name"] == "verifySubscriptionIds"
    scope = module["config"]["config"]["scope"]["function"]
    assert scope["type"] == "subscription"
    names = {loop["item_name"]: SUB_A}
    assert evaluate(scope["parameters"]["subscription_id"], names) == SUB_A.rsplit("/", 1)[1]
    assert "identity.outputs.principalId" in _dotted(module["config"]["config"]["params"])


def _dotted(params: Json) -> str:
    """`identity.outputs.principalId` for pycep's nested property accessors."""
    value = params["principalId"]["operator"]["operands"]
    inner = value["operand_2"]["operator"]["operands"]
    return f"{value['operand_1']}.{inner['operand_1']}.{inner['operand_2']}"


@pytest.mark.parametrize(("file", "target"), READER_FILES.items())
def test_each_module_assigns_reader_at_its_own_scope_and_nothing_else(
    bicep_json: dict[str, Json], file: str, target: str
) -> None:
    tree = bicep_json[file]
    assert tree["globals"].get("scope", {}).get("value", "resourceGroup") == target
    [(symbol, resource)] = tree["resources"].items()
    assert resource["type"] == "Microsoft.Authorization/roleAssignments"
    body = resource["config"]
    assert "scope" not in body  # the module's scope: that resource group or subscription
    role_var = body["properties"]["roleDefinitionId"]["function"]["parameters"]["resource_name_1"]
    assert tree["variables"][role_var]["value"] == READER
    assert body["properties"]["principalType"] == "ServicePrincipal"
    guid = body["name"]["function"]
    assert guid["type"] == "guid"
    base, *rest = guid["parameters"].values()
    scope_function = base["operator"]["operands"]["operand_1"]["function"]["type"]
    assert scope_function == {"resourceGroup": "resource_group"}.get(target, target)
    assert rest == ["principalId", role_var]
    lines = (INFRA / file).read_text().splitlines()
    number = next(i for i, line in enumerate(lines) if line.startswith(f"resource {symbol} "))
    assert lines[number - 1].startswith("//"), f"{file}: say why"


# --- the deployer's rights on a verify scope, from the guide --------------------------------------

GUIDE = REPO / "docs" / "deploy.md"
DEPLOYER = "99999999-8888-7777-6666-555555555555"
SCOPE = f"{SUB_A}/resourceGroups/rg-apps"


@pytest.fixture(scope="module")
def scope_calls(tmp_path_factory: pytest.TempPathFactory, az_cache: Path) -> list[azcli.AzCall]:
    section = GUIDE.read_text().split("### Configuration check (Resource Graph)\n", 1)[1]
    section = section.split("\n### ", 1)[0]
    [script] = re.findall(r"```bash\n(.*?)```", section, re.DOTALL)
    script = script.replace("/subscriptions/<sub>/resourceGroups/<rg-of-apps-or-registries>", SCOPE)
    assert "<" not in script, "an unfilled placeholder is left in the block"
    run = azcli.record_shell(
        "set -eu\n" + script,
        tmp_path_factory.mktemp("az"),
        answers=[(["ad", "signed-in-user", "show"], [(DEPLOYER + "\n", 0)])],
        cache=az_cache,
    )
    assert run.returncode == 0, run.stderr
    return run.calls


def test_the_guide_grants_deployments_and_reader_only_on_the_scope(
    scope_calls: list[azcli.AzCall],
) -> None:
    assignments = [c for c in scope_calls if c.argv[:3] == ["role", "assignment", "create"]]
    assert len(assignments) == 2
    for call in scope_calls:
        assert call.parses, (call.argv, call.stderr[-500:])

    def option(call: azcli.AzCall, name: str) -> str:
        return call.argv[call.argv.index(name) + 1]

    assert {option(c, "--role"): option(c, "--scope") for c in assignments} == {
        "pullwatch workspace deployer": SCOPE,
        "Role Based Access Control Administrator": SCOPE,
    }
    [rbac] = [c for c in assignments if "--condition" in c.argv]
    condition = option(rbac, "--condition")
    for attribute in ("@Request", "@Resource"):
        found = re.search(
            re.escape(attribute) + r"\[Microsoft\.Authorization/roleAssignments:RoleDefinitionId\] "
            r"ForAnyOfAnyValues:GuidEquals \{([^}]*)\}",
            condition,
        )
        assert found and found[1].strip() == READER, attribute
