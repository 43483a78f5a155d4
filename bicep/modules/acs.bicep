// Azure Communication Services. Phone numbers are acquired outside the template (portal or
// `az communication phonenumber`), see docs/DEPLOY.md. Call Automation is driven with Entra ID
// (the app's managed identity), not the access key.

@description('Name of the Communication Services resource (globally unique).')
param name string

@description('Where ACS stores data at rest, e.g. United States, Europe, UK, Australia, Japan.')
param dataLocation string = 'United States'

@description('Tags applied to every resource.')
param tags object = {}

resource acs 'Microsoft.Communication/communicationServices@2023-04-01' = {
  name: name
  location: 'global'
  tags: tags
  // ACS's own identity: what it uses to reach an Azure AI services resource for real-time
  // transcription and text-to-speech played by ACS (grant it Cognitive Services User there).
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    dataLocation: dataLocation
  }
}

output id string = acs.id
output name string = acs.name
@description('ACS_ENDPOINT: https://<name>.<region>.communication.azure.com/')
output endpoint string = 'https://${acs.properties.hostName}/'
@description('ACS_RESOURCE_ID: the immutable resource id ACS puts in the audience of its callback JWTs.')
output immutableResourceId string = acs.properties.immutableResourceId
@description('Principal id of the ACS system-assigned identity.')
output principalId string = acs.identity.principalId
