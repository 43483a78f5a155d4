// Least privilege in the templates: every role assignment names a role of infra/azure-builtin-roles.json
// and sits on the narrowest scope that table records for it (Service Bus roles on the queue, Cosmos DB
// data-plane roles on the database, Speech and OpenAI roles on their account, Contributor only on the
// Communication Services resource, which documents no narrower role for Call Automation). The Redis
// access policy is one of the data policies, never Data Owner.
import { matchBracket, scanBicep } from './bicep-scan.mjs';
import { findBodyOpen, objectEntries } from './check-bicep-schema.mjs';

const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/** Problems with the role assignments of one Bicep file (`roles` is infra/azure-builtin-roles.json). */
export function checkRoleScopes(file, text, roles) {
  const { code, masked } = scanBicep(text);
  const lineOf = (offset) => code.slice(0, offset).split('\n').length;
  const types = new Map([...masked.matchAll(/^resource\s+([A-Za-z_]\w*)\s+'/gm)].map((m) => {
    const start = m.index + m[0].length;
    return [m[1], code.slice(start, masked.indexOf("'", start)).split('@')[0]];
  }));
  const valueOf = (name) => {
    const m = new RegExp(`^(?:var|param)\\s+${name}\\b[^=\\n]*=([^\\n]*)`, 'm').exec(code);
    return m ? m[1].trim() : null;
  };
  /** The role GUID an expression names: a literal, `<var>.<key>` of an object var, a var or a param default. */
  const guidOf = (expr, depth = 0) => {
    const lit = GUID.exec(expr);
    if (lit) return lit[0].toLowerCase();
    if (depth > 3) return null;
    // String literals out, their ${...} interpolations kept.
    const bare = expr.replace(/'[^']*'/g, (s) => [...s.matchAll(/\$\{([^}]*)\}/g)].map((x) => x[1]).join(' '));
    const member = /\b([A-Za-z_]\w*)\.([A-Za-z_]\w*)\b/.exec(bare);
    if (member && !types.has(member[1])) {
      const decl = new RegExp(`^var\\s+${member[1]}\\s*=\\s*\\{`, 'm').exec(masked);
      if (decl) {
        const open = decl.index + decl[0].length - 1;
        const body = code.slice(open, matchBracket(masked, open));
        const entry = new RegExp(`^\\s*${member[2]}\\s*:\\s*'(${GUID.source})'`, 'mi').exec(body);
        if (entry) return entry[1].toLowerCase();
      }
    }
    for (const ident of bare.match(/\b[A-Za-z_]\w*\b/g) ?? []) {
      const v = valueOf(ident);
      if (v) {
        const g = guidOf(v, depth + 1);
        if (g) return g;
      }
    }
    return null;
  };
  const problems = [];
  for (const m of masked.matchAll(/^resource\s+([A-Za-z_]\w*)\s+'/gm)) {
    const type = types.get(m[1]);
    const isRbac = type === 'Microsoft.Authorization/roleAssignments';
    const isCosmos = type === 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments';
    const isRedis = type === 'Microsoft.Cache/redis/accessPolicyAssignments';
    if (!isRbac && !isCosmos && !isRedis) continue;
    const rest = masked.slice(m.index + m[0].length);
    if (/^[^']*'\s*existing\b/.test(rest)) continue;
    const open = findBodyOpen(masked, masked.indexOf('=', m.index + m[0].length) + 1);
    if (open === -1) continue;
    const where = `${file}:${lineOf(m.index)}: ${m[1]}`;
    const top = objectEntries(code, masked, open);
    const text = (entries, key) => {
      const e = entries.find((x) => x.key === key);
      return e ? code.slice(e.start, e.end).trim() : null;
    };
    const propsEntry = top.find((e) => e.key === 'properties');
    const props = propsEntry ? objectEntries(code, masked, masked.indexOf('{', propsEntry.start)) : [];
    if (isRedis) {
      const policy = /^'([^']*)'$/.exec(text(props, 'accessPolicyName') ?? '')?.[1];
      if (!roles.redisAccessPolicies.includes(policy)) problems.push(`${where}: Redis access policy ${policy ?? '(computed)'} is not one of ${roles.redisAccessPolicies.join(', ')}`);
      continue;
    }
    const guid = guidOf(text(props, 'roleDefinitionId') ?? '');
    const wanted = guid ? roles.narrowestScope[guid] : undefined;
    const name = guid ? (roles.rbac[guid] ?? roles.cosmosDataPlane[guid] ?? guid) : '(unresolved role)';
    if (!wanted) {
      problems.push(`${where}: role ${name} has no least-privilege scope in infra/azure-builtin-roles.json (narrowestScope)`);
      continue;
    }
    if (isCosmos) {
      const scope = text(props, 'scope') ?? '';
      if (!scope.includes(wanted)) problems.push(`${where}: ${name} is scoped to ${scope || 'the account'}, not a ${wanted}<database> scope`);
      continue;
    }
    const scope = text(top, 'scope');
    const scopeType = scope ? types.get(scope) : 'the resource group';
    if (scopeType !== wanted) problems.push(`${where}: ${name} is assigned on ${scope ? `${scope} (${scopeType ?? 'not a resource'})` : 'the resource group'}, its narrowest scope is ${wanted}`);
  }
  return problems;
}
