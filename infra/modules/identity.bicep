// The one identity the function app runs as: the host (AzureWebJobsStorage, deployment package,
// Service Bus trigger) and the handler (tables, queues, Key Vault) all use it.
param name string
param location string
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output name string = identity.name
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
