// Optional Azure Container Registry. The app pulls with its managed identity (AcrPull, see roles.bicep);
// the admin user stays disabled. Images are built in Azure with `az acr build` (infra/deploy.sh).

@description('Name of the registry (globally unique, 5-50 alphanumerics).')
param name string

@description('Azure region.')
param location string

@description('Registry SKU.')
@allowed([
  'Basic'
  'Standard'
  'Premium'
])
param skuName string = 'Basic'

@description('Tags applied to every resource.')
param tags object = {}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
  }
  properties: {
    adminUserEnabled: false
    publicNetworkAccess: 'Enabled'
  }
}

output id string = registry.id
output name string = registry.name
output loginServer string = registry.properties.loginServer
