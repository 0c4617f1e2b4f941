// Secrets and keys the app owns: the id_token signing keys, SAML SP keys, IdP client secrets and
// webhook secrets, which the handler creates and rotates itself. The management API key hashes
// are not here: they live in adminvault.bicep, where the app can only read them.
param name string
param location string
param tags object

@description('The function app identity: it creates and rotates its own signing keys, so it writes secrets.')
param principalId string

@description('Disabled with the private-endpoint variant; the app then reaches the vault through the VNet.')
@allowed(['Enabled', 'Disabled'])
param publicNetworkAccess string = 'Enabled'

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

// Officer, not User: the handler creates and rotates its own signing and SP keys. Nothing in this
// vault can grant a management key, so write access here is the app's own business.
resource secretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7')
  scope: vault
  properties: {
    description: 'Key Vault Secrets Officer: signing keys, SP keys, IdP client secrets, webhook secrets'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7')
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output name string = vault.name
output vaultUri string = vault.properties.vaultUri
