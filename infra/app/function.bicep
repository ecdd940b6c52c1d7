// The pullwatch function app: a Flex Consumption (FC1) plan and a Linux Python 3.11 app running as
// a user-assigned identity. Host storage, the ledger, telemetry and Key Vault references all use
// that identity; no key or connection string is stored in the app settings.

@description('Function app name.')
param name string

@description('Flex Consumption plan name.')
param planName string

@description('Azure region.')
param location string

@description('Tags applied to the plan and the app (the app also gets azd-service-name).')
param tags object = {}

@description('azd service name in azure.yaml (tag azd-service-name).')
param serviceName string = 'pullwatch'

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Client id of the user-assigned identity (AZURE_CLIENT_ID, host storage, telemetry).')
param identityClientId string

@description('Blob service endpoint of the function\'s storage account (ends with /).')
param storageBlobEndpoint string

@description('Blob container holding the deployment package.')
param deploymentContainerName string

@description('Application Insights connection string (no key is used: local auth is disabled).')
param applicationInsightsConnectionString string

// Flex Consumption accepts 40 to 1000: Microsoft's Flex samples declare @minValue(40) @maxValue(1000)
// (Azure-Samples/azure-functions-flex-consumption-samples IaC/bicep/main.bicep), and
// https://learn.microsoft.com/azure/azure-functions/event-driven-scaling#limit-scale-out said "the
// lowest maximum instance count value is 40"; its revision of 2026-08-03 says 1, without saying that
// every region already accepts it. A timer runs on one instance at a time: the 40 floor costs nothing.
@description('Maximum number of instances (40 to 1000 on Flex Consumption); a timer uses one.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('PULLWATCH_WORKSPACE_IDS: Log Analytics workspace ids (GUIDs) to query.')
param workspaceIds string

@description('PULLWATCH_TABLE.')
param table string

@description('PULLWATCH_SCHEDULE: 6-field NCRONTAB in UTC.')
param schedule string

@description('PULLWATCH_LOOKBACK.')
param lookback string

@description('PULLWATCH_REPEAT_INTERVAL.')
param repeatInterval string

@description('PULLWATCH_LEDGER_CONTAINER.')
param ledgerContainerName string

@description('PULLWATCH_LEDGER_BLOB.')
param ledgerBlobName string

@description('PULLWATCH_SUBSCRIPTION_ID for portal links; empty: not set.')
param containerAppsSubscriptionId string = ''

@description('PULLWATCH_RESOURCE_GROUP for portal links; empty: not set.')
param containerAppsResourceGroup string = ''

@description('Versionless Key Vault secret URI of the Teams webhook URLs; empty: not set.')
param teamsWebhookVaultUri string = ''

@description('Versionless Key Vault secret URI of the Slack webhook URLs; empty: not set.')
param slackWebhookVaultUri string = ''

@description('Versionless Key Vault secret URI of the generic webhook URLs; empty: not set.')
param genericWebhookVaultUri string = ''

@description('Versionless Key Vault secret URI of the PagerDuty routing keys; empty: not set.')
param pagerDutyRoutingKeysVaultUri string = ''

@description('PULLWATCH_PAGERDUTY_EVENTS_URL; empty: not set (the default endpoint).')
param pagerDutyEventsUrl string = ''

@description('PULLWATCH_ROUTES (JSON, or a path); empty: not set (every alert to every channel).')
param routes string = ''

// Settings every deployment gets. The PULLWATCH_* names are those of pullwatch/settings.py
// (SETTING_SPECS); tests/infra compares the two.
var baseAppSettings = [
  // Host storage through the identity (no AzureWebJobsStorage connection string, shared keys off).
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
  { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
  { name: 'AzureWebJobsStorage__blobServiceUri', value: storageBlobEndpoint }
  // Telemetry with Entra ID authentication (Application Insights local auth is disabled).
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsightsConnectionString }
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identityClientId};Authorization=AAD' }
  // DefaultAzureCredential picks the user-assigned identity.
  { name: 'AZURE_CLIENT_ID', value: identityClientId }
  { name: 'PULLWATCH_WORKSPACE_IDS', value: workspaceIds }
  { name: 'PULLWATCH_TABLE', value: table }
  { name: 'PULLWATCH_SCHEDULE', value: schedule }
  { name: 'PULLWATCH_LOOKBACK', value: lookback }
  { name: 'PULLWATCH_REPEAT_INTERVAL', value: repeatInterval }
  // The ledger lives in the same storage account, read and written with the identity.
  { name: 'PULLWATCH_LEDGER_ACCOUNT_URL', value: storageBlobEndpoint }
  { name: 'PULLWATCH_LEDGER_CONTAINER', value: ledgerContainerName }
  { name: 'PULLWATCH_LEDGER_BLOB', value: ledgerBlobName }
]

// Optional settings: set only when given, so the app never sees an empty value or an empty
// Key Vault reference (the settings module would reject the latter).
var subscriptionSetting = empty(containerAppsSubscriptionId) ? [] : [ { name: 'PULLWATCH_SUBSCRIPTION_ID', value: containerAppsSubscriptionId } ]
var resourceGroupSetting = empty(containerAppsResourceGroup) ? [] : [ { name: 'PULLWATCH_RESOURCE_GROUP', value: containerAppsResourceGroup } ]
var teamsSetting = empty(teamsWebhookVaultUri) ? [] : [ { name: 'PULLWATCH_TEAMS_WEBHOOK_URLS', value: '@Microsoft.KeyVault(SecretUri=${teamsWebhookVaultUri})' } ]
var slackSetting = empty(slackWebhookVaultUri) ? [] : [ { name: 'PULLWATCH_SLACK_WEBHOOK_URLS', value: '@Microsoft.KeyVault(SecretUri=${slackWebhookVaultUri})' } ]
var genericSetting = empty(genericWebhookVaultUri) ? [] : [ { name: 'PULLWATCH_WEBHOOK_URLS', value: '@Microsoft.KeyVault(SecretUri=${genericWebhookVaultUri})' } ]
var pagerDutySetting = empty(pagerDutyRoutingKeysVaultUri) ? [] : [ { name: 'PULLWATCH_PAGERDUTY_ROUTING_KEYS', value: '@Microsoft.KeyVault(SecretUri=${pagerDutyRoutingKeysVaultUri})' } ]
var pagerDutyUrlSetting = empty(pagerDutyEventsUrl) ? [] : [ { name: 'PULLWATCH_PAGERDUTY_EVENTS_URL', value: pagerDutyEventsUrl } ]
var routesSetting = empty(routes) ? [] : [ { name: 'PULLWATCH_ROUTES', value: routes } ]
var appSettings = concat(baseAppSettings, subscriptionSetting, resourceGroupSetting, teamsSetting, slackSetting, genericSetting, pagerDutySetting, pagerDutyUrlSetting, routesSetting)

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  //checkov:skip=CKV_AZURE_225: zone redundancy on Flex Consumption is not offered in every region; a missed 5-minute tick is retried by the next tick
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

// No ftpsState, alwaysOn, linuxFxVersion, use32BitWorkerProcess, netFrameworkVersion,
// functionAppScaleLimit or other site property that Flex Consumption lists as deprecated
// (https://learn.microsoft.com/azure/azure-functions/functions-app-settings#flex-consumption-plan-deprecations):
// newer regional clusters reject them with error 51021 ("site configuration properties
// (Site.SiteConfig.FtpsState, ...) for Flex Consumption sites is invalid"), and Flex offers no FTP.
// tests/infra/test_flex_rules.py fails if one comes back.
resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  //checkov:skip=CKV_AZURE_17: no HTTP functions (a timer trigger only): there is no caller to present a client certificate
  //checkov:skip=CKV_AZURE_213: no HTTP functions (a timer trigger only): no endpoint to probe, and Flex Consumption has no health check
  //checkov:skip=CKV_AZURE_212: a timer runs on one instance at a time; a missed tick is retried by the next one, so no always-ready instances are paid for
  //checkov:skip=CKV_AZURE_222: azd deploy and func publish push the package through the app's public SCM endpoint; the app serves no HTTP functions
  //checkov:skip=CKV_AZURE_78: Flex Consumption has no FTP and rejects siteConfig.ftpsState (error 51021), so the property this check wants cannot be set
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    keyVaultReferenceIdentity: identityId
    // Only properties Flex Consumption accepts: no ftpsState (see the comment above this resource).
    siteConfig: {
      minTlsVersion: '1.2'
      http20Enabled: true
      appSettings: appSettings
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

output id string = functionApp.id
output name string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
