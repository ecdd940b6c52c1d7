// Reader for pullwatch's configuration check (Azure Resource Graph) on one resource group of
// main.bicep's verifyScopes: a group that holds watched container apps, their registries, VNets or
// private DNS zones. Deployed as a module scoped to that resource group (possibly in another
// subscription), so the role applies to that group alone.

@description('Principal (object) id of the function app\'s user-assigned identity.')
param principalId string

// Reader (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/general#reader):
// the action */read on everything in scope, role assignments included; no data actions, no secrets.
var readerRoleId = 'acdd72a7-3385-48ef-bd42-f606fba81ae7'

// Resource Graph answers with what the caller may read, so Reader here lets the check see this
// group's apps, registries, network settings and role assignments.
resource verifyReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, principalId, readerRoleId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', readerRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'pullwatch: read the configuration behind image-pull failures (Azure Resource Graph)'
  }
}
