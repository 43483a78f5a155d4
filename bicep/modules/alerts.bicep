// Optional Azure Monitor alerts on platform metrics (no scraping needed): archive dead-letters and
// backlog, replica restarts, Cosmos DB throttling, Redis load. The app's own Prometheus metrics
// (voice_redis_up, spool depth, answer failures, event-loop delay) need a collector; see docs/DEPLOY.md.

@description('E-mail address that receives the alerts.')
param alertEmail string

@description('Short prefix for alert names.')
param prefix string

@description('Resource id of the Service Bus namespace.')
param serviceBusId string

@description('Archive queue name.')
param queueName string = 'call-archive'

@description('Resource id of the Cosmos DB account.')
param cosmosId string

@description('Resource id of the Redis cache.')
param redisId string

@description('Resource id of the container app; empty to skip the restart alert.')
param containerAppId string = ''

@description('Tags applied to every resource.')
param tags object = {}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-${prefix}'
  location: 'Global'
  tags: tags
  properties: {
    groupShortName: take(replace('voice${prefix}', '-', ''), 12)
    enabled: true
    emailReceivers: [
      {
        name: 'operators'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

var alerts = [
  {
    name: 'archive-dead-letters'
    description: 'An archive job was dead-lettered: a transcript could not be written after 10 deliveries.'
    severity: 2
    scope: serviceBusId
    metricNamespace: 'Microsoft.ServiceBus/namespaces'
    metricName: 'DeadletteredMessages'
    dimensions: [
      {
        name: 'EntityName'
        operator: 'Include'
        values: [
          queueName
        ]
      }
    ]
    operator: 'GreaterThan'
    threshold: 0
    timeAggregation: 'Maximum'
  }
  {
    name: 'archive-backlog'
    description: 'Archive queue backlog: the archiver is stuck or Cosmos DB is throttling.'
    severity: 3
    scope: serviceBusId
    metricNamespace: 'Microsoft.ServiceBus/namespaces'
    metricName: 'ActiveMessages'
    dimensions: [
      {
        name: 'EntityName'
        operator: 'Include'
        values: [
          queueName
        ]
      }
    ]
    operator: 'GreaterThan'
    threshold: 1000
    timeAggregation: 'Average'
  }
  {
    name: 'cosmos-throttling'
    description: 'Cosmos DB is returning 429: raise the autoscale maximum.'
    severity: 3
    scope: cosmosId
    metricNamespace: 'Microsoft.DocumentDB/databaseAccounts'
    metricName: 'TotalRequests'
    dimensions: [
      {
        name: 'StatusCode'
        operator: 'Include'
        values: [
          '429'
        ]
      }
    ]
    operator: 'GreaterThan'
    threshold: 100
    timeAggregation: 'Count'
  }
  {
    name: 'redis-server-load'
    description: 'Redis server load above 70 %: scale the cache.'
    severity: 3
    scope: redisId
    metricNamespace: 'Microsoft.Cache/redis'
    metricName: 'serverLoad'
    dimensions: []
    operator: 'GreaterThan'
    threshold: 70
    timeAggregation: 'Maximum'
  }
]

var restartAlert = empty(containerAppId) ? [] : [
  {
    name: 'replica-restarts'
    description: 'Replicas restarted: liveness failures or out of memory.'
    severity: 2
    scope: containerAppId
    metricNamespace: 'Microsoft.App/containerApps'
    metricName: 'RestartCount'
    dimensions: []
    operator: 'GreaterThan'
    threshold: 0
    timeAggregation: 'Total'
  }
]

resource metricAlerts 'Microsoft.Insights/metricAlerts@2018-03-01' = [for a in concat(alerts, restartAlert): {
  name: '${prefix}-${a.name}'
  location: 'global'
  tags: tags
  properties: {
    description: a.description
    severity: a.severity
    enabled: true
    scopes: [
      a.scope
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: a.name
          metricNamespace: a.metricNamespace
          metricName: a.metricName
          dimensions: a.dimensions
          operator: a.operator
          threshold: a.threshold
          timeAggregation: a.timeAggregation
        }
      ]
    }
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}]

output actionGroupId string = actionGroup.id
