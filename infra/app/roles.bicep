// Role assignments for the function's identity on the resources of this deployment, each on the one
// resource that needs it (never the resource group or subscription). The workspace that holds the
// Container Apps logs may live elsewhere: its assignment is in workspace-role.bicep.

@description('Principal (object) id of the function app\'s user-assigned identity.')
param principalId string

@description('Storage account used by the Functions host, the deployment package and the ledger.')
param storageAccountName string

@description('Key Vault holding the webhook URLs.')
param keyVaultName string

@description('Application Insights component receiving the function\'s telemetry.')
param applicationInsightsName string

// Built-in role definition ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
// Storage Blob Data Owner: read, write and lease blobs, including blob leases.
var storageBlobDataOwnerRoleId = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
// Key Vault Secrets User: read secret values, nothing else.
var keyVaultSecretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'
// Monitoring Metrics Publisher: send telemetry to an Application Insights with local auth disabled.
var monitoringMetricsPublisherRoleId = '3913510d-42f4-4e42-8a64-420c390055eb'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// The Functions host keeps the timer's singleton lock as a blob lease in azure-webjobs-hosts, the
// Flex deployment reads the package blob, and pullwatch reads and conditionally writes its ledger
// blob: all need blob data access; Owner (not Contributor) is what the host documents for leases.
resource storageBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, storageBlobDataOwnerRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwnerRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// App settings hold @Microsoft.KeyVault(...) references to the webhook URLs: the platform resolves
// them with keyVaultReferenceIdentity, which needs to read secret values on this vault only.
resource keyVaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, keyVaultSecretsUserRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Application Insights has local auth disabled, so telemetry is accepted only from an Entra
// identity holding Monitoring Metrics Publisher on the component.
resource monitoringMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, principalId, monitoringMetricsPublisherRoleId)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisherRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
