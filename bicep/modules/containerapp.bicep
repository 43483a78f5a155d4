// The voice-worker container app: one image (`node dist/cli.js serve`), HTTP + media WebSocket on 8080.
// Environment variable names are the app's public config contract (src/config.ts); infra/check-bicep.mjs
// fails CI when a name here is not one the app reads.

@description('Name of the container app (also the first label of its FQDN and of PUBLIC_BASE_URL).')
param name string

@description('Azure region.')
param location string

@description('Resource id of the Container Apps environment.')
param environmentId string

@description('Default domain of the Container Apps environment (<unique>.<region>.azurecontainerapps.io).')
param environmentDefaultDomain string

@description('Container image, registry/image:tag.')
param image string

@description('Login server of the Azure Container Registry the image comes from; empty for a public registry.')
param registryServer string = ''

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Client id of that identity (AZURE_CLIENT_ID, read by DefaultAzureCredential).')
param identityClientId string

@description('Host name of the Azure Cache for Redis (REDIS_HOST; TLS on 6380).')
param redisHost string

@description('entra: the app identity authenticates to Redis with Microsoft Entra ID (REDIS_AUTH=entra, no key anywhere); key: REDIS_PASSWORD from Key Vault.')
@allowed([
  'entra'
  'key'
])
param redisAuth string = 'entra'

@description('Object (principal) id of the app identity: the Redis user name with Entra ID (REDIS_USERNAME).')
param identityPrincipalId string

@description('Versionless Key Vault secret URI holding the Redis access key (only with redisAuth key).')
param redisPasswordSecretUri string = ''

@description('Versionless Key Vault secret URI holding EVENTGRID_WEBHOOK_KEY (the ?key= of the Event Grid subscription URL).')
param eventGridKeySecretUri string

@description('APP_NAME: prefix of every Redis key.')
param appName string = 'rtvoice'

@description('APP_ENV: second segment of every Redis key (dev, staging, prod).')
param appEnv string = 'prod'

@description('LOG_LEVEL.')
@allowed([
  'fatal'
  'error'
  'warn'
  'info'
  'debug'
  'trace'
  'silent'
])
param logLevel string = 'info'

@description('COSMOS_ENDPOINT: https://<account>.documents.azure.com:443/')
param cosmosEndpoint string

@description('COSMOS_DATABASE.')
param cosmosDatabase string = 'voice'

@description('SERVICEBUS_NAMESPACE: fully qualified, <namespace>.servicebus.windows.net')
param serviceBusNamespace string

@description('SERVICEBUS_ARCHIVE_QUEUE.')
param serviceBusArchiveQueue string = 'call-archive'

@description('ACS_ENDPOINT: https://<acs>.<region>.communication.azure.com/')
param acsEndpoint string

@description('ACS_RESOURCE_ID: the ACS immutableResourceId (audience of ACS callback JWTs).')
param acsResourceId string

@description('ACS_JWKS_URL: keys that sign ACS callback and media JWTs.')
param acsJwksUrl string = 'https://acscallautomation.communication.azure.com/calling/keys'

@description('ACS_JWT_ISSUER.')
param acsJwtIssuer string = 'https://acscallautomation.communication.azure.com'

@description('MEDIA_AUDIO_FORMAT.')
@allowed([
  'pcm16KMono'
  'pcm24KMono'
])
param mediaAudioFormat string = 'pcm16KMono'

@description('MEDIA_CHANNELS.')
@allowed([
  'mixed'
  'unmixed'
])
param mediaChannels string = 'mixed'

@description('TRANSCRIPTION_LOCALE, e.g. en-US.')
param transcriptionLocale string = 'en-US'

@description('SHUTDOWN_DRAIN_TIMEOUT_MS: how long a stopping replica lets live calls finish after SIGTERM.')
@minValue(0)
@maxValue(585000)
param shutdownDrainTimeoutMs int = 30000

@description('Azure OpenAI endpoint; when set the app uses RESPONDER=openai with this deployment.')
param azureOpenAiEndpoint string = ''

@description('AZURE_OPENAI_DEPLOYMENT (required with azureOpenAiEndpoint).')
param azureOpenAiDeployment string = ''

@description('Custom subdomain endpoint of the Speech / AI services account (https://<name>.cognitiveservices.azure.com/); when set the app uses TTS=azure with Entra ID.')
param azureSpeechEndpoint string = ''

@description('Azure AI services endpoint ACS transcribes with (empty: transcription needs one configured separately).')
param cognitiveServicesEndpoint string = ''

@description('vCPU per replica (Consumption: 0.25-4, memory = 2 GiB per vCPU).')
param cpu string = '1.0'

@description('Memory per replica, e.g. 2Gi.')
param memory string = '2Gi'

@description('Minimum replicas. Keep 2 or more: a single replica is a single point of failure for live calls.')
@minValue(1)
param minReplicas int = 2

@description('Maximum replicas.')
@minValue(1)
@maxValue(300)
param maxReplicas int = 20

@description('Concurrent HTTP requests per replica that trigger a scale-out. Each live call holds one media WebSocket (one long request), so this is the target calls per replica.')
@minValue(1)
param concurrentRequestsPerReplica int = 50

@description('Tags applied to every resource.')
param tags object = {}

var port = 8080
var useOpenAi = !empty(azureOpenAiEndpoint)
var useSpeech = !empty(azureSpeechEndpoint)
var redisKey = redisAuth == 'key'
// Drain window plus time to flush logs, metrics and archive jobs (Container Apps allows at most 600 s).
var terminationGracePeriodSeconds = (shutdownDrainTimeoutMs / 1000) + 15

var coreEnv = [
  {
    name: 'PORT'
    value: string(port)
  }
  {
    name: 'PUBLIC_BASE_URL'
    value: 'https://${name}.${environmentDefaultDomain}'
  }
  {
    name: 'APP_NAME'
    value: appName
  }
  {
    name: 'APP_ENV'
    value: appEnv
  }
  {
    name: 'LOG_LEVEL'
    value: logLevel
  }
  {
    name: 'REDIS_HOST'
    value: redisHost
  }
  {
    name: 'REDIS_PORT'
    value: '6380'
  }
  {
    name: 'REDIS_TLS'
    value: 'true'
  }
  {
    name: 'REDIS_AUTH'
    value: redisAuth
  }
  {
    name: 'EVENTGRID_WEBHOOK_KEY'
    secretRef: 'eventgrid-webhook-key'
  }
  {
    name: 'COSMOS_ENDPOINT'
    value: cosmosEndpoint
  }
  {
    name: 'COSMOS_DATABASE'
    value: cosmosDatabase
  }
  {
    name: 'SERVICEBUS_NAMESPACE'
    value: serviceBusNamespace
  }
  {
    name: 'SERVICEBUS_ARCHIVE_QUEUE'
    value: serviceBusArchiveQueue
  }
  {
    name: 'ACS_ENDPOINT'
    value: acsEndpoint
  }
  {
    name: 'ACS_RESOURCE_ID'
    value: acsResourceId
  }
  {
    name: 'ACS_JWKS_URL'
    value: acsJwksUrl
  }
  {
    name: 'ACS_JWT_ISSUER'
    value: acsJwtIssuer
  }
  {
    name: 'MEDIA_AUDIO_FORMAT'
    value: mediaAudioFormat
  }
  {
    name: 'MEDIA_CHANNELS'
    value: mediaChannels
  }
  {
    name: 'TRANSCRIPTION_LOCALE'
    value: transcriptionLocale
  }
  {
    name: 'SHUTDOWN_DRAIN_TIMEOUT_MS'
    value: string(shutdownDrainTimeoutMs)
  }
  {
    name: 'AZURE_CLIENT_ID'
    value: identityClientId
  }
]

// Entra ID: the identity's object id is the Redis user; the token is the password (renewed by the app).
var redisAuthEnv = redisKey ? [
  {
    name: 'REDIS_PASSWORD'
    secretRef: 'redis-password'
  }
] : [
  {
    name: 'REDIS_USERNAME'
    value: identityPrincipalId
  }
]

var transcriptionEnv = empty(cognitiveServicesEndpoint) ? [] : [
  {
    name: 'ACS_COGNITIVE_SERVICES_ENDPOINT'
    value: cognitiveServicesEndpoint
  }
]

var openAiEnv = useOpenAi ? [
  {
    name: 'RESPONDER'
    value: 'openai'
  }
  {
    name: 'AZURE_OPENAI_ENDPOINT'
    value: azureOpenAiEndpoint
  }
  {
    name: 'AZURE_OPENAI_DEPLOYMENT'
    value: azureOpenAiDeployment
  }
] : []

var speechEnv = useSpeech ? [
  {
    name: 'TTS'
    value: 'azure'
  }
  {
    name: 'AZURE_SPEECH_ENDPOINT'
    value: azureSpeechEndpoint
  }
] : []

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: name
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    managedEnvironmentId: environmentId
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: port
        // auto: HTTP/1.1 and HTTP/2; the media WebSocket upgrade rides HTTP/1.1.
        transport: 'auto'
        allowInsecure: false
        traffic: [
          {
            latestRevision: true
            weight: 100
          }
        ]
      }
      registries: empty(registryServer) ? [] : [
        {
          server: registryServer
          identity: identityId
        }
      ]
      secrets: concat([
        {
          name: 'eventgrid-webhook-key'
          keyVaultUrl: eventGridKeySecretUri
          identity: identityId
        }
      ], redisKey ? [
        {
          name: 'redis-password'
          keyVaultUrl: redisPasswordSecretUri
          identity: identityId
        }
      ] : [])
    }
    template: {
      terminationGracePeriodSeconds: terminationGracePeriodSeconds
      containers: [
        {
          name: 'voice-worker'
          image: image
          resources: {
            cpu: json(cpu)
            memory: memory
          }
          env: concat(coreEnv, redisAuthEnv, transcriptionEnv, openAiEnv, speechEnv)
          probes: [
            {
              // Up to 30 s for the process to start listening before liveness takes over.
              type: 'Startup'
              httpGet: {
                path: '/healthz'
                port: port
              }
              initialDelaySeconds: 1
              periodSeconds: 3
              timeoutSeconds: 2
              failureThreshold: 10
            }
            {
              type: 'Liveness'
              httpGet: {
                path: '/healthz'
                port: port
              }
              periodSeconds: 10
              timeoutSeconds: 3
              failureThreshold: 3
            }
            {
              // Not ready = no new calls routed here; existing media sockets stay up.
              type: 'Readiness'
              httpGet: {
                path: '/readyz'
                port: port
              }
              periodSeconds: 5
              timeoutSeconds: 3
              failureThreshold: 3
              successThreshold: 1
            }
          ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        // One media WebSocket per live call counts as one concurrent request. A custom (KEDA) rule on
        // archive backlog or on the voice_calls gauge is described in docs/DEPLOY.md, Scaling.
        rules: [
          {
            name: 'calls-per-replica'
            http: {
              metadata: {
                concurrentRequests: string(concurrentRequestsPerReplica)
              }
            }
          }
        ]
      }
    }
  }
}

output id string = app.id
output name string = app.name
output fqdn string = app.properties.configuration.ingress.fqdn
output latestRevisionName string = app.properties.latestRevisionName
