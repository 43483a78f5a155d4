// Example parameters. infra/deploy.sh sets the VOICE_* environment variables; every value below can
// also be edited in place. Secrets never go here: Redis's key is written to Key Vault by the template,
// everything else authenticates with the app's managed identity.
using './main.bicep'

param baseName = readEnvironmentVariable('VOICE_BASE_NAME', 'voicewk')
param environmentName = readEnvironmentVariable('VOICE_ENV', 'prod')
param containerImage = readEnvironmentVariable('VOICE_IMAGE', 'ghcr.io/example/voice-worker:0.1.0')
param deployAcr = bool(readEnvironmentVariable('VOICE_DEPLOY_ACR', 'false'))
param deployApp = bool(readEnvironmentVariable('VOICE_DEPLOY_APP', 'true'))
param deployIncomingCallSubscription = bool(readEnvironmentVariable('VOICE_DEPLOY_INCOMING_CALL', 'true'))

// Route only these numbers to this deployment (bought on the ACS resource after the first deploy).
param incomingCallPhoneNumbers = []
param acsDataLocation = 'United States'

param redisSku = 'Standard'
param redisCapacity = 1
param cosmosServerless = false
param cosmosAutoscaleMaxThroughput = 1000

param appName = 'rtvoice'
param logLevel = 'info'
param mediaAudioFormat = 'pcm16KMono'
param mediaChannels = 'mixed'
param transcriptionLocale = 'en-US'
param shutdownDrainTimeoutMs = 30000

param cpu = '1.0'
param memory = '2Gi'
param minReplicas = 2
param maxReplicas = 20
// Calls per replica at which to add a replica: take the media benchmark's sustainable figure for
// 1 vCPU and keep ~30 % headroom (docs/DEPLOY.md, Scaling).
param callsPerReplica = 50

// Azure Monitor alerts (dead-letters, archive backlog, restarts, Cosmos 429s, Redis load); empty: none.
param alertEmail = readEnvironmentVariable('VOICE_ALERT_EMAIL', '')

param deployOpenAi = false
param deploySpeech = true

param tags = {
  app: 'voice-worker'
  owner: 'voice-team'
}
