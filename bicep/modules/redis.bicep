// Azure Cache for Redis: conversation state, affinity leases, TTS cache. TLS only (port 6380).
// The access key never leaves Azure Resource Manager: keyvault.bicep reads it with listKeys() and stores
// REDIS_URL as a Key Vault secret that the container app references.

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

@description('Tags applied to every resource.')
param tags object = {}

resource redis 'Microsoft.Cache/redis@2023-08-01' = {
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
    redisConfiguration: {
      // Every key the worker writes has a TTL, so evicting among keys with a TTL is safe under pressure.
      'maxmemory-policy': 'volatile-lru'
    }
  }
}

output id string = redis.id
output name string = redis.name
output hostName string = redis.properties.hostName
output sslPort int = redis.properties.sslPort
