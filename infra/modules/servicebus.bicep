// The work queues behind the queue-triggered functions. The app sends with a deterministic
// MessageId, so duplicate detection drops a republished message; a message the worker keeps
// failing dead-letters after maxDeliveryCount, and an expired one dead-letters too.
param name string
param location string
param tags object
param queueNames array
param maxDeliveryCount int

@description('The function app identity: sends (dispatcher, fan-out) and receives (trigger).')
param principalId string

// Standard: duplicate detection is not available on Basic. Premium: the only tier that accepts a
// private endpoint, so main.bicep picks it with privateNetworking (about 20 times Standard's price).
@allowed(['Standard', 'Premium'])
param sku string = 'Standard'

@description('Disabled with the private-endpoint variant; the app then reaches the namespace through the VNet.')
@allowed(['Enabled', 'Disabled'])
param publicNetworkAccess string = 'Enabled'

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: { name: sku, tier: sku, capacity: sku == 'Premium' ? 1 : null }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: publicNetworkAccess
  }
}

resource queues 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = [
  for queueName in queueNames: {
    parent: namespace
    name: queueName
    properties: {
      requiresDuplicateDetection: true
      duplicateDetectionHistoryTimeWindow: 'PT1H'
      deadLetteringOnMessageExpiration: true
      defaultMessageTimeToLive: 'P7D'
      maxDeliveryCount: maxDeliveryCount
      // Longer than a worker's slowest task (a webhook call with its timeout) so that a message
      // is not handed to a second instance while the first still works on it.
      lockDuration: 'PT1M'
      enablePartitioning: false
    }
  }
]

resource dataSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(namespace.id, principalId, '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39')
  scope: namespace
  properties: {
    description: 'Azure Service Bus Data Sender: the outbox dispatcher and the fan-out workers send'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39')
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource dataReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(namespace.id, principalId, '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0')
  scope: namespace
  properties: {
    description: 'Azure Service Bus Data Receiver: the serviceBusTrigger functions receive'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0')
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output name string = namespace.name
output fullyQualifiedNamespace string = split(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':')[0]
output queueCount int = length(queueNames)
