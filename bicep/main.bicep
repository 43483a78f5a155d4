// voice-worker on Azure Container Apps: one resource group holding the app, its state (Redis), archive
// (Service Bus -> Cosmos DB), call control (ACS + Event Grid), secrets (Key Vault), logs (Log Analytics)
// and the managed identity that ties them together. See docs/DEPLOY.md.
targetScope = 'resourceGroup'

@description('Short name used to derive every resource name (lowercase letters and digits, 3-12).')
@minLength(3)
@maxLength(12)
param baseName string = 'voicewk'

@description('Environment name: APP_ENV and part of resource names (dev, staging, prod).')
@maxLength(8)
param environmentName string = 'prod'

@description('Azure region for regional resources (ACS and its Event Grid topic are global).')
param location string = resourceGroup().location

@description('Container image, registry/image:tag. With deployAcr the image is <acr>.azurecr.io/voice-worker:<tag>.')
param containerImage string

@description('Deploy an Azure Container Registry and grant the app AcrPull on it.')
param deployAcr bool = false

@description('Deploy the container app and the IncomingCall subscription. false = only the backing services (first phase, before the image exists).')
param deployApp bool = true

@description('Create the Event Grid IncomingCall subscription (the app must answer the validation handshake).')
param deployIncomingCallSubscription bool = true

@description('Only route calls to these ACS phone numbers (E.164). Empty: every number on the ACS resource.')
param incomingCallPhoneNumbers array = []

@description('ACS data location, e.g. United States, Europe, UK.')
param acsDataLocation string = 'United States'

@description('Role definition id granted to the app identity on ACS for Call Automation. Default: Contributor.')
param acsRoleDefinitionId string = 'b24988ac-6180-42a0-ab88-20f7382dd24c'

@description('Azure Cache for Redis SKU.')
@allowed([
  'Basic'
  'Standard'
  'Premium'
])
param redisSku string = 'Standard'

@description('Azure Cache for Redis capacity (C0-C6 / P1-P5).')
param redisCapacity int = 1

@description('Cosmos DB serverless instead of autoscale.')
param cosmosServerless bool = false

@description('Cosmos DB autoscale max RU/s shared by the database.')
param cosmosAutoscaleMaxThroughput int = 1000

@description('APP_NAME: prefix of every Redis key.')
param appName string = 'rtvoice'

@description('LOG_LEVEL.')
param logLevel string = 'info'

@description('MEDIA_AUDIO_FORMAT.')
param mediaAudioFormat string = 'pcm16KMono'

@description('MEDIA_CHANNELS.')
param mediaChannels string = 'mixed'

@description('TRANSCRIPTION_LOCALE.')
param transcriptionLocale string = 'en-US'

@description('SHUTDOWN_DRAIN_TIMEOUT_MS. The replica grace period is this plus 15 s.')
param shutdownDrainTimeoutMs int = 30000

@description('vCPU per replica.')
param cpu string = '1.0'

@description('Memory per replica.')
param memory string = '2Gi'

@description('Minimum replicas (2+ for availability).')
param minReplicas int = 2

@description('Maximum replicas.')
param maxReplicas int = 20

@description('Scale-out threshold: concurrent requests (~ live calls, one media WebSocket each) per replica. Set from the media benchmark, with headroom.')
param callsPerReplica int = 50

@description('Deploy Azure OpenAI and use it as the responder (RESPONDER=openai).')
param deployOpenAi bool = false

@description('Azure OpenAI model.')
param openAiModelName string = 'gpt-4o-mini'

@description('Azure OpenAI model version.')
param openAiModelVersion string = '2024-07-18'

@description('Deploy an Azure AI services account (default): ACS transcribes the caller with it (ACS_COGNITIVE_SERVICES_ENDPOINT, required in production) and the app speaks with it (TTS=azure, Entra ID on its custom subdomain).')
param deploySpeech bool = true

@description('Redis authentication: entra (default, the managed identity; access keys disabled) or key (REDIS_PASSWORD from Key Vault).')
@allowed([
  'entra'
  'key'
])
param redisAuth string = 'entra'

@description('EVENTGRID_WEBHOOK_KEY: the ?key= of the IncomingCall subscription URL. The default is new on every deployment (the subscription and the app get the same value in one deployment); pass the current one (infra/deploy.sh reads it from Key Vault) to keep it.')
@secure()
param eventGridWebhookKey string = newGuid()

@description('E-mail for Azure Monitor alerts on dead-letters, archive backlog, restarts, Cosmos 429s and Redis load; empty: no alerts.')
param alertEmail string = ''

@description('Tags applied to every resource.')
param tags object = {
  app: 'voice-worker'
}

var suffix = uniqueString(subscription().id, resourceGroup().id, baseName, environmentName)
var prefix = '${baseName}-${environmentName}'
var names = {
  identity: 'id-${prefix}'
  workspace: 'log-${prefix}'
  environment: 'cae-${prefix}'
  app: 'ca-${prefix}'
  redis: 'redis-${prefix}-${suffix}'
  keyVault: take('kv${baseName}${suffix}', 24)
  cosmos: 'cosmos-${prefix}-${suffix}'
  serviceBus: 'sb-${prefix}-${suffix}'
  acs: 'acs-${prefix}-${suffix}'
  systemTopic: 'egst-${prefix}-acs'
  acr: take('acr${baseName}${suffix}', 50)
  openAi: 'oai-${prefix}-${suffix}'
  speech: 'spch-${prefix}-${suffix}'
}
var allTags = union(tags, { environment: environmentName })

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: names.identity
    location: location
    tags: allTags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    workspaceName: names.workspace
    environmentName: names.environment
    location: location
    tags: allTags
  }
}

module redis 'modules/redis.bicep' = {
  name: 'redis'
  params: {
    name: names.redis
    location: location
    skuName: redisSku
    capacity: redisCapacity
    entraOnly: redisAuth == 'entra'
    appPrincipalId: identity.outputs.principalId
    tags: allTags
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    name: names.keyVault
    location: location
    redisName: redis.outputs.name
    redisAuth: redisAuth
    eventGridWebhookKey: eventGridWebhookKey
    tags: allTags
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  params: {
    accountName: names.cosmos
    location: location
    databaseName: 'voice'
    serverless: cosmosServerless
    autoscaleMaxThroughput: cosmosAutoscaleMaxThroughput
    tags: allTags
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  params: {
    namespaceName: names.serviceBus
    location: location
    queueName: 'call-archive'
    tags: allTags
  }
}

module acs 'modules/acs.bicep' = {
  name: 'acs'
  params: {
    name: names.acs
    dataLocation: acsDataLocation
    tags: allTags
  }
}

module acr 'modules/acr.bicep' = if (deployAcr) {
  name: 'acr'
  params: {
    name: names.acr
    location: location
    tags: allTags
  }
}

module ai 'modules/ai.bicep' = if (deployOpenAi || deploySpeech) {
  name: 'ai'
  params: {
    location: location
    openAiName: deployOpenAi ? names.openAi : ''
    openAiModelName: openAiModelName
    openAiModelVersion: openAiModelVersion
    speechName: deploySpeech ? names.speech : ''
    tags: allTags
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  params: {
    principalId: identity.outputs.principalId
    cosmosAccountName: cosmos.outputs.name
    serviceBusNamespaceName: serviceBus.outputs.name
    acsName: acs.outputs.name
    acsRoleDefinitionId: acsRoleDefinitionId
    cosmosDatabaseName: cosmos.outputs.databaseName
    serviceBusQueueName: serviceBus.outputs.queueName
    keyVaultName: keyVault.outputs.name
    acrName: deployAcr ? names.acr : ''
    openAiName: deployOpenAi ? names.openAi : ''
    speechName: deploySpeech ? names.speech : ''
    acsPrincipalId: acs.outputs.principalId
  }
  dependsOn: [
    acr
    ai
  ]
}

module app 'modules/containerapp.bicep' = if (deployApp) {
  name: 'containerapp'
  params: {
    name: names.app
    location: location
    environmentId: monitoring.outputs.environmentId
    environmentDefaultDomain: monitoring.outputs.defaultDomain
    image: containerImage
    registryServer: deployAcr ? '${names.acr}.azurecr.io' : ''
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    redisHost: redis.outputs.hostName
    redisAuth: redisAuth
    identityPrincipalId: identity.outputs.principalId
    redisPasswordSecretUri: keyVault.outputs.redisPasswordSecretUri
    eventGridKeySecretUri: keyVault.outputs.eventGridKeySecretUri
    appName: appName
    appEnv: environmentName
    logLevel: logLevel
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabase: cosmos.outputs.databaseName
    serviceBusNamespace: serviceBus.outputs.fullyQualifiedNamespace
    serviceBusArchiveQueue: serviceBus.outputs.queueName
    acsEndpoint: acs.outputs.endpoint
    acsResourceId: acs.outputs.immutableResourceId
    mediaAudioFormat: mediaAudioFormat
    mediaChannels: mediaChannels
    transcriptionLocale: transcriptionLocale
    shutdownDrainTimeoutMs: shutdownDrainTimeoutMs
    azureOpenAiEndpoint: deployOpenAi ? ai.outputs.openAiEndpoint : ''
    azureOpenAiDeployment: deployOpenAi ? ai.outputs.openAiDeploymentName : ''
    azureSpeechEndpoint: deploySpeech ? ai.outputs.speechEndpoint : ''
    cognitiveServicesEndpoint: deploySpeech ? ai.outputs.speechEndpoint : ''
    cpu: cpu
    memory: memory
    minReplicas: minReplicas
    maxReplicas: maxReplicas
    concurrentRequestsPerReplica: callsPerReplica
    // azd deploy finds the app by this tag (azure.yaml service 'worker').
    tags: union(allTags, { 'azd-service-name': 'worker' })
  }
  // Identity must hold AcrPull and Key Vault Secrets User before the first revision pulls and starts.
  dependsOn: [
    roles
  ]
}

var publicBaseUrl = 'https://${names.app}.${monitoring.outputs.defaultDomain}'

module eventGrid 'modules/eventgrid.bicep' = if (deployApp && deployIncomingCallSubscription) {
  name: 'eventgrid'
  params: {
    systemTopicName: names.systemTopic
    acsId: acs.outputs.id
    // Event Grid sends the key back on every delivery; the app refuses IncomingCall without it.
    endpointUrl: '${publicBaseUrl}/api/incoming-call?key=${eventGridWebhookKey}'
    toPhoneNumbers: incomingCallPhoneNumbers
    tags: allTags
  }
  // The validation handshake needs the app running.
  dependsOn: [
    app
  ]
}

module alerts 'modules/alerts.bicep' = if (!empty(alertEmail)) {
  name: 'alerts'
  params: {
    alertEmail: alertEmail
    prefix: prefix
    serviceBusId: serviceBus.outputs.id
    queueName: serviceBus.outputs.queueName
    cosmosId: cosmos.outputs.id
    redisId: redis.outputs.id
    containerAppId: deployApp ? app.outputs.id : ''
    tags: allTags
  }
}

@description('FQDN of the container app.')
output appFqdn string = deployApp ? app.outputs.fqdn : '${names.app}.${monitoring.outputs.defaultDomain}'
@description('PUBLIC_BASE_URL the app advertises in callback and media URLs.')
output publicBaseUrl string = publicBaseUrl
@description('Webhook the IncomingCall subscription delivers to.')
output incomingCallWebhook string = '${publicBaseUrl}/api/incoming-call'
@description('ACS_ENDPOINT.')
output acsEndpoint string = acs.outputs.endpoint
@description('Name of the Communication Services resource (phone numbers are bought on it).')
output acsName string = acs.outputs.name
@description('COSMOS_ENDPOINT.')
output cosmosEndpoint string = cosmos.outputs.endpoint
@description('SERVICEBUS_NAMESPACE (fully qualified).')
output serviceBusNamespace string = serviceBus.outputs.fullyQualifiedNamespace
@description('Client id of the app identity (AZURE_CLIENT_ID).')
output identityClientId string = identity.outputs.clientId
@description('Name of the container app.')
output containerAppName string = names.app
@description('Name of the key vault holding the redis-url secret.')
output keyVaultName string = keyVault.outputs.name
@description('Name of the Redis cache.')
output redisName string = redis.outputs.name
@description('Speech / AI services endpoint ACS uses for real-time transcription (empty without deploySpeech).')
output cognitiveServicesEndpoint string = deploySpeech ? ai.outputs.speechEndpoint : ''
@description('Name of the container registry (empty without deployAcr).')
output acrName string = deployAcr ? names.acr : ''
@description('Login server of the container registry (empty without deployAcr).')
output acrLoginServer string = deployAcr ? '${names.acr}.azurecr.io' : ''

@description('For azd: the registry it pushes the image to (deployAcr must be true).')
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = deployAcr ? '${names.acr}.azurecr.io' : ''
@description('For azd: the vault main.parameters.json reads the current EVENTGRID_WEBHOOK_KEY from (kept across provisions).')
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
