// Read access to the EXISTING Log Analytics workspace that holds the Container Apps system logs.
// Deployed as a module scoped to that workspace's resource group (possibly another subscription), so
// the assignment sits on the workspace alone.

@description('Name of the existing Log Analytics workspace (in this module\'s resource group).')
param workspaceName string

@description('Principal (object) id of the function app\'s user-assigned identity.')
param principalId string

// Log Analytics Reader: run queries and read workspace data; no write or settings access.
// (Built-in role id, https://learn.microsoft.com/azure/role-based-access-control/built-in-roles.)
var logAnalyticsReaderRoleId = '73c42c96-874c-492b-b04d-ab87d138a893'

resource watchedWorkspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

// pullwatch queries ContainerAppSystemLogs(_CL) in this workspace and nothing else: reader on the
// workspace, not on its resource group or subscription.
resource logAnalyticsReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(watchedWorkspace.id, principalId, logAnalyticsReaderRoleId)
  scope: watchedWorkspace
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', logAnalyticsReaderRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output roleAssignmentId string = logAnalyticsReader.id
