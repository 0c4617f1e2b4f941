// Secrets and keys: the id_token signing key, SAML SP keys, IdP client secrets, and the
// management API key hashes that the app reads through a Key Vault reference.
param name string
param location string
param tags object

@description('The function app identity: it creates and rotates its own signing keys, so it writes secrets.')
param principalId string

@secure()
param adminApiKeyHashes string

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
    publicNetworkAccess: 'Enabled'
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

// Officer, not User: the handler creates and rotates its own signing and SP keys.
resource secretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7')
  scope: vault
  properties: {
    description: 'Key Vault Secrets Officer: signing keys, SP keys, client secrets, admin key hashes'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7')
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output name string = vault.name
output vaultUri string = vault.properties.vaultUri
output adminApiKeyHashesSecretName string = adminKeyHashes.name
