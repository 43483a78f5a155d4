// Cosmos DB (NoSQL API): database `voice` with transcripts (/callId), profiles (/id) and claims (/id,
// claim checks for transcripts too large for one Service Bus message; no expiry: the archiver deletes
// each once its transcript is archived, and a claim must outlive its message, dead-lettered ones
// included). Partition keys match src/adapters/cosmos/cosmos-containers.ts (infra/check-bicep.mjs checks). Key auth is disabled by default:
// the app authenticates with its managed identity (Cosmos DB Built-in Data Contributor, see roles.bicep).

@description('Name of the Cosmos DB account (globally unique, lowercase).')
param accountName string

@description('Azure region.')
param location string

@description('Database name (COSMOS_DATABASE).')
param databaseName string = 'voice'

@description('Serverless (pay per request, single region) instead of provisioned autoscale throughput.')
param serverless bool = false

@description('Autoscale maximum RU/s shared by the database containers (ignored when serverless).')
@minValue(1000)
param autoscaleMaxThroughput int = 1000

@description('Disable account keys so only Entra ID (managed identity) can reach the data plane.')
param disableLocalAuth bool = true

@description('Default TTL of transcripts in seconds; -1 keeps them until an item sets its own ttl.')
param transcriptsTtlSeconds int = -1

@description('Enable availability zones for the write region (not available in every region).')
param zoneRedundant bool = false

@description('Tags applied to every resource.')
param tags object = {}

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-05-15' = {
  name: accountName
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: zoneRedundant
      }
    ]
    capabilities: serverless ? [
      {
        name: 'EnableServerless'
      }
    ] : []
    disableLocalAuth: disableLocalAuth
    disableKeyBasedMetadataWriteAccess: true
    publicNetworkAccess: 'Enabled'
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-05-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
    options: serverless ? {} : {
      autoscaleSettings: {
        maxThroughput: autoscaleMaxThroughput
      }
    }
  }
}

var containers = [
  {
    name: 'transcripts'
    partitionKey: '/callId'
    defaultTtl: transcriptsTtlSeconds
  }
  {
    name: 'profiles'
    partitionKey: '/id'
    defaultTtl: -1
  }
  {
    name: 'claims'
    partitionKey: '/id'
    // -1: TTL on, no default expiry (a claim lives until the archiver deletes it).
    defaultTtl: -1
  }
  {
    name: 'analytics'
    partitionKey: '/pk'
    // Per-tenant daily/hourly call aggregates and compacted hot counters: kept (no default expiry).
    defaultTtl: -1
  }
  {
    // Outbound campaigns: one document per campaign with its target states (CAMPAIGN_CONTAINER).
    name: 'campaigns'
    partitionKey: '/id'
    defaultTtl: -1
  }
]

resource sqlContainers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-05-15' = [for c in containers: {
  parent: database
  name: c.name
  properties: {
    resource: {
      id: c.name
      partitionKey: {
        paths: [
          c.partitionKey
        ]
        kind: 'Hash'
        version: 2
      }
      defaultTtl: c.defaultTtl
      indexingPolicy: {
        indexingMode: 'consistent'
        automatic: true
        includedPaths: [
          {
            path: '/*'
          }
        ]
        excludedPaths: [
          {
            path: '/"_etag"/?'
          }
          // Turn text, barge-ins and DTMF are read by id, never filtered on: not indexing them saves RU per write.
          {
            path: '/turns/*'
          }
          {
            path: '/bargeIns/*'
          }
          {
            path: '/dtmf/*'
          }
        ]
      }
    }
  }
}]

output id string = account.id
output name string = account.name
output endpoint string = account.properties.documentEndpoint
output databaseName string = database.name
