// Checks every `resource` body in a Bicep file against infra/azure-schema.json (the property names,
// nesting, read-only flags, discriminators and enum values of the REST API spec of exactly the API
// version it declares): a misspelt property at any depth, a read-only one set, a required one missing, a
// literal of the wrong kind, an enum value outside the spec's list, a discriminated object (Event Grid
// destination, advanced filter, metric criteria) of an unknown kind. Values built elsewhere in the file are followed: `var` references (also inside concat(),
// ternaries and arrays) and parameters with @allowed, whose every allowed value must fit.
import { matchBracket, scanBicep } from './bicep-scan.mjs';

/** Keys Bicep adds to every resource body (not part of the ARM type). */
const BICEP_KEYWORDS = new Set(['parent', 'scope', 'dependsOn']);
/** Keys an `existing` resource may set. */
const EXISTING_KEYS = new Set(['name', 'parent', 'scope']);

/**
 * Entries of the object literal whose `{` is at `open`: key (null when computed, e.g. '${id}'), the key's
 * offset and the value's range [start, end).
 */
export function objectEntries(code, masked, open) {
  const close = matchBracket(masked, open);
  if (close === -1) return [];
  const entries = [];
  let i = open + 1;
  while (i < close) {
    while (i < close && /\s/.test(masked[i])) i++;
    if (i >= close) break;
    let key = null;
    let after = i;
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(masked.slice(i, i + 200));
    if (ident) {
      key = ident[0];
      after = i + key.length;
    } else if (masked[i] === "'") {
      const end = masked.indexOf("'", i + 1);
      const raw = code.slice(i + 1, end);
      key = raw.includes('${') ? null : raw;
      after = end + 1;
    }
    const colon = /^\s*:/.exec(masked.slice(after, after + 50));
    if ((ident || masked[i] === "'") && colon) {
      const start = after + colon[0].length;
      let end = start;
      let depth = 0;
      for (; end < close; end++) {
        const ch = masked[end];
        if (ch === '{' || ch === '[' || ch === '(') depth++;
        else if (ch === '}' || ch === ']' || ch === ')') depth--;
        else if (ch === '\n' && depth === 0) break;
      }
      entries.push({ key, offset: i, start, end, computed: key === null });
      i = end;
      continue;
    }
    // Not an entry (stray token): skip the line.
    while (i < close && masked[i] !== '\n') i++;
  }
  return entries;
}

/** `var name = <expression>` ranges and `param name` @allowed lists of a file. */
function declarations(code, masked) {
  const vars = new Map();
  for (const m of masked.matchAll(/^var\s+([A-Za-z_]\w*)\s*=/gm)) {
    const start = m.index + m[0].length;
    let end = start;
    let depth = 0;
    for (; end < masked.length; end++) {
      const ch = masked[end];
      if (ch === '{' || ch === '[' || ch === '(') depth++;
      else if (ch === '}' || ch === ']' || ch === ')') depth--;
      else if (ch === '\n' && depth === 0) break;
    }
    vars.set(m[1], { start, end });
  }
  const allowed = new Map();
  for (const m of masked.matchAll(/^@allowed\(\s*\[/gm)) {
    const open = m.index + m[0].length - 1;
    const close = matchBracket(masked, open);
    const values = [...code.slice(open, close).matchAll(/'([^']*)'/g)].map((x) => x[1]);
    const param = /^(?:\s*@[^\n]*\n)*\s*param\s+([A-Za-z_]\w*)/.exec(masked.slice(close + 2));
    if (param) allowed.set(param[1], values);
  }
  return { vars, allowed };
}

/**
 * Problems in the resource bodies of one Bicep file. `schema` is infra/azure-schema.json.
 * Returns one line per problem, `<file>: <type> <path> ...`.
 */
export function checkResourceSchemas(file, text, schema) {
  const { code, masked } = scanBicep(text);
  const { vars, allowed } = declarations(code, masked);
  const problems = new Set();
  const lineOf = (offset) => code.slice(0, offset).split('\n').length;
  const resolve = (t) => (typeof t === 'number' ? schema.types[t] : t);

  for (const m of masked.matchAll(/^resource\s+[A-Za-z_]\w*\s+'/gm)) {
    const quoteEnd = masked.indexOf("'", m.index + m[0].length);
    const typeAtVersion = code.slice(m.index + m[0].length, quoteEnd);
    const rest = masked.slice(quoteEnd + 1);
    const existing = /^\s*existing\b/.test(rest);
    const eq = masked.indexOf('=', quoteEnd);
    const bodyOpen = findBodyOpen(masked, eq + 1);
    if (bodyOpen === -1) continue;
    const where = `${file}:${lineOf(m.index)}: ${typeAtVersion}`;
    if (existing) {
      for (const e of objectEntries(code, masked, bodyOpen)) {
        if (e.key !== null && !EXISTING_KEYS.has(e.key)) problems.add(`${where} existing resource sets ${e.key} (only name, parent, scope)`);
      }
      continue;
    }
    const resource = schema.resources[typeAtVersion];
    if (!resource) {
      problems.add(`${where} has no schema in infra/azure-schema.json (run infra/extract-azure-schema.mjs)`);
      continue;
    }
    const ctx = { code, masked, vars, allowed, resolve, problems, where, seenVars: new Set() };
    checkObject(ctx, bodyOpen, resolve(resource.body), '', true);
  }
  return [...problems];
}

/** The `{` of a resource body after `=`: skips `existing`, `if (...)`, and `[for x in y: {`. */
export function findBodyOpen(masked, from) {
  let i = from;
  const skipWs = () => {
    while (i < masked.length && /\s/.test(masked[i])) i++;
  };
  skipWs();
  if (masked.startsWith('if', i)) {
    const open = masked.indexOf('(', i);
    i = matchBracket(masked, open) + 1;
    skipWs();
  }
  if (masked[i] === '[') {
    const forHead = /^\[\s*for\b[^:]*:\s*/.exec(masked.slice(i));
    if (!forHead) return -1;
    i += forHead[0].length;
    skipWs();
    if (masked.startsWith('if', i)) {
      i = matchBracket(masked, masked.indexOf('(', i)) + 1;
      skipWs();
    }
  }
  return masked[i] === '{' ? i : -1;
}

function checkObject(ctx, open, node, path, isResourceBody = false) {
  const entries = objectEntries(ctx.code, ctx.masked, open);
  let props = node.props ?? {};
  let typeName = node.name;
  if (node.discriminator) {
    const d = entries.find((e) => e.key === node.discriminator);
    const value = d ? literal(ctx.code.slice(d.start, d.end)) : null;
    const kinds = Object.keys(node.variants);
    if (!d) {
      ctx.problems.add(`${ctx.where} ${path || 'body'} has no ${node.discriminator} (one of ${kinds.join(', ')})`);
      props = Object.assign({}, props, ...kinds.map((k) => ctx.resolve(node.variants[k]).props));
    } else if (value === null) {
      props = Object.assign({}, props, ...kinds.map((k) => ctx.resolve(node.variants[k]).props));
    } else if (!node.variants[value]) {
      ctx.problems.add(`${ctx.where} ${join(path, node.discriminator)} '${value}' is not one of ${kinds.join(', ')}`);
      return;
    } else {
      const variant = ctx.resolve(node.variants[value]);
      props = { ...props, ...variant.props };
      typeName = variant.name;
    }
  }
  const parentName = isResourceBody ? 'the resource' : path.replace(/\[\]$/, '').split('.').pop();
  // Required properties, when every key of the literal is written out (no computed key to hide one).
  if (!entries.some((e) => e.computed)) {
    const present = new Set(entries.map((e) => e.key));
    for (const [key, spec] of Object.entries(props)) {
      if (Array.isArray(spec) && spec[1] === 'req' && !present.has(key)) ctx.problems.add(`${ctx.where} ${join(path, key) || key} is required (${typeName})`);
    }
  }
  for (const e of entries) {
    if (e.computed) {
      if (node.extra !== undefined) checkValue(ctx, e.start, e.end, node.extra, `${path}[*]`);
      continue;
    }
    const key = e.key;
    const p = join(path, key);
    if (isResourceBody && BICEP_KEYWORDS.has(key)) continue;
    let spec = props[key];
    if (spec === undefined) {
      if (node.extra !== undefined) {
        checkValue(ctx, e.start, e.end, node.extra, p);
        continue;
      }
      ctx.problems.add(`${ctx.where} ${p} is not a property of ${parentName} (${typeName}: ${Object.keys(props).join(', ')})`);
      continue;
    }
    if (Array.isArray(spec)) {
      if (spec[1] === 'ro') ctx.problems.add(`${ctx.where} ${p} is read-only (set by Azure, not by a template)`);
      spec = spec[0];
    }
    checkValue(ctx, e.start, e.end, spec, p);
  }
}

function join(path, key) {
  return path ? `${path}.${key}` : key;
}

/** The string of a value that is exactly one plain string literal, else null. */
function literal(text) {
  const m = /^\s*'([^'$\\]*)'\s*$/.exec(text);
  return m ? m[1] : null;
}

/** What a value written as one literal is: 'string', 'int', 'bool', or null for an expression. */
function literalKind(text) {
  const t = text.trim();
  if (/^'[^'$\\]*'$/.test(t) || /^'''[\s\S]*'''$/.test(t)) return 'string';
  if (/^-?\d+$/.test(t)) return 'int';
  if (t === 'true' || t === 'false') return 'bool';
  return null;
}

function checkValue(ctx, start, end, spec, path) {
  const node = ctx.resolve(spec);
  if (typeof node === 'string') {
    // A literal of the wrong kind (targetPort: '8080', external: 'true'); expressions are not typed here.
    const kind = literalKind(ctx.code.slice(start, end));
    const a = (k) => (k === 'int' ? 'an int' : `a ${k}`);
    if (kind && node !== 'any' && kind !== node) ctx.problems.add(`${ctx.where} ${path} is ${a(node)}, not ${a(kind)} literal`);
    return;
  }
  if (node.enum) {
    for (const v of scalarValues(ctx, start, end)) {
      if (!node.enum.includes(v)) ctx.problems.add(`${ctx.where} ${path} '${v}' is not one of ${node.enum.join(', ')}`);
    }
    return;
  }
  if (node.array !== undefined) {
    const item = ctx.resolve(node.array);
    if (typeof item === 'object' && (item.props || item.discriminator)) forEachObject(ctx, start, end, (open) => checkObject(ctx, open, item, `${path}[]`));
    return;
  }
  if (node.props || node.discriminator) forEachObject(ctx, start, end, (open) => checkObject(ctx, open, node, path));
}

/**
 * Calls fn with the `{` of every object literal the expression in [start, end) can evaluate to: the
 * outermost literals in it (array items, ternary branches, concat() arguments) and, through `var`
 * references, those of the vars it names. The source list of a `for` expression is not a value.
 */
function forEachObject(ctx, start, end, fn) {
  const { masked } = ctx;
  let i = start;
  while (i < end) {
    const ch = masked[i];
    if (ch === '{') {
      fn(i);
      i = matchBracket(masked, i) + 1;
      continue;
    }
    const word = /^[A-Za-z_]\w*/.exec(masked.slice(i, Math.min(end, i + 100)));
    if (word && (i === 0 || !/[\w.]/.test(masked[i - 1]))) {
      const name = word[0];
      i += name.length;
      if (name === 'for') {
        const colon = masked.indexOf(':', i);
        i = colon === -1 ? end : colon + 1;
        continue;
      }
      const next = /^\s*(.)/.exec(masked.slice(i, i + 20))?.[1];
      const v = ctx.vars.get(name);
      if (v && next !== '(' && next !== '.' && next !== '[' && !ctx.seenVars.has(name)) {
        ctx.seenVars.add(name);
        forEachObject(ctx, v.start, v.end, fn);
        ctx.seenVars.delete(name);
      }
      continue;
    }
    i++;
  }
}

/** The string values an expression can take, as far as they are written down: a literal, the branches of a ternary of literals, a var, or a param's @allowed list. */
function scalarValues(ctx, start, end) {
  const text = ctx.code.slice(start, end).trim();
  const lit = literal(text);
  if (lit !== null) return [lit];
  const ternary = /\?\s*'([^'$\\]*)'\s*:\s*'([^'$\\]*)'\s*$/.exec(text);
  if (ternary) return [ternary[1], ternary[2]];
  const ident = /^[A-Za-z_]\w*$/.exec(text);
  if (ident) {
    if (ctx.allowed.has(text)) return ctx.allowed.get(text);
    const v = ctx.vars.get(text);
    if (v && !ctx.seenVars.has(text)) {
      ctx.seenVars.add(text);
      const values = scalarValues(ctx, v.start, v.end);
      ctx.seenVars.delete(text);
      return values;
    }
  }
  return [];
}
