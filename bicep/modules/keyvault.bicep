// Key Vault (RBAC mode) holding the one secret the app needs: REDIS_URL with the cache's access key.
// The container app reads it through a Key Vault reference with its user-assigned identity, so the key
// never appears in the template, its parameters, outputs or the deployment history.

@description('Name of the key vault (globally unique, 3-24 characters).')
param name string

@description('Azure region.')
param location string

@description('Name of the Azure Cache for Redis whose primary key goes into the redis-url secret.')
param redisName string

@description('Name of the Key Vault secret holding REDIS_URL.')
param redisUrlSecretName string = 'redis-url'

@description('Soft-delete retention in days.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 7

@description('Tags applied to every resource.')
param tags object = {}

resource redis 'Microsoft.Cache/redis@2023-08-01' existing = {
  name: redisName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    publicNetworkAccess: 'Enabled'
  }
}

resource redisUrl 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: redisUrlSecretName
  properties: {
    contentType: 'text/plain'
    value: 'rediss://:${redis.listKeys().primaryKey}@${redis.properties.hostName}:${redis.properties.sslPort}'
  }
}

output id string = vault.id
output name string = vault.name
@description('Versionless secret URI: the app picks up a new version after rotation.')
output redisUrlSecretUri string = '${vault.properties.vaultUri}secrets/${redisUrlSecretName}'
