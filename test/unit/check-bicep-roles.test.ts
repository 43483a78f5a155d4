// infra/check-bicep.mjs, least privilege: each role the app identity (or ACS's identity) holds sits on the
// narrowest scope its documentation supports (infra/azure-builtin-roles.json narrowestScope, docs/DEPLOY.md
// Roles): Service Bus Data Sender/Receiver on the queue
// (https://learn.microsoft.com/azure/service-bus-messaging/service-bus-managed-service-identity), the Cosmos
// DB data-plane role on the database
// (https://learn.microsoft.com/azure/cosmos-db/nosql/security/how-to-grant-data-plane-role-based-access),
// Speech on its account, Contributor only on the Communication Services resource, a Redis data policy.
import { afterEach, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CONFIG_VARIABLES } from '../../src/config.js';
import { checkBicep, loadAppContainers, loadTables } from '../../infra/check-bicep.mjs';

const root = resolve(import.meta.dirname, '../..');
const tables = loadTables(root);

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function problemsWith(file: string, from: string, to: string): string[] {
  dir = mkdtempSync(join(tmpdir(), 'bicep-roles-'));
  cpSync(join(root, 'bicep'), join(dir, 'bicep'), { recursive: true });
  const p = join(dir, 'bicep', 'modules', file);
  const before = readFileSync(p, 'utf8');
  expect(before.split(from)).toHaveLength(2);
  writeFileSync(p, before.replace(from, to));
  return checkBicep({ root: dir, configVariables: CONFIG_VARIABLES, tables, appContainers: loadAppContainers(root) }).problems;
}

describe('check-bicep: role assignments on their narrowest scope', () => {
  it.each([
    ['Service Bus Data Sender on the namespace instead of the queue', "scope: queue\n  name: guid(queue.id, principalId, roles.serviceBusDataSender)", "scope: serviceBus\n  name: guid(queue.id, principalId, roles.serviceBusDataSender)", /sbSender: Azure Service Bus Data Sender is assigned on serviceBus \(Microsoft\.ServiceBus\/namespaces\), its narrowest scope is Microsoft\.ServiceBus\/namespaces\/queues/],
    ['Service Bus Data Receiver on the resource group', "  scope: queue\n  name: guid(queue.id, principalId, roles.serviceBusDataReceiver)", "  name: guid(queue.id, principalId, roles.serviceBusDataReceiver)", /sbReceiver: Azure Service Bus Data Receiver is assigned on the resource group/],
    ['the Cosmos DB data-plane role on the whole account', "scope: '${cosmos.id}/dbs/${cosmosDatabaseName}'", "scope: cosmos.id", /cosmosData: Cosmos DB Built-in Data Contributor is scoped to cosmos\.id, not a \/dbs\/<database> scope/],
    ['Speech User on another resource', "  scope: speech\n  name: guid(speech.id, principalId", "  scope: acs\n  name: guid(speech.id, principalId", /speechUser: Cognitive Services Speech User is assigned on acs/],
    ['Contributor on a resource other than ACS', "roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)", "roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'b24988ac-6180-42a0-ab88-20f7382dd24c')", /kvSecrets: Contributor is assigned on vault \(Microsoft\.KeyVault\/vaults\), its narrowest scope is Microsoft\.Communication\/communicationServices/],
  ])('fails on %s', (_what, from, to, expected) => {
    expect(problemsWith('roles.bicep', from, to).filter((p) => expected.test(p))).toHaveLength(1);
  });

  it('fails on the Redis Data Owner access policy', () => {
    const problems = problemsWith('redis.bicep', "accessPolicyName: 'Data Contributor'", "accessPolicyName: 'Data Owner'");
    expect(problems).toEqual([expect.stringMatching(/appAccess: Redis access policy Data Owner is not one of Data Reader, Data Contributor/)]);
  });

  it('fails on a built-in role with no recorded least-privilege scope', () => {
    // Reader is a real built-in role, but not one the app needs: it must be added to the table on purpose.
    const problems = problemsWith('roles.bicep', "  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'", "  acrPull: 'acdd72a7-3385-48ef-bd42-f606fba81ae7'");
    expect(problems.some((p) => /acrPull: role acdd72a7-3385-48ef-bd42-f606fba81ae7 has no least-privilege scope/.test(p))).toBe(true);
  });
});
