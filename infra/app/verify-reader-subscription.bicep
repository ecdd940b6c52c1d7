// Reader for pullwatch's configuration check (Azure Resource Graph) on one subscription of
// main.bicep's verifyScopes, deployed only when a subscription id (not a resource group id) is given
// there: pullwatch assigns nothing at subscription scope by default.
targetScope = 'subscription'

@description('Principal (object) id of the function app\'s user-assigned identity.')
param principalId string

// Reader (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/general#reader):
// the action */read on everything in scope, role assignments included; no data actions, no secrets.
var readerRoleId = 'acdd72a7-3385-48ef-bd42-f606fba81ae7'

// Resource Graph answers with what the caller may read, so Reader here lets the check see every
// app, registry, network setting and role assignment of this subscription.
resource verifyReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, readerRoleId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', readerRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'pullwatch: read the configuration behind image-pull failures (Azure Resource Graph)'
  }
}
