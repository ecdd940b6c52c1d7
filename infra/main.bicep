// pullwatch: an Azure Function (Flex Consumption, Python 3.11) that reads Container Apps system logs
// from an existing Log Analytics workspace and alerts Teams / Slack about image-pull failures.
// Deploy with `azd up`, or `az deployment group create --template-file infra/main.bicep` (docs/deploy.md).
targetScope = 'resourceGroup'

@minLength(1)
@maxLength(64)
@description('Name of the environment (azd AZURE_ENV_NAME); seeds resource names and the azd-env-name tag.')
param environmentName string

// Regions with Flex Consumption, as Microsoft lists them in the @allowed list of its Flex azd
// templates (Azure-Samples/functions-quickstart-dotnet-azd infra/main.bicep, commit 9633052 of
// 2026-02-21; the same list in functions-quickstart-python-azd-timer and
// functions-quickstart-python-http-azd). The live list: `az functionapp list-flexconsumption-locations`
// (https://learn.microsoft.com/azure/azure-functions/flex-consumption-how-to#view-currently-supported-regions).
// eastus2euap is Microsoft's early-access region (only for enrolled subscriptions).
@minLength(1)
@description('Azure region of the new resources; must offer Flex Consumption.')
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'eastus2euap'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@metadata({
  azd: {
    type: 'location'
  }
})
param location string = resourceGroup().location

@description('Resource id of the EXISTING Log Analytics workspace holding the Container Apps system logs (/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.OperationalInsights/workspaces/<name>); may be in another resource group or subscription.')
param logAnalyticsWorkspaceId string

@description('How the app may read the watched workspace. tables (default): Log Analytics Data Reader with a condition allowing only ContainerAppSystemLogs_CL, ContainerAppSystemLogs and AzureActivity. reader: Log Analytics Reader (every table and */read on the workspace), the fallback where role assignment conditions cannot be used.')
@allowed([
  'tables'
  'reader'
])
param logAnalyticsAccess string = 'tables'

@description('Resource ids of the resource groups (/subscriptions/<id>/resourceGroups/<name>) or subscriptions (/subscriptions/<id>) that hold the watched container apps, their registries, VNets and private DNS zones, separated by commas, spaces or newlines. The app\'s identity gets Reader on each, for the configuration check in Azure Resource Graph (PULLWATCH_VERIFY). Empty (default): no role is assigned, and alerts say the configuration could not be checked.')
param verifyScopes string = ''

@secure()
@description('Teams Workflows webhook URLs, comma or newline separated (stored in Key Vault); empty: no Teams alerts.')
param teamsWebhookUrls string = ''

@secure()
@description('Slack incoming webhook URLs, comma or newline separated (stored in Key Vault); empty: no Slack alerts.')
param slackWebhookUrls string = ''

@secure()
@description('Generic JSON webhook URLs (schema pullwatch.alert/v1), comma or newline separated (stored in Key Vault); empty: none.')
param genericWebhookUrls string = ''

@secure()
@description('PagerDuty Events API v2 integration keys, name=key, comma or newline separated (stored in Key Vault); empty: no PagerDuty.')
param pagerDutyRoutingKeys string = ''

@description('PULLWATCH_PAGERDUTY_EVENTS_URL: the Events API v2 endpoint; empty: the default (https://events.pagerduty.com/v2/enqueue).')
param pagerDutyEventsUrl string = ''

@description('PULLWATCH_ROUTES: routes as JSON (or the path of a JSON file in the app); empty: every alert to every channel.')
param routes string = ''

@description('PULLWATCH_SCHEDULE: timer schedule, 6-field NCRONTAB in UTC.')
param schedule string = '0 */5 * * * *'

@description('PULLWATCH_LOOKBACK: TimeGenerated lookback added to the ingestion-time watermark.')
param lookback string = '60m'

@description('PULLWATCH_REPEAT_INTERVAL: remind about a still-failing revision after this long; 0 = never.')
param repeatInterval string = '4h'

@description('PULLWATCH_TABLE: which system-log table to read.')
@allowed([
  'auto'
  'ContainerAppSystemLogs_CL'
  'ContainerAppSystemLogs'
])
param table string = 'auto'

@description('PULLWATCH_SUBSCRIPTION_ID: subscription of the Container Apps, for portal links; empty: not set.')
param containerAppsSubscriptionId string = ''

@description('PULLWATCH_RESOURCE_GROUP: resource group of the Container Apps, for portal links; empty: not set.')
param containerAppsResourceGroup string = ''

@description('Email address told when pullwatch itself stops working (no successful tick in 30 minutes, or 3 failed ticks in a row): a log search alert rule and an action group; empty: neither is deployed.')
param alertEmail string = ''

var tags = {
  'azd-env-name': environmentName
}
var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))

// /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.OperationalInsights/workspaces/<name>
var workspaceIdSegments = split(logAnalyticsWorkspaceId, '/')
var workspaceSubscriptionId = workspaceIdSegments[2]
var workspaceResourceGroupName = workspaceIdSegments[4]
var workspaceName = last(workspaceIdSegments)

// verifyScopes as a list of ids, split by kind: a resource group id has a resourceGroups segment
// (/subscriptions/<id>/resourceGroups/<name>), a subscription id does not (/subscriptions/<id>).
var verifyScopeIds = filter(split(replace(replace(replace(replace(verifyScopes, '\r', ' '), '\n', ' '), '\t', ' '), ',', ' '), ' '), id => !empty(id))
var verifyResourceGroupIds = filter(verifyScopeIds, id => contains(toLower(id), '/resourcegroups/'))
var verifySubscriptionIds = filter(verifyScopeIds, id => !contains(toLower(id), '/resourcegroups/'))

var deploymentContainerName = 'app-package-${resourceToken}'
var ledgerContainerName = 'pullwatch'
var ledgerBlobName = 'ledger.json'

// The watched workspace, read for its customerId (the GUID the query API takes).
resource watchedWorkspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
  scope: resourceGroup(workspaceSubscriptionId, workspaceResourceGroupName)
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  params: {
    name: 'id-pullwatch-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  params: {
    name: 'stpw${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    ledgerContainerName: ledgerContainerName
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: 'log-pullwatch-${resourceToken}'
    applicationInsightsName: 'appi-pullwatch-${resourceToken}'
    location: location
    tags: tags
  }
}

module keyVault 'app/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    name: 'kv-pw-${resourceToken}'
    location: location
    tags: tags
    teamsWebhookUrls: teamsWebhookUrls
    slackWebhookUrls: slackWebhookUrls
    genericWebhookUrls: genericWebhookUrls
    pagerDutyRoutingKeys: pagerDutyRoutingKeys
  }
}

module roles 'app/roles.bicep' = {
  name: 'roles'
  params: {
    principalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
  }
}

// The watched workspace may be in another resource group or subscription: its read access is
// deployed there, on the workspace only (the deployer needs Microsoft.Resources/deployments/* on that
// resource group: docs/deploy.md, "Who can deploy").
module workspaceRole 'app/workspace-role.bicep' = {
  name: 'workspace-role-${resourceToken}'
  scope: resourceGroup(workspaceSubscriptionId, workspaceResourceGroupName)
  params: {
    workspaceName: workspaceName
    principalId: identity.outputs.principalId
    logAnalyticsAccess: logAnalyticsAccess
  }
}

// Reader for the configuration check (Azure Resource Graph) on each scope of verifyScopes, deployed
// there (possibly in other subscriptions): on resource groups, or on a subscription only when its id
// is given. The deployer needs role-assignment rights on each (docs/deploy.md, "Configuration check").
module verifyReaderOnResourceGroups 'app/verify-reader.bicep' = [for (scopeId, i) in verifyResourceGroupIds: {
  name: 'verify-reader-${i}-${resourceToken}'
  scope: resourceGroup(split(scopeId, '/')[2], split(scopeId, '/')[4])
  params: {
    principalId: identity.outputs.principalId
  }
}]

module verifyReaderOnSubscriptions 'app/verify-reader-subscription.bicep' = [for (scopeId, i) in verifySubscriptionIds: {
  name: 'verify-reader-sub-${i}-${resourceToken}'
  scope: subscription(split(scopeId, '/')[2])
  params: {
    principalId: identity.outputs.principalId
  }
}]

module functionApp 'app/function.bicep' = {
  name: 'function'
  params: {
    name: 'func-pullwatch-${resourceToken}'
    planName: 'plan-pullwatch-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    workspaceIds: watchedWorkspace.properties.customerId
    table: table
    schedule: schedule
    lookback: lookback
    repeatInterval: repeatInterval
    ledgerContainerName: storage.outputs.ledgerContainerName
    ledgerBlobName: ledgerBlobName
    containerAppsSubscriptionId: containerAppsSubscriptionId
    containerAppsResourceGroup: containerAppsResourceGroup
    // Versionless secret URIs, only for the webhooks that were given (no empty references).
    teamsWebhookVaultUri: empty(teamsWebhookUrls) ? '' : keyVault.outputs.teamsWebhookUrlsUri
    slackWebhookVaultUri: empty(slackWebhookUrls) ? '' : keyVault.outputs.slackWebhookUrlsUri
    genericWebhookVaultUri: empty(genericWebhookUrls) ? '' : keyVault.outputs.genericWebhookUrlsUri
    pagerDutyRoutingKeysVaultUri: empty(pagerDutyRoutingKeys) ? '' : keyVault.outputs.pagerDutyRoutingKeysUri
    pagerDutyEventsUrl: pagerDutyEventsUrl
    routes: routes
  }
  // Roles first: the host needs blob access and the Key Vault references need the secrets role
  // the moment the app starts.
  dependsOn: [
    roles
    workspaceRole
  ]
}

// The dead-man rule: Azure Monitor tells alertEmail when pullwatch stops working, which pullwatch
// cannot say itself. Only when an address is given.
module alerts 'app/alerts.bicep' = if (!empty(alertEmail)) {
  name: 'alerts'
  params: {
    name: 'pullwatch-${resourceToken}'
    location: location
    tags: tags
    applicationInsightsId: monitoring.outputs.applicationInsightsId
    alertEmail: alertEmail
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = resourceGroup().name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_ENDPOINT string = keyVault.outputs.vaultUri
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_BLOB_ENDPOINT string = storage.outputs.blobEndpoint
output AZURE_APPLICATION_INSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output AZURE_USER_ASSIGNED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output WATCHED_WORKSPACE_CUSTOMER_ID string = watchedWorkspace.properties.customerId
output KEY_VAULT_TEAMS_SECRET_NAME string = keyVault.outputs.teamsSecretName
output KEY_VAULT_SLACK_SECRET_NAME string = keyVault.outputs.slackSecretName
output KEY_VAULT_GENERIC_SECRET_NAME string = keyVault.outputs.genericSecretName
output KEY_VAULT_PAGERDUTY_SECRET_NAME string = keyVault.outputs.pagerDutySecretName
