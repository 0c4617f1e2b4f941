// The management API key hashes, alone in a small vault of their own. The app's identity may
// read this one secret (the platform resolves the Key Vault reference Admin__ApiKeyHashes with
// it) and nothing else here: it cannot write a hash, so a flaw in the handler or a stolen app
// token cannot mint a management key. Only whoever deploys the template (ARM, as the operator)
// writes the secret. The main vault keeps Secrets Officer for the keys the app rotates itself.
param name string
param location string
param tags object

@description('The function app identity: Key Vault Secrets User on the one secret, nothing on the vault.')
param principalId string

@secure()
param adminApiKeyHashes string

@description('Disabled with the private-endpoint variant; the platform then reads the secret through the VNet.')
@allowed(['Enabled', 'Disabled'])
param publicNetworkAccess string = 'Enabled'

var adminApiKeyHashesSecretName = 'admin-api-key-hashes'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: publicNetworkAccess
    networkAcls: {
      defaultAction: publicNetworkAccess == 'Disabled' ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource adminKeyHashes 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: adminApiKeyHashesSecretName
  properties: {
    value: adminApiKeyHashes
    contentType: 'text/plain; sha256-hex, comma-separated'
  }
}

// Scoped to the secret, not the vault: Key Vault RBAC honours role assignments on a single secret.
resource secretsUserOnHashes 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(adminKeyHashes.id, principalId, '4633458b-17de-408a-b874-0445c86b69e6')
  scope: adminKeyHashes
  properties: {
    description: 'Key Vault Secrets User: read admin-api-key-hashes for the Key Vault reference, never write it'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '4633458b-17de-408a-b874-0445c86b69e6')
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output name string = vault.name
output adminApiKeyHashesSecretName string = adminKeyHashes.name
