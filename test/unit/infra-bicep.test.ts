import { afterEach, describe, expect, it } from 'vitest';
import { ARCHIVE_CONTAINERS } from '../../src/adapters/cosmos/cosmos-containers.js';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CONFIG_VARIABLES } from '../../src/config.js';
import {
  checkBicep,
  loadAppContainers,
  loadTables,
  findSecretProblems,
  findSingleLineLiterals,
  parseConfigFiles,
  parseModules,
  parseParams,
  scanBicep,
} from '../../infra/check-bicep.mjs';

const root = resolve(import.meta.dirname, '../..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');

/** The variables the deployment must set (the app's public config contract for Azure). */
const REQUIRED_ENV = [
  'PORT', 'PUBLIC_BASE_URL', 'APP_NAME', 'APP_ENV', 'LOG_LEVEL', 'REDIS_HOST', 'REDIS_AUTH', 'REDIS_USERNAME', 'EVENTGRID_WEBHOOK_KEY', 'COSMOS_ENDPOINT', 'COSMOS_DATABASE',
  'SERVICEBUS_NAMESPACE', 'SERVICEBUS_ARCHIVE_QUEUE', 'ACS_ENDPOINT', 'ACS_RESOURCE_ID', 'ACS_JWKS_URL',
  'ACS_JWT_ISSUER', 'MEDIA_AUDIO_FORMAT', 'MEDIA_CHANNELS', 'TRANSCRIPTION_LOCALE', 'SHUTDOWN_DRAIN_TIMEOUT_MS',
  'AZURE_CLIENT_ID',
];

describe('bicep deployment', () => {
  it('passes every static check against the app config contract', () => {
    const result = checkBicep({ root, configVariables: CONFIG_VARIABLES });
    expect(result.problems).toEqual([]);
    expect(result.envNames).toEqual(expect.arrayContaining(REQUIRED_ENV));
    expect(result.envNames).toEqual(
      expect.arrayContaining(['RESPONDER', 'AZURE_OPENAI_ENDPOINT', 'AZURE_OPENAI_DEPLOYMENT', 'TTS', 'AZURE_SPEECH_ENDPOINT', 'ACS_COGNITIVE_SERVICES_ENDPOINT']),
    );
  });

  it('wires one module per service from main.bicep', () => {
    const paths = parseModules(read('bicep/main.bicep')).map((m) => m.path).sort();
    for (const name of ['identity', 'monitoring', 'redis', 'keyvault', 'cosmos', 'servicebus', 'acs', 'eventgrid', 'containerapp', 'roles', 'ai', 'acr', 'alerts']) {
      expect(paths).toContain(`modules/${name}.bicep`);
    }
  });

  it('reads the same variable list from src/config.ts as the app exports', () => {
    const fromSource = parseConfigFiles((f: string) => read(`src/${f}`));
    expect([...fromSource].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it('keeps the queue, containers and grace period the app relies on', () => {
    const sb = scanBicep(read('bicep/modules/servicebus.bicep')).code;
    for (const line of ['requiresDuplicateDetection: true', "duplicateDetectionHistoryTimeWindow: 'PT1H'", 'maxDeliveryCount: 10', "lockDuration: 'PT1M'", 'deadLetteringOnMessageExpiration: true']) {
      expect(sb).toContain(line);
    }
    const cosmos = scanBicep(read('bicep/modules/cosmos.bicep')).code;
    // The template's partition keys are the ones the worker writes (cosmos-containers.ts).
    for (const [name, key] of Object.entries(ARCHIVE_CONTAINERS)) expect(cosmos).toMatch(new RegExp(`name: '${name}'\\s+partitionKey: '${key}'`));
    const app = scanBicep(read('bicep/modules/containerapp.bicep')).code;
    expect(app).toContain("path: '/healthz'");
    expect(app).toContain("path: '/readyz'");
    expect(app).toContain('targetPort: port');
    expect(app).toMatch(/name: 'EVENTGRID_WEBHOOK_KEY'\s+secretRef: 'eventgrid-webhook-key'/);
    expect(app).toMatch(/name: 'REDIS_PASSWORD'\s+secretRef: 'redis-password'/);
  });

  it('gives the example parameter file a value for every required parameter', () => {
    const declared = parseParams(read('bicep/main.bicep'));
    const given = parseParams(read('bicep/main.bicepparam'));
    for (const [name, p] of declared) if (p.required) expect(given.has(name)).toBe(true);
  });
});

describe('bicep checker', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  function brokenCopy(edit: (dir: string) => void): string[] {
    dir = mkdtempSync(join(tmpdir(), 'bicep-check-'));
    cpSync(join(root, 'bicep'), join(dir, 'bicep'), { recursive: true });
    edit(dir);
    return checkBicep({ root: dir, configVariables: CONFIG_VARIABLES, tables: loadTables(root), appContainers: loadAppContainers(root) }).problems;
  }

  // The classes of mistake a Bicep compiler or ARM would catch only at deploy time.
  it.each([
    ['an API version no provider publishes', 'modules/cosmos.bicep', "'Microsoft.DocumentDB/databaseAccounts@2024-05-15' = {", "'Microsoft.DocumentDB/databaseAccounts@2099-13-45' = {", /2099-13-45 is not a published API version/],
    ['a misspelt property (targetPortt)', 'modules/containerapp.bicep', 'targetPort: port', 'targetPortt: port', /ingress\.targetPortt is not a property of ingress/],
    ['an enum value outside the schema (websocketz)', 'modules/containerapp.bicep', "transport: 'auto'", "transport: 'websocketz'", /ingress\.transport 'websocketz' is not one of/],
    ['a role GUID that is no built-in role', 'modules/roles.bicep', '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39', '69a216fc-b8fb-44d8-bc22-1f3c2cd27a40', /69a216fc-b8fb-44d8-bc22-1f3c2cd27a40 is not a built-in role/],
    ['a partition key other than the app writes', 'modules/cosmos.bicep', /name: 'claims'\s+partitionKey: '\/id'/, "name: 'claims'\n    partitionKey: '/callId'", /container claims has partition key \/callId, the app writes \/id/],
  ])('fails on %s', (_what, file, from, to, expected) => {
    const problems = brokenCopy((d) => replaceIn(d, file, from, to));
    expect(problems.filter((p) => expected.test(p))).toHaveLength(1);
  });

  function replaceIn(d: string, file: string, from: string | RegExp, to: string): void {
    const p = join(d, 'bicep', file);
    const before = readFileSync(p, 'utf8');
    const after = before.replace(from, to);
    expect(after).not.toBe(before);
    writeFileSync(p, after);
  }

  it('reports a module parameter the module does not declare, and a missing required one', () => {
    const problems = brokenCopy((d) => replaceIn(d, 'main.bicep', '    endpointUrl: ', '    endpointUri: '));
    expect(problems.some((p) => /passes endpointUri/.test(p))).toBe(true);
    expect(problems.some((p) => /omits required param endpointUrl/.test(p))).toBe(true);
  });

  it('reports a missing module file', () => {
    const problems = brokenCopy((d) => rmSync(join(d, 'bicep', 'modules', 'acs.bicep')));
    expect(problems.some((p) => /references missing modules\/acs\.bicep/.test(p))).toBe(true);
  });

  it('reports an environment variable the app does not read', () => {
    const problems = brokenCopy((d) => replaceIn(d, 'modules/containerapp.bicep', "name: 'COSMOS_DATABASE'", "name: 'COSMOS_DB_NAME'"));
    expect(problems).toContainEqual(expect.stringMatching(/env COSMOS_DB_NAME is not a variable the app reads/));
  });

  it('reports a secret passed as a plain value or written as a literal', () => {
    const problems = brokenCopy((d) => {
      replaceIn(d, 'modules/containerapp.bicep', "secretRef: 'redis-password'", "value: 'rediss://:hunter2secret@example.redis.cache.windows.net:6380'");
    });
    expect(problems).toContainEqual(expect.stringMatching(/env REDIS_PASSWORD must use secretRef/));
    expect(problems).toContainEqual(expect.stringMatching(/looks like a Redis password/));
  });

  it('flags key-shaped literals, secure defaults, secret outputs and single-line literals', () => {
    const text = [
      "var cs = 'Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=a;SharedAccessKey=b'",
      "var k = 'Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZkdISUpLTE1O'",
      '@secure()',
      "param pw string = 'changeme'",
      'output key string = redis.listKeys().primaryKey',
      "var safe = 'https://${host}/api/incoming-call' // SharedAccessKey= in a comment is fine",
    ].join('\n');
    const problems = findSecretProblems('t.bicep', text);
    expect(problems).toEqual([
      't.bicep:1: string literal looks like a Service Bus / Event Hubs SAS key',
      't.bicep:2: string literal looks like a key or token',
      't.bicep: @secure() param pw has a default value',
      't.bicep:5: output key exposes a key or connection string',
    ]);
    expect(findSingleLineLiterals('t.bicep', "var a = { b: 1, c: 'x,y' }\nvar d = concat(a, b)")).toEqual([
      't.bicep:1: single-line object or array literal (write one entry per line)',
    ]);
  });
});

describe('infra/deploy.sh', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /** Runs deploy.sh with `az` and `curl` replaced by recorders on PATH; returns its output and the calls. */
  function runDeploy(args: string[]): { status: number | null; stdout: string; calls: string[] } {
    dir = mkdtempSync(join(tmpdir(), 'deploy-sh-'));
    const log = join(dir, 'calls.log');
    writeFileSync(
      join(dir, 'az'),
      [
        '#!/usr/bin/env bash',
        `echo "az $* | app=\${VOICE_DEPLOY_APP:-} sub=\${VOICE_DEPLOY_INCOMING_CALL:-} image=\${VOICE_IMAGE:-}" >> '${log}'`,
        'if [[ "$1" == version ]]; then echo 2.67.0; exit 0; fi',
        'if [[ "$1 $2 $3" == "deployment group show" ]]; then',
        '  case "$*" in',
        '    *outputs.acrName.*) echo acrvoice ;;',
        '    *outputs.acrLoginServer.*) echo acrvoice.azurecr.io ;;',
        '    *outputs.publicBaseUrl.*) echo https://ca-voice.example.test ;;',
        '    *) echo value ;;',
        '  esac',
        'fi',
      ].join('\n'),
      { mode: 0o755 },
    );
    writeFileSync(join(dir, 'curl'), `#!/usr/bin/env bash\necho "curl $*" >> '${log}'\nprintf 200\n`, { mode: 0o755 });
    const r = spawnSync('bash', [join(root, 'infra', 'deploy.sh'), ...args], {
      env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}` },
      encoding: 'utf8',
      timeout: 20_000,
    });
    const calls = readFileSync(log, { encoding: 'utf8', flag: 'a+' }).split('\n').filter(Boolean);
    return { status: r.status, stdout: r.stdout, calls };
  }

  it('deploys backing services, builds into the registry, then the app, then the IncomingCall subscription', () => {
    const { status, stdout, calls } = runDeploy(['-g', 'rg-voice', '-l', 'westeurope', '--acr', '-t', 'v1']);
    expect(status).toBe(0);
    const deploys = calls.filter((c) => c.startsWith('az deployment group create'));
    expect(deploys.map((c) => c.split(' | ')[1])).toEqual([
      'app=false sub=false image=placeholder.invalid/voice-worker:v1',
      'app=true sub=false image=acrvoice.azurecr.io/voice-worker:v1',
      'app=true sub=true image=acrvoice.azurecr.io/voice-worker:v1',
    ]);
    const order = (prefix: string) => calls.findIndex((c) => c.startsWith(prefix));
    expect(order('az acr build --registry acrvoice --image voice-worker:v1')).toBeGreaterThan(calls.indexOf(deploys[0] ?? ''));
    expect(order('az acr build')).toBeLessThan(calls.indexOf(deploys[1] ?? ''));
    expect(order('curl -fsS -o /dev/null --max-time 5 https://ca-voice.example.test/healthz')).toBeLessThan(calls.indexOf(deploys[2] ?? ''));
    expect(stdout).toContain('https://ca-voice.example.test');
    expect(calls.some((c) => /list-keys|listKeys|keys list|connection-string/i.test(c))).toBe(false);
  });

  it('refuses to run without an image or --acr, before touching Azure', () => {
    const { status, calls } = runDeploy(['-g', 'rg-voice', '-l', 'westeurope']);
    expect(status).toBe(2);
    expect(calls).toEqual([]);
  });
});
