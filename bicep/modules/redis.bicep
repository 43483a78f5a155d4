// Azure Cache for Redis: conversation state, affinity leases, TTS cache. TLS only (port 6380).
// Default: Microsoft Entra ID only (aad-enabled, access keys disabled); the app identity gets the
// built-in "Data Contributor" access policy, user = its object id
// (https://learn.microsoft.com/azure/azure-cache-for-redis/cache-azure-active-directory-for-authentication).
// With entraOnly false the access key stays enabled for the key path (keyvault.bicep stores it).

@description('Name of the cache (globally unique DNS label).')
param name string

@description('Azure region.')
param location string

@description('SKU: Standard (replicated, SLA) or Premium (clustering, zones, VNet). Basic has no replica and no SLA.')
@allowed([
  'Basic'
  'Standard'
  'Premium'
])
param skuName string = 'Standard'

@description('Size within the SKU family (C0-C6 for Basic/Standard, P1-P5 for Premium).')
@minValue(0)
@maxValue(6)
param capacity int = 1

@description('Microsoft Entra ID only: access keys disabled, the app authenticates with its managed identity.')
param entraOnly bool = true

@description('Object (principal) id of the app identity, granted the Data Contributor access policy.')
param appPrincipalId string

@description('Tags applied to every resource.')
param tags object = {}

resource redis 'Microsoft.Cache/redis@2024-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    sku: {
      name: skuName
      family: skuName == 'Premium' ? 'P' : 'C'
      capacity: capacity
    }
    enableNonSslPort: false
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
    redisVersion: '6'
    disableAccessKeyAuthentication: entraOnly
    redisConfiguration: {
      // Every key the worker writes has a TTL, so evicting among keys with a TTL is safe under pressure.
      'maxmemory-policy': 'volatile-lru'
      'aad-enabled': 'true'
    }
  }
}

// Data Contributor: read/write data, no admin commands (the worker needs no FLUSHALL, CONFIG, ACL).
resource appAccess 'Microsoft.Cache/redis/accessPolicyAssignments@2024-11-01' = {
  parent: redis
  name: 'voice-worker-app'
  properties: {
    accessPolicyName: 'Data Contributor'
    objectId: appPrincipalId
    objectIdAlias: 'voice-worker-app'
  }
}

output id string = redis.id
output name string = redis.name
output hostName string = redis.properties.hostName
output sslPort int = redis.properties.sslPort
