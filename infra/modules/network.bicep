// The optional private-endpoint variant (main.bicep's privateNetworking): a VNet whose first
// subnet carries the function app's outbound traffic (Flex Consumption VNet integration) and
// whose second subnet holds a private endpoint for each data service, with the private DNS zones
// that make the services' usual host names resolve to those endpoints inside the VNet. The
// services themselves turn public network access off (their modules take the parameter).
param name string
param location string
param tags object
param storageAccountName string
param keyVaultName string
param adminVaultName string
param serviceBusNamespaceName string

@description('Address space of the VNet; the two /24 subnets are carved from its start.')
param addressPrefix string = '10.40.0.0/16'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource adminVault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: adminVaultName
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: { addressPrefixes: [addressPrefix] }
    subnets: [
      {
        // Flex Consumption integrates with a subnet delegated to Microsoft.App/environments.
        name: 'app'
        properties: {
          addressPrefix: cidrSubnet(addressPrefix, 24, 0)
          delegations: [
            {
              name: 'flex-consumption'
              properties: { serviceName: 'Microsoft.App/environments' }
            }
          ]
        }
      }
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: cidrSubnet(addressPrefix, 24, 1)
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

// One entry per private endpoint: the target, its sub-resource (group id) and its DNS zone.
var endpoints = [
  { name: 'blob', id: storage.id, groupId: 'blob', zone: 'privatelink.blob.${environment().suffixes.storage}' }
  { name: 'queue', id: storage.id, groupId: 'queue', zone: 'privatelink.queue.${environment().suffixes.storage}' }
  { name: 'table', id: storage.id, groupId: 'table', zone: 'privatelink.table.${environment().suffixes.storage}' }
  { name: 'vault', id: keyVault.id, groupId: 'vault', zone: 'privatelink.vaultcore.azure.net' }
  { name: 'adminvault', id: adminVault.id, groupId: 'vault', zone: 'privatelink.vaultcore.azure.net' }
  { name: 'servicebus', id: serviceBus.id, groupId: 'namespace', zone: 'privatelink.servicebus.windows.net' }
]

// Both vaults share one zone; a zone name must exist once per resource group.
var zoneNames = union(map(endpoints, e => e.zone), [])

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for zone in zoneNames: {
    name: zone
    location: 'global'
    tags: tags
  }
]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (zone, i) in zoneNames: {
    parent: zones[i]
    name: '${name}-link'
    location: 'global'
    tags: tags
    properties: {
      virtualNetwork: { id: vnet.id }
      registrationEnabled: false
    }
  }
]

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [
  for endpoint in endpoints: {
    name: 'pe-${name}-${endpoint.name}'
    location: location
    tags: tags
    properties: {
      subnet: { id: vnet.properties.subnets[1].id }
      privateLinkServiceConnections: [
        {
          name: endpoint.name
          properties: {
            privateLinkServiceId: endpoint.id
            groupIds: [endpoint.groupId]
          }
        }
      ]
    }
  }
]

resource zoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [
  for (endpoint, i) in endpoints: {
    parent: privateEndpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: replace(endpoint.zone, '.', '-')
          properties: { privateDnsZoneId: resourceId('Microsoft.Network/privateDnsZones', endpoint.zone) }
        }
      ]
    }
    dependsOn: [zones]
  }
]

output appSubnetId string = vnet.properties.subnets[0].id
output privateEndpointCount int = length(endpoints)
