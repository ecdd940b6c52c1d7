// Key Vault holding the webhook URLs (each whole URL, signature included, is a secret) and the
// PagerDuty routing keys. RBAC
// authorization, soft delete and purge protection; a secret is written only when its value is given.
// The function app reads them through versionless Key Vault references, so a new secret version
// replaces the URL without a redeployment.

@description('Key Vault name (3-24 characters).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags applied to the vault.')
param tags object = {}

@secure()
@description('Teams Workflows webhook URLs (comma or newline separated); empty: no secret.')
param teamsWebhookUrls string = ''

@secure()
@description('Slack incoming webhook URLs (comma or newline separated); empty: no secret.')
param slackWebhookUrls string = ''

@secure()
@description('Generic JSON webhook URLs (comma or newline separated); empty: no secret.')
param genericWebhookUrls string = ''

@secure()
@description('PagerDuty Events API v2 routing keys (name=key, comma or newline separated); empty: no secret.')
param pagerDutyRoutingKeys string = ''

// Secret names, one per notifier kind (the app setting each one feeds is in function.bicep).
var teamsSecretName = 'pullwatch-teams-webhook-urls'
var slackSecretName = 'pullwatch-slack-webhook-urls'
var genericSecretName = 'pullwatch-generic-webhook-urls'
var pagerDutySecretName = 'pullwatch-pagerduty-routing-keys'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  //checkov:skip=CKV_AZURE_109: Key Vault references from a Flex Consumption app without VNet integration arrive over the public endpoint; App Service is not a trusted service, so the firewall cannot be closed. Access is RBAC-only.
  //checkov:skip=CKV_AZURE_189: same reason as CKV_AZURE_109: public network access is needed for Key Vault references without VNet integration
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

// One secret per notifier kind, written only when its value is given (an empty parameter leaves an
// existing secret alone). The secret resource itself is in keyvault-secret.bicep.
module teamsSecret 'keyvault-secret.bicep' = if (!empty(teamsWebhookUrls)) {
  name: 'secret-teams'
  params: {
    vaultName: vault.name
    name: teamsSecretName
    value: teamsWebhookUrls
  }
}

module slackSecret 'keyvault-secret.bicep' = if (!empty(slackWebhookUrls)) {
  name: 'secret-slack'
  params: {
    vaultName: vault.name
    name: slackSecretName
    value: slackWebhookUrls
  }
}

module genericSecret 'keyvault-secret.bicep' = if (!empty(genericWebhookUrls)) {
  name: 'secret-generic'
  params: {
    vaultName: vault.name
    name: genericSecretName
    value: genericWebhookUrls
  }
}

module pagerDutySecret 'keyvault-secret.bicep' = if (!empty(pagerDutyRoutingKeys)) {
  name: 'secret-pagerduty'
  params: {
    vaultName: vault.name
    name: pagerDutySecretName
    value: pagerDutyRoutingKeys
    contentType: 'text/plain; PagerDuty routing keys'
  }
}

output id string = vault.id
output name string = vault.name
output vaultUri string = vault.properties.vaultUri
output teamsSecretName string = teamsSecretName
output slackSecretName string = slackSecretName
output genericSecretName string = genericSecretName
output pagerDutySecretName string = pagerDutySecretName
// Versionless secret URIs (no version segment): the app always resolves the latest version.
output teamsWebhookUrlsUri string = '${vault.properties.vaultUri}secrets/${teamsSecretName}/'
output slackWebhookUrlsUri string = '${vault.properties.vaultUri}secrets/${slackSecretName}/'
output genericWebhookUrlsUri string = '${vault.properties.vaultUri}secrets/${genericSecretName}/'
output pagerDutyRoutingKeysUri string = '${vault.properties.vaultUri}secrets/${pagerDutySecretName}/'
