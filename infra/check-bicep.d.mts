// Types for infra/check-bicep.mjs (used by test/unit/infra-bicep.test.ts and check-bicep-schema.test.ts).
export interface ScannedString {
  readonly offset: number;
  readonly raw: string;
  readonly segments: readonly string[];
}
export interface ParamInfo {
  readonly hasDefault: boolean;
  readonly required: boolean;
  readonly secure: boolean;
  readonly defaultText: string | null;
}
export interface ModuleCall {
  readonly symbol: string;
  readonly path: string;
  readonly params: readonly string[];
  readonly line: number;
}
export interface CheckResult {
  readonly problems: string[];
  readonly files: string[];
  readonly envNames: string[];
  readonly moduleCalls: (ModuleCall & { readonly from: string })[];
  readonly apiVersions: Map<string, string>;
}
export const SDK_VARIABLES: readonly string[];
export function scanBicep(text: string): { code: string; masked: string; strings: ScannedString[] };
export function parseParams(text: string): Map<string, ParamInfo>;
export function parseModules(text: string): ModuleCall[];
export function parseEnvEntries(text: string): { name: string; kind: 'value' | 'secretRef' }[];
export function findSecretProblems(file: string, text: string): string[];
export function findSingleLineLiterals(file: string, text: string): string[];
export function checkContainerApp(
  file: string,
  text: string,
  configVariables: readonly string[],
): { problems: string[]; envNames: string[] };
export function parseConfigSource(src: string): string[];
export function parseConfigFiles(read: (file: string) => string): string[];
export function loadConfigVariables(root: string): Promise<string[]>;
export interface CheckTables {
  readonly apiVersions: unknown;
  readonly schema: unknown;
  readonly roles: unknown;
}
export function loadTables(root: string): CheckTables;
export function loadAppContainers(root: string): Record<string, string>;
export function checkApiVersion(file: string, type: string, version: string, table: unknown): string[];
export function checkResourceSchemas(file: string, text: string, schema: unknown): string[];
export function listBicepFiles(dir: string): string[];
export function checkRoleScopes(file: string, text: string, roles: unknown): string[];
export function checkRoleGuids(file: string, code: string, roles: unknown): string[];
export function checkContainerKeys(file: string, code: string, appContainers: Record<string, string>): string[];
export function checkBicep(options: {
  root: string;
  configVariables: readonly string[];
  tables?: CheckTables;
  appContainers?: Record<string, string>;
}): CheckResult;
