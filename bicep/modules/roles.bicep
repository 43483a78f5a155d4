// Every role the app's managed identity holds, each scoped to the narrowest resource it needs:
// - Cosmos DB: Built-in Data Contributor (data plane, no control plane) on the `voice` database only
//   https://learn.microsoft.com/azure/cosmos-db/nosql/security/how-to-grant-data-plane-role-based-access
// - Service Bus: Data Sender + Data Receiver on the archive queue only (queue scope is supported)
//   https://learn.microsoft.com/azure/service-bus-messaging/service-bus-managed-service-identity
// - Speech (AI services): Cognitive Services Speech User (speech data actions only) for TTS
//   https://learn.microsoft.com/azure/ai-services/speech-service/role-based-access-control
// - ACS: Contributor on the Communication Services resource only. The ACS Entra ID quickstart grants
//   Contributor (https://learn.microsoft.com/azure/communication-services/quickstarts/identity/service-principal),
//   the managed identity page names no role, and no Call Automation role exists; Communication and Email
//   Service Owner is documented for e-mail only. docs/DEPLOY.md, "The ACS role", has the detail;
//   acsRoleDefinitionId lets an operator substitute a custom role.
// - Key Vault Secrets User on the vault (it holds only this app's secrets), AcrPull on the registry.
// infra/check-bicep.mjs fails when an assignment sits on a wider scope (azure-builtin-roles.json narrowestScope).
// The ACS resource's own identity gets Cognitive Services User on the AI services account so ACS can
// transcribe (https://learn.microsoft.com/azure/communication-services/concepts/call-automation/azure-communication-services-azure-cognitive-services-integration).
// principalType ServicePrincipal avoids the replication race on a freshly created identity.

@description('Principal (object) id of the app identity.')
param principalId string

@description('Name of the Cosmos DB account.')
param cosmosAccountName string

@description('Name of the Service Bus namespace.')
param serviceBusNamespaceName string

@description('Cosmos DB database the app reads and writes (the data-plane role is scoped to it).')
param cosmosDatabaseName string

@description('Service Bus queue the app sends to and receives from (the roles are scoped to it).')
param serviceBusQueueName string

@description('Name of the Communication Services resource.')
param acsName string

@description('Role granted on the ACS resource for Call Automation with Entra ID. Default: Contributor.')
param acsRoleDefinitionId string = 'b24988ac-6180-42a0-ab88-20f7382dd24c'

@description('Name of the key vault holding REDIS_URL.')
param keyVaultName string

@description('Name of the container registry; empty when the image comes from elsewhere.')
param acrName string = ''

@description('Name of the Azure OpenAI account; empty when not deployed.')
param openAiName string = ''

@description('Name of the Speech account; empty when not deployed.')
param speechName string = ''

@description('Principal id of the ACS system-assigned identity; granted Cognitive Services User on the Speech account so ACS can transcribe.')
param acsPrincipalId string = ''

var roles = {
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
  cognitiveServicesOpenAiUser: '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'
  cognitiveServicesUser: 'a97b65f3-24c7-4388-baec-2e87135dc908'
  cognitiveServicesSpeechUser: 'f2dc8367-1007-4938-bd23-fe263f013447'
}
// Cosmos DB data-plane role (not an Azure RBAC role): Cosmos DB Built-in Data Contributor.
var cosmosDataContributor = '00000000-0000-0000-0000-000000000002'

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-05-15' existing = {
  name: cosmosAccountName
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' existing = {
  name: serviceBusNamespaceName
}

resource queue 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' existing = {
  parent: serviceBus
  name: serviceBusQueueName
}

resource acs 'Microsoft.Communication/communicationServices@2023-04-01' existing = {
  name: acsName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = if (!empty(acrName)) {
  name: empty(acrName) ? 'unused' : acrName
}

resource openAi 'Microsoft.CognitiveServices/accounts@2023-05-01' existing = if (!empty(openAiName)) {
  name: empty(openAiName) ? 'unused' : openAiName
}

resource speech 'Microsoft.CognitiveServices/accounts@2023-05-01' existing = if (!empty(speechName)) {
  name: empty(speechName) ? 'unused' : speechName
}

resource cosmosData 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-05-15' = {
  parent: cosmos
  name: guid(cosmos.id, principalId, cosmosDataContributor, cosmosDatabaseName)
  properties: {
    roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/${cosmosDataContributor}'
    principalId: principalId
    scope: '${cosmos.id}/dbs/${cosmosDatabaseName}'
  }
}

resource sbSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: queue
  name: guid(queue.id, principalId, roles.serviceBusDataSender)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataSender)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource sbReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: queue
  name: guid(queue.id, principalId, roles.serviceBusDataReceiver)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataReceiver)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource acsCallAutomation 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: acs
  name: guid(acs.id, principalId, acsRoleDefinitionId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acsRoleDefinitionId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource kvSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault
  name: guid(vault.id, principalId, roles.keyVaultSecretsUser)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource acrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(acrName)) {
  scope: registry
  name: guid(registry.id, principalId, roles.acrPull)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.acrPull)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource openAiUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(openAiName)) {
  scope: openAi
  name: guid(openAi.id, principalId, roles.cognitiveServicesOpenAiUser)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.cognitiveServicesOpenAiUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource speechUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(speechName)) {
  scope: speech
  name: guid(speech.id, principalId, roles.cognitiveServicesSpeechUser)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.cognitiveServicesSpeechUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource acsSpeechUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(speechName) && !empty(acsPrincipalId)) {
  scope: speech
  name: guid(speech.id, acsPrincipalId, roles.cognitiveServicesUser)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.cognitiveServicesUser)
    principalId: acsPrincipalId
    principalType: 'ServicePrincipal'
  }
}
