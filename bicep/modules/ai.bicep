// Optional Azure OpenAI (responder) and Azure AI Speech / AI services (TTS, ACS transcription) accounts. Both disable key auth and get a
// custom subdomain, which Entra ID tokens require; the app's identity gets data-plane roles in roles.bicep.

@description('Azure region (must offer the chosen model and Speech).')
param location string

@description('Name of the Azure OpenAI account; empty to skip it.')
param openAiName string = ''

@description('Deployment name (AZURE_OPENAI_DEPLOYMENT).')
param openAiDeploymentName string = 'chat'

@description('Model name.')
param openAiModelName string = 'gpt-4o-mini'

@description('Model version.')
param openAiModelVersion string = '2024-07-18'

@description('Deployment SKU: GlobalStandard or Standard (regional).')
param openAiDeploymentSku string = 'GlobalStandard'

@description('Deployment capacity in thousands of tokens per minute.')
@minValue(1)
param openAiCapacity int = 50

@description('Name of the Speech account; empty to skip it.')
param speechName string = ''

@description('Kind of the Speech account. AIServices (multi-service) also serves ACS real-time transcription and ACS-played TTS; SpeechServices is Speech only.')
@allowed([
  'AIServices'
  'SpeechServices'
])
param speechKind string = 'AIServices'

@description('Tags applied to every resource.')
param tags object = {}

resource openAi 'Microsoft.CognitiveServices/accounts@2023-05-01' = if (!empty(openAiName)) {
  name: empty(openAiName) ? 'unused-openai' : openAiName
  location: location
  tags: tags
  kind: 'OpenAI'
  sku: {
    name: 'S0'
  }
  properties: {
    customSubDomainName: empty(openAiName) ? 'unused-openai' : openAiName
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

resource deployment 'Microsoft.CognitiveServices/accounts/deployments@2023-05-01' = if (!empty(openAiName)) {
  parent: openAi
  name: openAiDeploymentName
  sku: {
    name: openAiDeploymentSku
    capacity: openAiCapacity
  }
  properties: {
    model: {
      format: 'OpenAI'
      name: openAiModelName
      version: openAiModelVersion
    }
  }
}

resource speech 'Microsoft.CognitiveServices/accounts@2023-05-01' = if (!empty(speechName)) {
  name: empty(speechName) ? 'unused-speech' : speechName
  location: location
  tags: tags
  kind: speechKind
  sku: {
    name: 'S0'
  }
  properties: {
    customSubDomainName: empty(speechName) ? 'unused-speech' : speechName
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

output openAiEndpoint string = empty(openAiName) ? '' : openAi.properties.endpoint
output openAiDeploymentName string = empty(openAiName) ? '' : deployment.name
output speechRegion string = empty(speechName) ? '' : location
@description('Custom-domain endpoint of the Speech / AI services account (what ACS needs as its cognitive services endpoint).')
output speechEndpoint string = empty(speechName) ? '' : speech.properties.endpoint
