// Key Vault (RBAC mode) holding the app's secrets: EVENTGRID_WEBHOOK_KEY (also the ?key= of the Event
// Grid subscription URL) and, only with redisAuth key, the Redis access key as it is (REDIS_PASSWORD: a
// base64 key in a URL broke on / + =). The container app reads them through Key Vault references with its
// user-assigned identity, so no secret appears in the app's configuration, outputs or logs.

@description('Name of the key vault (globally unique, 3-24 characters).')
param name string

@description('Azure region.')
param location string

@description('Name of the Azure Cache for Redis whose primary key goes into the redis-url secret.')
param redisName string

@description('entra (default): no Redis key is stored; key: the primary access key goes into the redis-password secret.')
@allowed([
  'entra'
  'key'
])
param redisAuth string = 'entra'

@description('EVENTGRID_WEBHOOK_KEY: Event Grid sends it as ?key= on every delivery; the app refuses deliveries without it.')
@secure()
param eventGridWebhookKey string

@description('Soft-delete retention in days.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 7

@description('Tags applied to every resource.')
param tags object = {}

resource redis 'Microsoft.Cache/redis@2024-11-01' existing = {
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

resource redisPassword 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (redisAuth == 'key') {
  parent: vault
  name: 'redis-password'
  properties: {
    contentType: 'text/plain'
    value: redis.listKeys().primaryKey
  }
}

resource eventGridKey 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'eventgrid-webhook-key'
  properties: {
    contentType: 'text/plain'
    value: eventGridWebhookKey
  }
}

output id string = vault.id
output name string = vault.name
@description('Versionless secret URIs: the app picks up a new version after rotation.')
output redisPasswordSecretUri string = redisAuth == 'key' ? '${vault.properties.vaultUri}secrets/redis-password' : ''
output eventGridKeySecretUri string = '${vault.properties.vaultUri}secrets/eventgrid-webhook-key'
