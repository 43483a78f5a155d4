// Compares V8 heap snapshots (.heapsnapshot, as written by `--heapsnapshot-signal` or
// v8.writeHeapSnapshot) by constructor: object count and self size per (node type, name), and the
// difference between the first and the last file. Used with `bench/soak.mjs --heap-snapshots=DIR`
// to tell what a long run accumulates.
//   node scripts/heap-diff.mjs A.heapsnapshot B.heapsnapshot [--top=40] [--retainers=Name[,Name]]
// --retainers prints, for a few objects of each named constructor in the last file, the chain of
// retainers up to a GC root (weak edges skipped), which says who keeps them.
import { readFileSync } from 'node:fs';

const files = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const arg = (name, dflt) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const TOP = Number(arg('top', '40'));
const RETAINERS = arg('retainers', '').split(',').filter(Boolean);
const OBJECTISH = new Set(['object', 'closure', 'array', 'native', 'synthetic']);

function load(file) {
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  const m = snap.snapshot.meta;
  const nf = m.node_fields.length;
  const ef = m.edge_fields.length;
  const types = m.node_types[0];
  const etypes = m.edge_types[0];
  const f = (n) => m.node_fields.indexOf(n);
  return { snap, nf, ef, types, etypes, iType: f('type'), iName: f('name'), iSelf: f('self_size'), iEdges: f('edge_count'), iId: f('id') };
}

function byConstructor(h) {
  const { snap, nf, types, iType, iName, iSelf } = h;
  const nodes = snap.nodes;
  const out = new Map();
  for (let i = 0; i < nodes.length; i += nf) {
    const type = types[nodes[i + iType]];
    let name = type === 'string' || type === 'concatenated string' || type === 'sliced string' ? '(string)' : snap.strings[nodes[i + iName]];
    if (type === 'code' || type === 'hidden') name = `(${type}) ${name.slice(0, 40)}`;
    if (type === 'closure') name = `closure ${name.slice(0, 60)}`;
    if (type === 'array') name = `(array) ${name.slice(0, 40)}`;
    const key = `${type}\t${name.slice(0, 100)}`;
    const e = out.get(key) ?? { count: 0, bytes: 0 };
    e.count++;
    e.bytes += nodes[i + iSelf];
    out.set(key, e);
  }
  return out;
}

const loaded = files.map((file) => {
  const h = load(file);
  const total = h.snap.nodes.length / h.nf;
  console.log(`${file}: ${total} nodes`);
  return { file, h, counts: byConstructor(h) };
});
const first = loaded[0].counts;
const last = loaded.at(-1).counts;
const rows = [...new Set([...first.keys(), ...last.keys()])].map((k) => {
  const a = first.get(k) ?? { count: 0, bytes: 0 };
  const b = last.get(k) ?? { count: 0, bytes: 0 };
  return { k, a, b, dc: b.count - a.count, db: b.bytes - a.bytes };
});
console.log(`\nlargest growth in self size (first → last), top ${TOP}:`);
console.log('Δbytes\tΔcount\tcount first → last\ttype\tname');
for (const r of rows.sort((x, y) => y.db - x.db).slice(0, TOP)) console.log(`${r.db}\t${r.dc}\t${r.a.count} → ${r.b.count}\t${r.k}`);
console.log(`\nlargest growth in count, top ${TOP}:`);
for (const r of rows.sort((x, y) => y.dc - x.dc).slice(0, TOP)) console.log(`${r.dc}\t${r.db}\t${r.a.count} → ${r.b.count}\t${r.k}`);

if (RETAINERS.length) {
  const h = loaded.at(-1).h;
  const { snap, nf, ef, types, etypes, iType, iName, iEdges } = h;
  const nodes = snap.nodes;
  const edges = snap.edges;
  const eType = snap.snapshot.meta.edge_fields.indexOf('type');
  const eName = snap.snapshot.meta.edge_fields.indexOf('name_or_index');
  const eTo = snap.snapshot.meta.edge_fields.indexOf('to_node');
  const n = nodes.length / nf;
  // reverse edges: for each node, its retainers (node index, edge label)
  const retainers = Array.from({ length: n }, () => []);
  let e = 0;
  for (let i = 0; i < n; i++) {
    const cnt = nodes[i * nf + iEdges];
    for (let j = 0; j < cnt; j++, e += ef) {
      const et = etypes[edges[e + eType]];
      if (et === 'weak' || et === 'shortcut') continue;
      const to = edges[e + eTo] / nf;
      const label = et === 'element' || et === 'hidden' ? `[${edges[e + eName]}]` : snap.strings[edges[e + eName]];
      if (retainers[to].length < 8) retainers[to].push({ from: i, label, et });
    }
  }
  const desc = (i) => `${types[nodes[i * nf + iType]]}:${String(snap.strings[nodes[i * nf + iName]]).slice(0, 50)}`;
  for (const want of RETAINERS) {
    const picks = [];
    for (let i = 0; i < n && picks.length < 3; i++) {
      if (snap.strings[nodes[i * nf + iName]] === want && OBJECTISH.has(types[nodes[i * nf + iType]])) picks.push(i);
    }
    // also pick a few from the end (newest ids are allocated late)
    for (let i = n - 1; i >= 0 && picks.length < 6; i--) {
      if (snap.strings[nodes[i * nf + iName]] === want && OBJECTISH.has(types[nodes[i * nf + iType]])) picks.push(i);
    }
    console.log(`\nretainers of ${want}:`);
    for (const p of picks) {
      const chain = [desc(p)];
      const seen = new Set([p]);
      let cur = p;
      for (let d = 0; d < 14; d++) {
        const r = retainers[cur].find((x) => !seen.has(x.from) && !desc(x.from).startsWith('synthetic')) ?? retainers[cur].find((x) => !seen.has(x.from));
        if (!r) break;
        chain.push(`--${r.label}--> ${desc(r.from)}`);
        seen.add(r.from);
        cur = r.from;
      }
      console.log(`  ${chain.join('\n     ')}`);
    }
  }
}
