// State (Table Storage), the host's storage (AzureWebJobsStorage) and the deployment package.
// Shared-key access is off: everything authenticates with a user-assigned identity, and each
// role is scoped to what uses it, so the app's identity cannot replace the code it runs.
param name string
param location string
param tags object

@description('The function app identity: tables, queues, and the two host containers.')
param principalId string

@description('The deployment identity: the one principal that writes the package container.')
param deploymentPrincipalId string

@description('Disabled with the private-endpoint variant; the app then reaches the account through the VNet.')
@allowed(['Enabled', 'Disabled'])
param publicNetworkAccess string = 'Enabled'

var deploymentContainerName = 'app-package'
// The Functions host keeps its blob leases and timer schedule status in azure-webjobs-hosts and
// its host keys in azure-webjobs-secrets. They are created here so that the identity needs no
// right to create containers (which is why Microsoft's default for an identity-based
// AzureWebJobsStorage is Storage Blob Data Owner on the whole account).
var hostContainerNames = ['azure-webjobs-hosts', 'azure-webjobs-secrets']

// Built-in role definition IDs (learn.microsoft.com/azure/role-based-access-control/built-in-roles),
// spelled out again in each roleDefinitionId so that a reviewer and the tests see the literal.
var tableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
var queueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var blobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: publicNetworkAccess
    networkAcls: {
      defaultAction: publicNetworkAccess == 'Disabled' ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobs
  name: deploymentContainerName
  properties: { publicAccess: 'None' }
}

resource hostContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for containerName in hostContainerNames: {
    parent: blobs
    name: containerName
    properties: { publicAccess: 'None' }
  }
]

resource tables 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

// Account scope for tables: the handler creates its tables at run time (TablePrefix + name, on
// first use), so there is no table to scope a role to when the template runs.
resource tableRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, principalId, tableDataContributor)
  scope: account
  properties: {
    description: 'Storage Table Data Contributor: the handler state tables, created at run time'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3')
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Account scope for queues: the host's AzureWebJobsStorage queue endpoint and the Storage-queue
// work backend (Queues__Backend=storage) create their queues at run time too.
resource queueRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, principalId, queueDataContributor)
  scope: account
  properties: {
    description: 'Storage Queue Data Contributor: the host queues (AzureWebJobsStorage) and the storage work-queue backend'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '974c5e8b-45b9-4653-ba55-5f855dd0fb88')
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Blob access for the host only where the host writes: leases and timer status, host keys.
// Contributor on each existing container is enough to read, write and lease its blobs; Owner adds
// only ACL management, which Blob Storage without a hierarchical namespace does not use.
resource hostBlobRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (containerName, i) in hostContainerNames: {
    name: guid(hostContainers[i].id, containerName, principalId, blobDataContributor)
    scope: hostContainers[i]
    properties: {
      description: 'Storage Blob Data Contributor: a Functions host container (leases, timers, host keys)'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'ba92f5b4-2d11-453d-a403-e96b0029c9fe')
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

// The package container belongs to the deployment identity alone. On Flex Consumption the
// platform's deployment service (the /api/publish endpoint that azd, func and az call) uploads the
// package with the identity set in functionAppConfig.deployment.storage, and the platform reads it
// with the same identity at every start; the app's own identity needs no access to it at all.
resource packageRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deploymentContainer.id, deploymentPrincipalId, blobDataContributor)
  scope: deploymentContainer
  properties: {
    description: 'Storage Blob Data Contributor: the deployment identity writes and reads the package container'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'ba92f5b4-2d11-453d-a403-e96b0029c9fe')
    principalId: deploymentPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output name string = account.name
output deploymentContainerName string = deploymentContainer.name
output tableServiceName string = tables.name
output queueServiceName string = queues.name
