// Serverless.Sso in one resource group: a Flex Consumption function app running the Native AOT
// custom handler, Table Storage for state, Service Bus for the work queues, Key Vault for the
// secrets the app owns and a second, read-only vault for the management key hashes, one
// user-assigned identity for all of it (and one that only handles the deployment package), and
// Application Insights. privateNetworking adds the private-endpoint variant (network.bicep).
targetScope = 'subscription'

@description('Short prefix for every resource name (letters, digits and hyphens, starting with a letter; the azd environment name).')
@minLength(3)
@maxLength(12)
param namePrefix string

@description('Azure region for every resource; Flex Consumption must be available there.')
param location string

@description('Name of the resource group to create.')
param resourceGroupName string = 'rg-${namePrefix}'

@description('Instances kept warm for the HTTP functions (0 = scale to zero; the AOT handler starts fast).')
@minValue(0)
@maxValue(20)
param alwaysReadyInstanceCount int = 1

@description('Upper bound on instances the plan scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory per instance, in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('How many times Service Bus delivers a work message before it dead-letters it.')
@minValue(1)
@maxValue(100)
param maxDeliveryCount int = 10

@description('The issuer and base of every URL the service hands out; empty = https://<default host name>.')
param publicBaseUrl string = ''

@description('Comma-separated SHA-256 hex hashes of the management API keys (`printf %s "$KEY" | sha256sum`).')
@secure()
param adminApiKeyHashes string

@description('Private-endpoint variant: a VNet, private endpoints for storage, both vaults and Service Bus, public network access off on them, and Service Bus on Premium (required for private endpoints). Off by default; see docs/deploy.md for what it costs.')
param privateNetworking bool = false

@description('Tags for every resource.')
param tags object = {}

// The queue-triggered functions' queues (FunctionTable.Queues, QueueName); a test keeps this
// file and the endpoint table equal, so a new worker cannot ship without its queue.
var workQueueNames = loadJsonContent('work-queues.json')

var suffix = uniqueString(subscription().id, resourceGroupName, namePrefix)
var publicNetworkAccess = privateNetworking ? 'Disabled' : 'Enabled'
var allTags = union(tags, { application: 'serverless-sso', 'azd-env-name': namePrefix })

resource group 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: resourceGroupName
  location: location
  tags: allTags
}

module identity 'modules/identity.bicep' = {
  scope: group
  params: {
    name: 'id-${namePrefix}-${suffix}'
    location: location
    tags: allTags
  }
}

// Only for the deployment package: the platform writes and reads the package container with it.
// Kept apart from the app's identity so that the identity the handler and the host use cannot
// replace the code it runs.
module deploymentIdentity 'modules/identity.bicep' = {
  scope: group
  params: {
    name: 'id-${namePrefix}-deploy-${suffix}'
    location: location
    tags: allTags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  scope: group
  params: {
    logAnalyticsName: 'log-${namePrefix}-${suffix}'
    applicationInsightsName: 'appi-${namePrefix}-${suffix}'
    location: location
    tags: allTags
  }
}

module storage 'modules/storage.bicep' = {
  scope: group
  params: {
    name: take('st${replace(toLower(namePrefix), '-', '')}${suffix}', 24)
    location: location
    tags: allTags
    principalId: identity.outputs.principalId
    deploymentPrincipalId: deploymentIdentity.outputs.principalId
    publicNetworkAccess: publicNetworkAccess
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  scope: group
  params: {
    name: 'sb-${namePrefix}-${suffix}'
    location: location
    tags: allTags
    queueNames: workQueueNames
    maxDeliveryCount: maxDeliveryCount
    principalId: identity.outputs.principalId
    sku: privateNetworking ? 'Premium' : 'Standard'
    publicNetworkAccess: publicNetworkAccess
  }
}

module keyVault 'modules/keyvault.bicep' = {
  scope: group
  params: {
    name: take('kv-${namePrefix}-${suffix}', 24)
    location: location
    tags: allTags
    principalId: identity.outputs.principalId
    publicNetworkAccess: publicNetworkAccess
  }
}

module adminVault 'modules/adminvault.bicep' = {
  scope: group
  params: {
    name: take('kva-${namePrefix}-${suffix}', 24)
    location: location
    tags: allTags
    principalId: identity.outputs.principalId
    adminApiKeyHashes: adminApiKeyHashes
    publicNetworkAccess: publicNetworkAccess
  }
}

module network 'modules/network.bicep' = if (privateNetworking) {
  scope: group
  params: {
    name: 'vnet-${namePrefix}-${suffix}'
    location: location
    tags: allTags
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    adminVaultName: adminVault.outputs.name
    serviceBusNamespaceName: serviceBus.outputs.name
  }
}

module functionApp 'modules/functionapp.bicep' = {
  scope: group
  params: {
    planName: 'plan-${namePrefix}-${suffix}'
    appName: 'func-${namePrefix}-${suffix}'
    location: location
    tags: allTags
    identityName: identity.outputs.name
    deploymentIdentityName: deploymentIdentity.outputs.name
    storageAccountName: storage.outputs.name
    deploymentContainerName: storage.outputs.deploymentContainerName
    serviceBusNamespaceName: serviceBus.outputs.name
    keyVaultName: keyVault.outputs.name
    adminVaultName: adminVault.outputs.name
    adminApiKeyHashesSecretName: adminVault.outputs.adminApiKeyHashesSecretName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    alwaysReadyInstanceCount: alwaysReadyInstanceCount
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    publicBaseUrl: publicBaseUrl
    virtualNetworkSubnetId: privateNetworking ? network!.outputs.appSubnetId : ''
  }
}

output AZURE_RESOURCE_GROUP string = group.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output SSO_PUBLIC_BASE_URL string = functionApp.outputs.publicBaseUrl
output SSO_KEY_VAULT_URI string = keyVault.outputs.vaultUri
output SSO_SERVICE_BUS_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
