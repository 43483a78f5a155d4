// infra/check-bicep.mjs against the REST API spec of each resource's API version (infra/azure-schema.json):
// one broken variant per resource family, each of which only a Bicep compile or ARM would otherwise
// reject, at deploy time. The API version, role GUID and partition-key variants are in infra-bicep.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CONFIG_VARIABLES } from '../../src/config.js';
import { checkBicep, checkResourceSchemas, loadAppContainers, loadTables } from '../../infra/check-bicep.mjs';

const root = resolve(import.meta.dirname, '../..');
const tables = loadTables(root);
const schema = tables.schema as { resources: Record<string, unknown> };

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Problems of a copy of bicep/ with `from` replaced by `to` in one module. */
function problemsWith(file: string, from: string, to: string): string[] {
  dir = mkdtempSync(join(tmpdir(), 'bicep-schema-'));
  cpSync(join(root, 'bicep'), join(dir, 'bicep'), { recursive: true });
  const p = join(dir, 'bicep', 'modules', file);
  const before = readFileSync(p, 'utf8');
  expect(before.split(from)).toHaveLength(2); // the edit hits exactly one place
  writeFileSync(p, before.replace(from, to));
  return checkBicep({ root: dir, configVariables: CONFIG_VARIABLES, tables, appContainers: loadAppContainers(root) }).problems;
}

describe('check-bicep: resource bodies against the REST API spec', () => {
  it('has a schema for every type@version the templates declare, and the templates pass', () => {
    const result = checkBicep({ root, configVariables: CONFIG_VARIABLES });
    expect(result.problems).toEqual([]);
    for (const [type, version] of result.apiVersions) expect(Object.keys(schema.resources)).toContain(`${type}@${version}`);
  });

  // [family, module, from, to, expected problem]
  it.each([
    ['Container Apps: env (built in a var, through concat)', 'containerapp.bicep', "secretRef: 'eventgrid-webhook-key'", "secretRefs: 'eventgrid-webhook-key'", /containerApps@2024-03-01 properties\.template\.containers\[\]\.env\[\]\.secretRefs is not a property of env/],
    ['Container Apps: probes', 'containerapp.bicep', 'failureThreshold: 10', 'failureTreshold: 10', /probes\[\]\.failureTreshold is not a property of probes/],
    ['Container Apps: probe type enum', 'containerapp.bicep', "type: 'Startup'", "type: 'Boot'", /probes\[\]\.type 'Boot' is not one of Liveness, Readiness, Startup/],
    ['Container Apps: scale', 'containerapp.bicep', 'minReplicas: minReplicas', 'minReplica: minReplicas', /properties\.template\.scale\.minReplica is not a property of scale/],
    ['Container Apps: secrets', 'containerapp.bicep', 'keyVaultUrl: eventGridKeySecretUri', 'keyVaultUri: eventGridKeySecretUri', /configuration\.secrets\[\]\.keyVaultUri is not a property of secrets/],
    ['Container Apps: identity type enum', 'containerapp.bicep', "type: 'UserAssigned'", "type: 'UserAssign'", /identity\.type 'UserAssign' is not one of/],
    ['Container Apps: template', 'containerapp.bicep', 'terminationGracePeriodSeconds: terminationGracePeriodSeconds', 'terminationGracePeriod: terminationGracePeriodSeconds', /properties\.template\.terminationGracePeriod is not a property of template/],
    ['Container Apps: a bool written as a string', 'containerapp.bicep', 'allowInsecure: false', "allowInsecure: 'false'", /ingress\.allowInsecure is a bool, not a string literal/],
    ['Container Apps: an int written as a string', 'containerapp.bicep', 'initialDelaySeconds: 1', "initialDelaySeconds: '1'", /probes\[\]\.initialDelaySeconds is an int, not a string literal/],
    ['Redis: a string written as an int', 'redis.bicep', "redisVersion: '6'", 'redisVersion: 6', /properties\.redisVersion is a string, not an int literal/],
    ['managed identity: a required property left out', 'identity.bicep', '  location: location\n', '', /userAssignedIdentities@2023-01-31 location is required/],
    ['Cosmos container: the required resource id left out', 'cosmos.bicep', '      id: c.name\n', '', /containers@2024-05-15 properties\.resource\.id is required/],
    ['role assignment: the required principal left out', 'roles.bicep', "    principalId: principalId\n    principalType: 'ServicePrincipal'\n  }\n}\n\nresource sbReceiver", "    principalType: 'ServicePrincipal'\n  }\n}\n\nresource sbReceiver", /roleAssignments@2022-04-01 properties\.principalId is required/],
    ['Container Apps: a read-only property set', 'containerapp.bicep', 'external: true', "external: true\n        fqdn: 'voice.example.com'", /ingress\.fqdn is read-only/],
    ['Container Apps environment', 'monitoring.bicep', "workloadProfileType: 'Consumption'", "workloadProfileTyp: 'Consumption'", /managedEnvironments@2024-03-01 properties\.workloadProfiles\[\]\.workloadProfileTyp is not a property/],
    ['Log Analytics workspace', 'monitoring.bicep', 'retentionInDays: retentionInDays', 'retentionInDay: retentionInDays', /workspaces@2022-10-01 properties\.retentionInDay is not a property/],
    ['Redis', 'redis.bicep', 'enableNonSslPort: false', 'enableNonSsl: false', /redis@2024-11-01 properties\.enableNonSsl is not a property/],
    ['Redis: SKU family enum (ternary)', 'redis.bicep', "family: skuName == 'Premium' ? 'P' : 'C'", "family: skuName == 'Premium' ? 'P' : 'D'", /properties\.sku\.family 'D' is not one of C, P/],
    ['Redis: access policy assignment', 'redis.bicep', "objectIdAlias: 'voice-worker-app'", "objectIdAliass: 'voice-worker-app'", /accessPolicyAssignments@2024-11-01 properties\.objectIdAliass is not a property/],
    ['Cosmos account: consistency enum', 'cosmos.bicep', "defaultConsistencyLevel: 'Session'", "defaultConsistencyLevel: 'Sessions'", /defaultConsistencyLevel 'Sessions' is not one of/],
    ['Cosmos database: autoscale', 'cosmos.bicep', 'maxThroughput: autoscaleMaxThroughput', 'maxThroughpt: autoscaleMaxThroughput', /sqlDatabases@2024-05-15 properties\.options\.autoscaleSettings\.maxThroughpt is not a property/],
    ['Cosmos container: defaultTtl', 'cosmos.bicep', 'defaultTtl: c.defaultTtl', 'defaultTTL: c.defaultTtl', /containers@2024-05-15 properties\.resource\.defaultTTL is not a property of resource/],
    ['Cosmos container: partition key kind enum', 'cosmos.bicep', "kind: 'Hash'", "kind: 'Hashed'", /partitionKey\.kind 'Hashed' is not one of Hash, Range, MultiHash/],
    ['Cosmos container: partition key', 'cosmos.bicep', 'version: 2', 'versions: 2', /partitionKey\.versions is not a property of partitionKey/],
    ['Cosmos container: indexing policy', 'cosmos.bicep', 'automatic: true', 'automatc: true', /indexingPolicy\.automatc is not a property of indexingPolicy/],
    ['Service Bus namespace: TLS enum', 'servicebus.bicep', "minimumTlsVersion: '1.2'", "minimumTlsVersion: '1.4'", /namespaces@2022-10-01-preview properties\.minimumTlsVersion '1\.4' is not one of/],
    ['Service Bus namespace: an @allowed value the spec does not know', 'servicebus.bicep', "  'Premium'\n])", "  'Premium'\n  'Gold'\n])", /sku\.name 'Gold' is not one of Basic, Standard, Premium/],
    ['Service Bus queue', 'servicebus.bicep', "lockDuration: 'PT1M'", "lockDurations: 'PT1M'", /queues@2022-10-01-preview properties\.lockDurations is not a property/],
    ['Communication Services', 'acs.bicep', 'dataLocation: dataLocation', 'dataLocations: dataLocation', /communicationServices@2023-04-01 properties\.dataLocations is not a property/],
    ['Event Grid system topic', 'eventgrid.bicep', 'source: acsId', 'sources: acsId', /systemTopics@2022-06-15 properties\.sources is not a property/],
    ['Event Grid subscription: destination kind', 'eventgrid.bicep', "endpointType: 'WebHook'", "endpointType: 'Webhook'", /properties\.destination\.endpointType 'Webhook' is not one of .*WebHook/],
    ['Event Grid subscription: webhook properties', 'eventgrid.bicep', 'maxEventsPerBatch: 1', 'maxEventPerBatch: 1', /destination\.properties\.maxEventPerBatch is not a property of properties \(WebHookEventSubscriptionDestinationProperties/],
    ['Event Grid subscription: advanced filter kind (in a var)', 'eventgrid.bicep', "operatorType: 'StringIn'", "operatorType: 'StringInside'", /advancedFilters\[\]\.operatorType 'StringInside' is not one of/],
    ['Event Grid subscription: retry policy', 'eventgrid.bicep', 'eventTimeToLiveInMinutes: eventTimeToLiveInMinutes', 'eventTimeToLive: eventTimeToLiveInMinutes', /retryPolicy\.eventTimeToLive is not a property of retryPolicy/],
    ['Key Vault', 'keyvault.bicep', 'enableRbacAuthorization: true', 'enableRbacAuth: true', /vaults@2023-07-01 properties\.enableRbacAuth is not a property/],
    ['Key Vault secret', 'keyvault.bicep', "name: 'eventgrid-webhook-key'\n  properties: {\n    contentType:", "name: 'eventgrid-webhook-key'\n  properties: {\n    contentTyp:", /secrets@2023-07-01 properties\.contentTyp is not a property/],
    ['role assignment: principal type enum', 'roles.bicep', "principalType: 'ServicePrincipal'\n  }\n}\n\nresource sbReceiver", "principalType: 'ServicePrinciple'\n  }\n}\n\nresource sbReceiver", /roleAssignments@2022-04-01 properties\.principalType 'ServicePrinciple' is not one of/],
    ['Cosmos data-plane role assignment', 'roles.bicep', "scope: '${cosmos.id}/dbs/${cosmosDatabaseName}'", "scopes: '${cosmos.id}/dbs/${cosmosDatabaseName}'", /sqlRoleAssignments@2024-05-15 properties\.scopes is not a property/],
    ['Cognitive Services account', 'ai.bicep', "customSubDomainName: empty(speechName) ? 'unused-speech' : speechName\n    disableLocalAuth: true", "customSubDomainName: empty(speechName) ? 'unused-speech' : speechName\n    disableLocalAuthentication: true", /accounts@2023-05-01 properties\.disableLocalAuthentication is not a property/],
    ['Cognitive Services deployment', 'ai.bicep', "format: 'OpenAI'", "formatt: 'OpenAI'", /deployments@2023-05-01 properties\.model\.formatt is not a property of model/],
    ['managed identity', 'identity.bicep', 'tags: tags', 'tag: tags', /userAssignedIdentities@2023-01-31 tag is not a property of the resource/],
    ['container registry', 'acr.bicep', 'adminUserEnabled: false', 'adminUser: false', /registries@2023-07-01 properties\.adminUser is not a property/],
    ['metric alert: criterion kind', 'alerts.bicep', "criterionType: 'StaticThresholdCriterion'", "criterionType: 'Static'", /metricAlerts@2018-03-01 properties\.criteria\.allOf\[\]\.criterionType 'Static' is not one of/],
    ['action group', 'alerts.bicep', 'useCommonAlertSchema: true', 'useCommonSchema: true', /actionGroups@2023-01-01 properties\.emailReceivers\[\]\.useCommonSchema is not a property/],
  ])('fails on %s', (_family, file, from, to, expected) => {
    const problems = problemsWith(file, from, to);
    expect(problems.filter((p) => expected.test(p))).toHaveLength(1);
  });

  // Event Grid delivery with the topic's managed identity (not used by the templates today): the nested
  // identity and destination objects are checked too.
  const withIdentity = (destinationProperties: string) =>
    [
      '    deliveryWithResourceIdentity: {',
      '      identity: {',
      "        type: 'SystemAssigned'",
      '      }',
      '      destination: {',
      "        endpointType: 'WebHook'",
      '        properties: {',
      `          ${destinationProperties}`,
      "          azureActiveDirectoryTenantId: 'tenant'",
      '        }',
      '      }',
      '    }',
      "    eventDeliverySchema: 'EventGridSchema'",
    ].join('\n');

  it('accepts a correct deliveryWithResourceIdentity and refuses a misspelt property inside it', () => {
    const ok = problemsWith('eventgrid.bicep', "    eventDeliverySchema: 'EventGridSchema'", withIdentity('endpointUrl: endpointUrl'));
    expect(ok).toEqual([]);
    const bad = problemsWith('eventgrid.bicep', "    eventDeliverySchema: 'EventGridSchema'", withIdentity('endpointUri: endpointUrl'));
    expect(bad).toEqual([expect.stringMatching(/properties\.deliveryWithResourceIdentity\.destination\.properties\.endpointUri is not a property of properties/)]);
  });

  it('reports a resource type@version with no schema, and an existing resource that sets more than its name', () => {
    const text = [
      "resource a 'Microsoft.Foo/bars@2024-01-01' = {",
      "  name: 'a'",
      '}',
      "resource v 'Microsoft.KeyVault/vaults@2023-07-01' existing = {",
      "  name: 'kv'",
      "  location: 'westeurope'",
      '}',
    ].join('\n');
    expect(checkResourceSchemas('t.bicep', text, tables.schema)).toEqual([
      't.bicep:1: Microsoft.Foo/bars@2024-01-01 has no schema in infra/azure-schema.json (run infra/extract-azure-schema.mjs)',
      't.bicep:4: Microsoft.KeyVault/vaults@2023-07-01 existing resource sets location (only name, parent, scope)',
    ]);
  });
});
