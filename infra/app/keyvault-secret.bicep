// One Key Vault secret holding webhook URLs or routing keys. A redeployment with a new value writes a new secret
// version; the function app's versionless reference then resolves to it.

@description('Name of the existing Key Vault.')
param vaultName string

@description('Secret name.')
param name string

@secure()
@description('Secret value: webhook URLs or routing keys, comma or newline separated.')
param value string

@description('What the secret holds (shown in the vault).')
param contentType string = 'text/plain; webhook URLs'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

resource secret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  //checkov:skip=CKV_AZURE_41: webhook URLs have no natural expiry; an expiry date would silently stop the alerts (rotation: docs/deploy.md)
  parent: vault
  name: name
  properties: {
    value: value
    contentType: contentType
    attributes: {
      enabled: true
    }
  }
}

output name string = secret.name
