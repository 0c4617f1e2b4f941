// The Flex Consumption (FC1) plan and the function app: runtime `custom` (the Native AOT
// handler named in host.json), package pulled from a blob container with the managed identity,
// and app settings that wire the handler's configuration keys (ServiceRegistration.cs) and the
// host's identity-based connections to the resources of this deployment.
param planName string
param appName string
param location string
param tags object
param identityName string
param deploymentIdentityName string
param storageAccountName string
param deploymentContainerName string
param serviceBusNamespaceName string
param keyVaultName string
param adminVaultName string
param adminApiKeyHashesSecretName string
param applicationInsightsName string
param alwaysReadyInstanceCount int
param maximumInstanceCount int
param instanceMemoryMB int
param publicBaseUrl string

@description('The subnet for outbound VNet integration (private-endpoint variant); empty for none.')
param virtualNetworkSubnetId string = ''

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: identityName
}

resource deploymentIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: deploymentIdentityName
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': 'sso' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
      // Attached because the platform can only use an identity of the app for the package.
      '${deploymentIdentity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identity.id
    // With the private-endpoint variant all outbound traffic leaves through this subnet, where the
    // services' private endpoints and DNS zones are.
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          // The deployment identity, the only principal with write access to this container.
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: deploymentIdentity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        alwaysReady: alwaysReadyInstanceCount > 0 ? [{ name: 'http', instanceCount: alwaysReadyInstanceCount }] : []
      }
      // A custom handler: the host starts host.json's defaultExecutablePath (the AOT binary).
      runtime: {
        name: 'custom'
        version: '1.0'
      }
    }
  }
}

// No publishing user names and passwords: deployments authenticate with Microsoft Entra ID
// (azd, func and az use the deployer's token against /api/publish), so the basic credentials of
// the SCM (Kudu) and FTP endpoints would only be a second, password-shaped way in.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  properties: { allow: false }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'ftp'
  properties: { allow: false }
}

var serviceBusHost = split(replace(serviceBus.properties.serviceBusEndpoint, 'https://', ''), ':')[0]

// A separate resource so that the issuer can default to the app's own host name.
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: app
  name: 'appsettings'
  properties: {
    // The Functions host's own storage (leases, timers), identity-based: no connection string.
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identity.properties.clientId
    AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
    AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
    AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
    // The serviceBusTrigger bindings' connection ("ServiceBusConnection" in function.json).
    ServiceBusConnection__fullyQualifiedNamespace: serviceBusHost
    ServiceBusConnection__credential: 'managedidentity'
    ServiceBusConnection__clientId: identity.properties.clientId
    APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
    // The handler's configuration (Storage:*, Secrets:*, Queues:*, ManagedIdentity:*, Sso:*, Admin:*).
    ManagedIdentity__ClientId: identity.properties.clientId
    Storage__TableServiceUri: storage.properties.primaryEndpoints.table
    Storage__QueueServiceUri: storage.properties.primaryEndpoints.queue
    Secrets__Backend: 'keyvault'
    Secrets__KeyVaultUri: vault.properties.vaultUri
    Queues__Backend: 'servicebus'
    Queues__ServiceBusNamespace: serviceBusHost
    Sso__PublicBaseUrl: empty(publicBaseUrl) ? 'https://${app.properties.defaultHostName}' : publicBaseUrl
    // Resolved by the platform with keyVaultReferenceIdentity; the app never sees a plain key.
    // The hashes live in their own vault, where the identity may read this secret and write nothing.
    Admin__ApiKeyHashes: '@Microsoft.KeyVault(VaultName=${adminVaultName};SecretName=${adminApiKeyHashesSecretName})'
  }
}

output name string = app.name
output publicBaseUrl string = appSettings.properties.Sso__PublicBaseUrl
