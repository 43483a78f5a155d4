// Service Bus namespace and the archive queue between the call path and Cosmos DB. Duplicate detection
// on messageId (= call id) makes a re-sent archive job (spool replay, retry after a lost ack) a no-op.
// Local (SAS) auth is disabled by default: the app sends and receives with its managed identity.

@description('Name of the Service Bus namespace (globally unique).')
param namespaceName string

@description('Azure region.')
param location string

@description('Archive queue name (SERVICEBUS_ARCHIVE_QUEUE).')
param queueName string = 'call-archive'

@description('Standard is enough for the archive queue; Premium adds isolation, zones and private endpoints.')
@allowed([
  'Standard'
  'Premium'
])
param skuName string = 'Standard'

@description('Disable SAS keys so only Entra ID (managed identity) can send and receive.')
param disableLocalAuth bool = true

@description('Maximum queue size in megabytes.')
param maxSizeInMegabytes int = 1024

@description('Time an archive job may wait in the queue before it is dead-lettered (ISO 8601).')
param defaultMessageTimeToLive string = 'P14D'

@description('Tags applied to every resource.')
param tags object = {}

resource namespace 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' = {
  name: namespaceName
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuName
    capacity: skuName == 'Premium' ? 1 : null
  }
  properties: {
    minimumTlsVersion: '1.2'
    disableLocalAuth: disableLocalAuth
    publicNetworkAccess: 'Enabled'
  }
}

resource queue 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' = {
  parent: namespace
  name: queueName
  properties: {
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'PT1H'
    maxDeliveryCount: 10
    lockDuration: 'PT1M'
    deadLetteringOnMessageExpiration: true
    defaultMessageTimeToLive: defaultMessageTimeToLive
    maxSizeInMegabytes: maxSizeInMegabytes
    requiresSession: false
    enablePartitioning: false
  }
}

output id string = namespace.id
output name string = namespace.name
@description('Fully qualified namespace host, the value of SERVICEBUS_NAMESPACE.')
output fullyQualifiedNamespace string = '${namespace.name}.servicebus.windows.net'
output queueName string = queue.name
