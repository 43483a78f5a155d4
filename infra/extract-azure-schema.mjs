#!/usr/bin/env node
// Regenerates infra/azure-schema.json: the property names, nesting, read-only flags and enum values of
// every resource type@apiVersion the templates in bicep/ declare, taken from the types the Bicep
// compiler itself checks against. Those are generated from the Azure REST API specs
// (github.com/Azure/azure-rest-api-specs, resource-manager swagger) into github.com/Azure/bicep-types-az,
// generated/<spec>/<provider>/<version>/types.json.
// Usage: node infra/extract-azure-schema.mjs <bicep-types-az checkout or bare git dir> [repo root]
// Only reads JSON; writes infra/azure-schema.json. Run it after changing an API version in bicep/.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listBicepFiles, scanBicep } from './check-bicep.mjs';

const FLAG_REQUIRED = 1;
const FLAG_READ_ONLY = 2;

/**
 * The swagger file of a resource type where it is not the provider's file in azure-api-versions.json
 * (older specs layout, specification/<service>/resource-manager/<Provider>/{stable,preview}/<version>/).
 */
const SWAGGER_FILE = {
  'Microsoft.App/managedEnvironments': 'ManagedEnvironments.json',
  'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments': 'rbac.json',
  'Microsoft.DocumentDB/databaseAccounts': 'cosmos-db.json',
  'Microsoft.DocumentDB/databaseAccounts/sqlDatabases': 'cosmos-db.json',
  'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers': 'cosmos-db.json',
  'Microsoft.KeyVault/vaults/secrets': 'secrets.json',
  'Microsoft.ServiceBus/namespaces/queues': 'Queue.json',
  'Microsoft.Insights/actionGroups': 'stable/2023-01-01/actionGroups_API.json',
  'Microsoft.Insights/metricAlerts': 'stable/2018-03-01/metricAlert_API.json',
  'Microsoft.Cache/redis': 'redis.json',
  'Microsoft.Cache/redis/accessPolicyAssignments': 'redis.json',
};

function swaggerOf(type, version, providerSpec) {
  if (!providerSpec) return null;
  const dir = providerSpec.replace(/\/(stable|preview)\/.*$/, '');
  const file = SWAGGER_FILE[type];
  if (file?.includes('/')) return `${dir}/${file}`;
  const stage = version.endsWith('-preview') ? 'preview' : 'stable';
  return `${dir}/${stage}/${version}/${file ?? providerSpec.split('/').pop()}`;
}

function source(typesRepo) {
  const checkout = existsSync(join(typesRepo, 'generated'));
  const git = (...args) => execFileSync('git', ['--git-dir', typesRepo, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  return {
    commit: checkout ? null : git('log', '-1', '--format=%H %cI %s').trim(),
    list: () =>
      checkout
        ? readdirSync(join(typesRepo, 'generated'), { recursive: true }).map((p) => join('generated', String(p))).filter((p) => p.endsWith('/types.json'))
        : git('ls-tree', '-r', '--name-only', 'HEAD', 'generated').split('\n').filter((p) => p.endsWith('/types.json')),
    read: (p) => (checkout ? readFileSync(join(typesRepo, p), 'utf8') : git('show', `HEAD:${p}`)),
  };
}

/** The type@version strings every `resource` declaration in bicep/ uses. */
function usedTypes(root) {
  const used = new Set();
  for (const file of listBicepFiles(join(root, 'bicep'))) {
    const { code } = scanBicep(readFileSync(file, 'utf8'));
    for (const m of code.matchAll(/^\s*resource\s+\w+\s+'([A-Za-z.]+\/[A-Za-z/]+@[^']+)'/gm)) used.add(m[1]);
  }
  return [...used].sort();
}

/** Compacts one types.json into the checker's encoding, keeping only types reachable from `bodies`. */
function compact(types, out, memo, ref) {
  const idx = Number(/^#\/(\d+)$/.exec(ref.$ref)[1]);
  if (memo.has(idx)) return memo.get(idx);
  const t = types[idx];
  switch (t.$type) {
    case 'StringType':
      return 'string';
    case 'IntegerType':
      return 'int';
    case 'BooleanType':
      return 'bool';
    case 'AnyType':
      return 'any';
    case 'NullType':
      return 'null';
    case 'StringLiteralType':
      return { enum: [t.value] };
    case 'ArrayType':
      return { array: compact(types, out, memo, t.itemType) };
    case 'UnionType': {
      const parts = t.elements.map((e) => compact(types, out, memo, e));
      if (parts.every((p) => p === 'string' || (typeof p === 'object' && p.enum))) {
        const values = parts.flatMap((p) => (p === 'string' ? [] : p.enum));
        return parts.includes('string') ? { enum: values, open: true } : { enum: values };
      }
      return { union: parts };
    }
    case 'ObjectType':
    case 'DiscriminatedObjectType': {
      const id = out.length;
      memo.set(idx, id);
      const node = { name: t.name };
      out.push(node);
      const props = (p) =>
        Object.fromEntries(
          Object.entries(p ?? {}).map(([k, v]) => {
            const type = compact(types, out, memo, v.type);
            const flags = v.flags ?? 0;
            return [k, flags & FLAG_READ_ONLY ? [type, 'ro'] : flags & FLAG_REQUIRED ? [type, 'req'] : type];
          }),
        );
      if (t.$type === 'ObjectType') {
        node.props = props(t.properties);
        if (t.additionalProperties) node.extra = compact(types, out, memo, t.additionalProperties);
      } else {
        node.discriminator = t.discriminator;
        node.props = props(t.baseProperties);
        node.variants = Object.fromEntries(Object.entries(t.elements).map(([k, v]) => [k, compact(types, out, memo, v)]));
      }
      return id;
    }
    default:
      return 'any';
  }
}

function main() {
  const typesRepo = resolve(process.argv[2] ?? '');
  const root = resolve(process.argv[3] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const src = source(typesRepo);
  const files = src.list();
  const out = [];
  const resources = {};
  const cache = new Map();
  const versions = JSON.parse(readFileSync(join(root, 'infra', 'azure-api-versions.json'), 'utf8'));
  for (const typeAtVersion of usedTypes(root)) {
    const [type, version] = typeAtVersion.split('@');
    const provider = type.split('/')[0].toLowerCase();
    const candidates = files.filter((p) => p.includes(`/${provider}/${version}/`));
    let found = null;
    for (const p of candidates) {
      if (!cache.has(p)) cache.set(p, { types: JSON.parse(src.read(p)), memo: new Map() });
      const entry = cache.get(p);
      const rt = entry.types.find((t) => t.$type === 'ResourceType' && t.name.toLowerCase() === typeAtVersion.toLowerCase());
      if (rt) {
        const log = src.read(p.replace(/\/[^/]+\/[^/]+\/types\.json$/, '/log.out'));
        const readme = /Generating types for '([^']+)'/.exec(log)?.[1] ?? null;
        const swagger = swaggerOf(type, version, versions.providers[type.split('/')[0]]?.spec);
        found = { body: compact(entry.types, out, entry.memo, rt.body), from: `bicep-types-az/${p}`, spec: readme, swagger };
        break;
      }
    }
    if (!found) throw new Error(`${typeAtVersion}: no types.json in ${typesRepo} declares it`);
    resources[typeAtVersion] = found;
  }
  const table = {
    about:
      'Property names, nesting, read-only flags and enum values of every resource type@apiVersion in bicep/, as the Azure REST API specs define them (per resource: swagger = the resource-manager JSON of that API version, spec = the readme it is generated from at the specs commit named in source), in the form the Bicep compiler checks them (github.com/Azure/bicep-types-az generated/, path under from). Spot-checked against the swagger: Microsoft.App 2024-03-01 CommonDefinitions.json EnvironmentVar, ContainerAppProbe, ContainerResources, Scale. Generated by infra/extract-azure-schema.mjs; do not edit by hand. Encoding: a property type is "string" | "int" | "bool" | "any" | {enum, open?} | {array} | {union} | an index into types; an object type has props (a [type, "ro"] pair is read-only, [type, "req"] required) and extra (additional properties); a discriminated one has discriminator and variants.',
    source: {
      specs: 'https://github.com/Azure/azure-rest-api-specs',
      types: 'https://github.com/Azure/bicep-types-az',
      typesCommit: src.commit,
      extracted: new Date().toISOString().slice(0, 10),
    },
    resources,
    types: out,
  };
  // One resource and one type a line: reviewable diffs when a version changes.
  const lines = (entries) => entries.map(([k, v]) => `    ${k === null ? '' : `${JSON.stringify(k)}: `}${JSON.stringify(v)}`).join(',\n');
  const text = [
    '{',
    `  "about": ${JSON.stringify(table.about)},`,
    `  "source": ${JSON.stringify(table.source)},`,
    '  "resources": {',
    lines(Object.entries(resources)),
    '  },',
    '  "types": [',
    lines(out.map((t) => [null, t])),
    '  ]',
    '}',
    '',
  ].join('\n');
  JSON.parse(text);
  writeFileSync(join(root, 'infra', 'azure-schema.json'), text);
  console.log(`${Object.keys(resources).length} resource types, ${out.length} object types -> infra/azure-schema.json`);
}

main();
