// Read access to the EXISTING Log Analytics workspace that holds the Container Apps system logs,
// limited to the tables pullwatch queries. Deployed as a module scoped to that workspace's resource
// group (possibly another subscription), so the assignment sits on the workspace alone.

@description('Name of the existing Log Analytics workspace (in this module\'s resource group).')
param workspaceName string

@description('Principal (object) id of the function app\'s user-assigned identity.')
param principalId string

@description('tables: Log Analytics Data Reader with a condition that lets it read only the tables in readableTables (least privilege). reader: Log Analytics Reader on the workspace, every table and */read (fallback).')
@allowed([
  'tables'
  'reader'
])
param logAnalyticsAccess string = 'tables'

// Built-in role definition ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/monitor).
// Log Analytics Data Reader: actions workspaces/read and workspaces/query/read, data action
// workspaces/tables/data/read (the data itself, which a role assignment condition can narrow).
var logAnalyticsDataReaderRoleId = '3b03c2da-16b3-4a49-8834-0f8130efdd3b'
// Log Analytics Reader: */read on everything in scope, query and search on every table, support cases.
var logAnalyticsReaderRoleId = '73c42c96-874c-492b-b04d-ab87d138a893'

// The tables pullwatch queries: the two Container Apps system-log tables (PULLWATCH_TABLE) and the
// Activity Log table. Names are case-sensitive in the condition.
var readableTables = [
  'ContainerAppSystemLogs_CL'
  'ContainerAppSystemLogs'
  'AzureActivity'
]

// Granular RBAC ("Manage table-level access", https://learn.microsoft.com/azure/azure-monitor/logs/manage-table-access,
// and https://learn.microsoft.com/azure/azure-monitor/logs/granular-rbac-use-case): any action other than
// reading table data passes, reading table data passes only for the tables above. The legacy per-table
// actions (workspaces/query/<table>/read) cannot name one custom table such as ContainerAppSystemLogs_CL,
// only all of them (workspaces/query/Tables.Custom/read), so the condition is the only way to list it.
var tableNameIsReadable = [for table in readableTables: '@Resource[Microsoft.OperationalInsights/workspaces/tables:name] StringEquals \'${table}\'']
var tableReadCondition = '((!(ActionMatches{\'Microsoft.OperationalInsights/workspaces/tables/data/read\'})) OR (${join(tableNameIsReadable, ' OR ')}))'

resource watchedWorkspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

// Least privilege (default): query the workspace, read the data of readableTables only.
resource tableReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (logAnalyticsAccess == 'tables') {
  name: guid(watchedWorkspace.id, principalId, logAnalyticsDataReaderRoleId)
  scope: watchedWorkspace
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', logAnalyticsDataReaderRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'pullwatch: read only the tables ${join(readableTables, ', ')}'
    condition: tableReadCondition
    conditionVersion: '2.0'
  }
}

// Fallback for workspaces where conditions cannot be used: every table of this workspace, no more.
resource workspaceReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (logAnalyticsAccess == 'reader') {
  name: guid(watchedWorkspace.id, principalId, logAnalyticsReaderRoleId)
  scope: watchedWorkspace
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', logAnalyticsReaderRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
