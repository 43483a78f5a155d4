#!/usr/bin/env node
// Static checks on bicep/ that need no Bicep compiler: module wiring, parameter contracts, the container
// app's environment variables against the app's config contract, secrets kept out of the templates, API
// versions, every resource body against the REST API spec of its API version (check-bicep-schema.mjs),
// role GUIDs and their scopes (check-bicep-roles.mjs), Cosmos DB partition keys against the app's.
// Usage: node infra/check-bicep.mjs [repo root]   (exit 1 and one line per problem when something is wrong)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { matchBracket, scanBicep } from './bicep-scan.mjs';
import { checkRoleScopes } from './check-bicep-roles.mjs';
import { checkResourceSchemas } from './check-bicep-schema.mjs';

export { scanBicep } from './bicep-scan.mjs';
export { checkResourceSchemas } from './check-bicep-schema.mjs';
export { checkRoleScopes } from './check-bicep-roles.mjs';

/** Variables the app does not parse itself but the Azure SDK's DefaultAzureCredential reads. */
export const SDK_VARIABLES = Object.freeze(['AZURE_CLIENT_ID']);

/** Environment variable names whose value must come from a secret reference, never a plain value. */
const SECRET_NAME = /KEY|SECRET|PASSWORD|TOKEN|CONNECTION_STRING|^REDIS_URL$/;

/** Keys at the top level of the object literal whose `{` is at `open`. */
function topLevelKeys(masked, open) {
  const close = matchBracket(masked, open);
  if (close === -1) return [];
  const keys = [];
  let depth = 0;
  let lineStart = true;
  for (let i = open + 1; i < close; i++) {
    const ch = masked[i];
    if (ch === '{' || ch === '[' || ch === '(') depth++;
    else if (ch === '}' || ch === ']' || ch === ')') depth--;
    if (ch === '\n') {
      lineStart = true;
      continue;
    }
    if (lineStart && depth === 0 && /\S/.test(ch)) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*:/.exec(masked.slice(i, i + 200));
      if (m) keys.push(m[1]);
      lineStart = false;
    } else if (/\S/.test(ch)) {
      lineStart = false;
    }
  }
  return keys;
}

/** Declared parameters of a .bicep or .bicepparam file: name -> { required, secure, hasDefault }. */
export function parseParams(text) {
  const { code } = scanBicep(text);
  const params = new Map();
  const lines = code.split('\n');
  let decorators = [];
  for (const line of lines) {
    const t = line.trim();
    if (t.startsWith('@')) {
      decorators.push(t);
      continue;
    }
    const m = /^param\s+([A-Za-z_][A-Za-z0-9_]*)\b(.*)$/.exec(t);
    if (m) {
      const rest = m[2].trim();
      const hasDefault = /=/.test(rest);
      const nullable = /^[^=]*\?\s*(=|$)/.test(rest);
      params.set(m[1], {
        hasDefault,
        required: !hasDefault && !nullable,
        secure: decorators.some((d) => d.startsWith('@secure(')),
        defaultText: hasDefault ? rest.slice(rest.indexOf('=') + 1).trim() : null,
      });
    }
    if (t !== '') decorators = [];
  }
  return params;
}

/** Module calls: symbol, path, the parameter names passed, and the line. */
export function parseModules(text) {
  const { masked, code } = scanBicep(text);
  const modules = [];
  const re = /^module\s+([A-Za-z_][A-Za-z0-9_]*)\s+'([^']+)'\s*=/gm;
  let m;
  while ((m = re.exec(code)) !== null) {
    const bodyOpen = masked.indexOf('{', m.index + m[0].length);
    const bodyClose = bodyOpen === -1 ? -1 : matchBracket(masked, bodyOpen);
    let params = [];
    if (bodyClose !== -1) {
      const body = masked.slice(bodyOpen, bodyClose);
      const pm = /\n\s*params\s*:\s*\{/.exec(body);
      if (pm) params = topLevelKeys(masked, bodyOpen + pm.index + pm[0].length - 1);
    }
    modules.push({ symbol: m[1], path: m[2], params, line: code.slice(0, m.index).split('\n').length });
  }
  return modules;
}

/** Environment variable names a container app template sets: `{ name: 'X' / value|secretRef: ... }`. */
export function parseEnvEntries(text) {
  const { code } = scanBicep(text);
  const entries = [];
  const re = /\{\s*name:\s*'([A-Z][A-Z0-9_]*)'\s*\n\s*(value|secretRef)\s*:/g;
  let m;
  while ((m = re.exec(code)) !== null) entries.push({ name: m[1], kind: m[2] });
  return entries;
}

const LITERAL_SECRET_PATTERNS = [
  [/AccountKey=/i, 'a storage/Cosmos account key'],
  [/SharedAccessKey=/i, 'a Service Bus / Event Hubs SAS key'],
  [/(^|;)accesskey=/i, 'an ACS access key'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
  [/^rediss?:\/\/[^@\s]*:[^@\s]+@/i, 'a Redis password'],
  [/\bsig=[A-Za-z0-9%+/=]{20,}/, 'a SAS signature'],
];

function looksLikeKey(segment) {
  for (const m of segment.matchAll(/(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{32,}={0,2}(?![A-Za-z0-9+/=])/g)) {
    const s = m[0];
    if (/[a-z]/.test(s) && /[A-Z]/.test(s) && /\d/.test(s)) return true;
  }
  return false;
}

/** Problems with secrets in one Bicep file: literals, secure defaults, secret-bearing outputs. */
export function findSecretProblems(file, text) {
  const problems = [];
  const { code, masked, strings } = scanBicep(text);
  const lineOf = (offset) => code.slice(0, offset).split('\n').length;
  for (const s of strings) {
    for (const seg of s.segments) {
      for (const [re, what] of LITERAL_SECRET_PATTERNS) {
        if (re.test(seg)) problems.push(`${file}:${lineOf(s.offset)}: string literal looks like ${what}`);
      }
      if (looksLikeKey(seg)) problems.push(`${file}:${lineOf(s.offset)}: string literal looks like a key or token`);
    }
  }
  for (const [name, p] of parseParams(text)) {
    // newGuid() is generated at deployment time (allowed only as a parameter default): no value in the template.
    if (p.secure && p.hasDefault && p.defaultText !== "''" && p.defaultText !== 'newGuid()') {
      problems.push(`${file}: @secure() param ${name} has a default value`);
    }
  }
  const outputRe = /^output\s+([A-Za-z_][A-Za-z0-9_]*)\b[^\n]*/gm;
  let m;
  while ((m = outputRe.exec(masked)) !== null) {
    const line = code.slice(m.index, m.index + m[0].length);
    if (/list(Keys|ConnectionStrings|Credentials|Secrets)\s*\(|primaryKey|secondaryKey|connectionString/i.test(line)) {
      problems.push(`${file}:${lineOf(m.index)}: output ${m[1]} exposes a key or connection string`);
    }
  }
  return problems;
}

/** Lines with a comma outside parentheses: single-line object/array literals, which older Bicep rejects. */
export function findSingleLineLiterals(file, text) {
  const { masked } = scanBicep(text);
  const problems = [];
  let paren = 0;
  let line = 1;
  for (const ch of masked) {
    if (ch === '\n') line++;
    else if (ch === '(') paren++;
    else if (ch === ')') paren--;
    else if (ch === ',' && paren === 0) problems.push(`${file}:${line}: single-line object or array literal (write one entry per line)`);
  }
  return problems;
}

/** Checks specific to the container app template. */
export function checkContainerApp(file, text, configVariables) {
  const problems = [];
  const allowed = new Set([...configVariables, ...SDK_VARIABLES]);
  const entries = parseEnvEntries(text);
  const seen = new Set();
  for (const e of entries) {
    if (!allowed.has(e.name)) problems.push(`${file}: env ${e.name} is not a variable the app reads (src/config.ts)`);
    if (seen.has(e.name)) problems.push(`${file}: env ${e.name} is set twice`);
    seen.add(e.name);
    if (SECRET_NAME.test(e.name) && e.kind !== 'secretRef') problems.push(`${file}: env ${e.name} must use secretRef`);
  }
  const { masked, code } = scanBicep(text);
  const sm = /\n\s*secrets\s*:\s*\[/.exec(masked);
  if (sm) {
    const open = sm.index + sm[0].length - 1;
    const block = code.slice(open, matchBracket(masked, open) + 1);
    if (/\bvalue\s*:/.test(block)) problems.push(`${file}: container app secrets must be Key Vault references (keyVaultUrl), not values`);
  }
  const grace = /terminationGracePeriodSeconds\s*=\s*\(?\s*shutdownDrainTimeoutMs\s*\/\s*1000\s*\)?\s*\+\s*(\d+)/.exec(code);
  if (!grace) problems.push(`${file}: terminationGracePeriodSeconds must be derived from shutdownDrainTimeoutMs / 1000 + margin`);
  else if (Number(grace[1]) < 5) problems.push(`${file}: terminationGracePeriodSeconds margin ${grace[1]} s is below 5 s`);
  return { problems, envNames: entries.map((e) => e.name) };
}

/** Every .bicep and .bicepparam file under dir, sorted. */
export function listBicepFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listBicepFiles(p));
    else if (/\.bicep(param)?$/.test(entry.name)) out.push(p);
  }
  return out.sort();
}

/** The app's config variable names: the keys of the schema in src/config.ts (the source, never a stale build). */
export async function loadConfigVariables(root) {
  return parseConfigFiles((f) => readFileSync(join(root, 'src', f), 'utf8'));
}

/** config.ts's schema plus the sections it spreads in (`...ADMISSION_SCHEMA` from config-admission.ts). */
export function parseConfigFiles(read) {
  const names = parseConfigSource(read('config.ts'));
  const admission = read('config-admission.ts');
  const start = admission.indexOf('ADMISSION_SCHEMA = {');
  const end = admission.indexOf('\n};', start);
  if (start === -1 || end === -1) throw new Error('src/config-admission.ts: ADMISSION_SCHEMA = { ... } not found');
  return [...names, ...[...admission.slice(start, end).matchAll(/^ {2}([A-Z][A-Z0-9_]*)\s*:/gm)].map((m) => m[1])];
}

/** The keys of the env schema (`const schema = z.object({ ... })`) in the text of src/config.ts. */
export function parseConfigSource(src) {
  const start = src.indexOf('z.object({');
  const end = src.indexOf('\n});', start);
  if (start === -1 || end === -1) throw new Error('src/config.ts: schema z.object({ ... }) not found');
  return [...src.slice(start, end).matchAll(/^ {2}([A-Z][A-Z0-9_]*)\s*:/gm)].map((m) => m[1]);
}

/** The checked-in tables (infra/azure-*.json): API versions, property schema, built-in role GUIDs. */
export function loadTables(root) {
  const read = (name) => JSON.parse(readFileSync(join(root, 'infra', name), 'utf8'));
  return { apiVersions: read('azure-api-versions.json'), schema: read('azure-schema.json'), roles: read('azure-builtin-roles.json') };
}

/** The containers and partition keys the app writes (ARCHIVE_CONTAINERS in cosmos-containers.ts). */
export function loadAppContainers(root) {
  const src = readFileSync(join(root, 'src/adapters/cosmos/cosmos-containers.ts'), 'utf8');
  const m = /ARCHIVE_CONTAINERS\s*=\s*\{([^}]*)\}/.exec(src);
  if (!m) throw new Error('src/adapters/cosmos/cosmos-containers.ts: ARCHIVE_CONTAINERS not found');
  return Object.fromEntries([...m[1].matchAll(/(\w+):\s*'([^']+)'/g)].map((x) => [x[1], x[2]]));
}

/** type@version against the versions the provider publishes (azure-api-versions.json). */
export function checkApiVersion(file, type, version, table) {
  const [provider, ...rest] = type.split('/');
  const p = table.providers[provider];
  if (!p) return [`${file}: ${type}@${version}: provider ${provider} is not in infra/azure-api-versions.json`];
  const versions = p.types[rest.join('/')];
  if (!versions) return [`${file}: ${type}@${version}: resource type ${rest.join('/')} is not in infra/azure-api-versions.json`];
  if (!versions.includes(version)) return [`${file}: ${type}@${version}: ${version} is not a published API version (known: ${versions.join(', ')})`];
  return [];
}

/** Every role GUID in a role-assignment template is a known built-in role (azure-builtin-roles.json). */
export function checkRoleGuids(file, code, roles) {
  if (!/roleAssignments@|sqlRoleAssignments@/.test(code)) return [];
  const known = { ...roles.rbac, ...roles.cosmosDataPlane };
  const problems = [];
  for (const m of code.matchAll(/'([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})'/gi)) {
    if (!known[m[1].toLowerCase()]) problems.push(`${file}: role definition ${m[1]} is not a built-in role in infra/azure-builtin-roles.json`);
  }
  return problems;
}

/** The template's containers (name + partitionKey) against the ones the app writes. */
export function checkContainerKeys(file, code, appContainers) {
  const problems = [];
  const declared = Object.fromEntries([...code.matchAll(/name:\s*'(\w+)'\s+partitionKey:\s*'([^']+)'/g)].map((m) => [m[1], m[2]]));
  for (const [name, key] of Object.entries(appContainers)) {
    if (!(name in declared)) problems.push(`${file}: container ${name} (the app writes ${key}) is not declared`);
    else if (declared[name] !== key) problems.push(`${file}: container ${name} has partition key ${declared[name]}, the app writes ${key}`);
  }
  return problems;
}

/**
 * Runs every check on <root>/bicep. Returns problems (empty when all is well) and what was found,
 * so a test can assert on both.
 */
export function checkBicep({ root, configVariables, tables = loadTables(root), appContainers = loadAppContainers(root) }) {
  const bicepDir = join(root, 'bicep');
  const problems = [];
  const files = listBicepFiles(bicepDir);
  const rel = (p) => relative(root, p);
  const envNames = [];
  const moduleCalls = [];
  const apiVersions = new Map();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    problems.push(...findSecretProblems(rel(file), text), ...findSingleLineLiterals(rel(file), text));
    const { code } = scanBicep(text);
    for (const m of code.matchAll(/^(?:resource\s+\w+\s+)'([A-Za-z.]+\/[A-Za-z/]+)@([^']+)'/gm)) {
      if (!/^\d{4}-\d{2}-\d{2}(-preview)?$/.test(m[2])) problems.push(`${rel(file)}: ${m[1]} has a malformed API version ${m[2]}`);
      else problems.push(...checkApiVersion(rel(file), m[1], m[2], tables.apiVersions));
      apiVersions.set(m[1], m[2]);
    }
    problems.push(...checkResourceSchemas(rel(file), text, tables.schema), ...checkRoleGuids(rel(file), code, tables.roles), ...checkRoleScopes(rel(file), text, tables.roles));
    if (file.endsWith('cosmos.bicep')) problems.push(...checkContainerKeys(rel(file), code, appContainers));
    if (/'Microsoft\.App\/containerApps@/.test(text)) {
      const r = checkContainerApp(rel(file), text, configVariables);
      problems.push(...r.problems);
      envNames.push(...r.envNames);
    }
    if (!file.endsWith('.bicep')) continue;
    for (const call of parseModules(text)) {
      const target = resolve(dirname(file), call.path);
      moduleCalls.push({ from: rel(file), ...call });
      if (!existsSync(target)) {
        problems.push(`${rel(file)}:${call.line}: module ${call.symbol} references missing ${call.path}`);
        continue;
      }
      const declared = parseParams(readFileSync(target, 'utf8'));
      for (const p of call.params) {
        if (!declared.has(p)) problems.push(`${rel(file)}:${call.line}: module ${call.symbol} passes ${p}, not a param of ${call.path}`);
      }
      for (const [name, p] of declared) {
        if (p.required && !call.params.includes(name)) {
          problems.push(`${rel(file)}:${call.line}: module ${call.symbol} omits required param ${name} of ${call.path}`);
        }
      }
    }
  }
  for (const file of files.filter((f) => f.endsWith('.bicepparam'))) {
    const text = readFileSync(file, 'utf8');
    const using = /^using\s+'([^']+)'/m.exec(scanBicep(text).code);
    if (!using) {
      problems.push(`${rel(file)}: no using statement`);
      continue;
    }
    const target = resolve(dirname(file), using[1]);
    if (!existsSync(target)) {
      problems.push(`${rel(file)}: using ${using[1]} which does not exist`);
      continue;
    }
    const declared = parseParams(readFileSync(target, 'utf8'));
    const given = parseParams(text);
    for (const name of given.keys()) {
      if (!declared.has(name)) problems.push(`${rel(file)}: param ${name} is not declared in ${using[1]}`);
    }
    for (const [name, p] of declared) {
      if (p.required && !given.has(name)) problems.push(`${rel(file)}: required param ${name} of ${using[1]} has no value`);
    }
  }
  return { problems, files: files.map(rel), envNames, moduleCalls, apiVersions };
}

async function main() {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const configVariables = await loadConfigVariables(root);
  const { problems, files, envNames, moduleCalls } = checkBicep({ root, configVariables });
  for (const p of problems) console.error(p);
  console.log(
    `${files.length} files, ${moduleCalls.length} module calls, ${envNames.length} env vars checked: ` +
      (problems.length === 0 ? 'ok' : `${problems.length} problem(s)`),
  );
  process.exitCode = problems.length === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main();
}
