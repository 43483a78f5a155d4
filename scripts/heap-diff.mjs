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
// --owners: objects of the last file absent from the first (ids persist between snapshots of one
// process), grouped by the nearest named holder on their shortest retaining path.
const OWNERS = process.argv.includes('--owners');
/** --depth=N: name N holders up the path (e.g. TtlMap.#entries < MemoryConversationStore.#history). */
const DEPTH = Number(arg('depth', '1'));
const OBJECTISH = new Set(['object', 'closure', 'array', 'native', 'synthetic', 'number', 'string', 'concatenated string', 'sliced string']);

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

if (RETAINERS.length || OWNERS) {
  // Shortest retaining path from the snapshot's root to a few objects of each named constructor
  // (breadth-first over strong edges: the path DevTools shows as "distance").
  const h = loaded.at(-1).h;
  const { snap, nf, ef, types, etypes, iType, iName, iEdges } = h;
  const nodes = snap.nodes;
  const edges = snap.edges;
  const fields = snap.snapshot.meta.edge_fields;
  const eType = fields.indexOf('type');
  const eName = fields.indexOf('name_or_index');
  const eTo = fields.indexOf('to_node');
  const n = nodes.length / nf;
  const firstEdge = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) firstEdge[i + 1] = firstEdge[i] + nodes[i * nf + iEdges] * ef;
  const parent = new Int32Array(n).fill(-1);
  const parentEdge = new Int32Array(n).fill(-1);
  parent[0] = 0;
  const queue = new Uint32Array(n);
  let qh = 0;
  let qt = 0;
  queue[qt++] = 0;
  while (qh < qt) {
    const i = queue[qh++];
    for (let e = firstEdge[i]; e < firstEdge[i + 1]; e += ef) {
      const et = etypes[edges[e + eType]];
      if (et === 'weak' || et === 'shortcut') continue;
      const to = edges[e + eTo] / nf;
      if (parent[to] !== -1) continue;
      parent[to] = i;
      parentEdge[to] = e;
      queue[qt++] = to;
    }
  }
  const desc = (i) => `${types[nodes[i * nf + iType]]}:${String(snap.strings[nodes[i * nf + iName]]).slice(0, 60)}`;
  const label = (e) => {
    const et = etypes[edges[e + eType]];
    return et === 'element' || et === 'hidden' ? `[${edges[e + eName]}]` : String(snap.strings[edges[e + eName]]);
  };
  const pathOf = (p) => {
    // Runs of one constructor (a linked list, a tree) collapse to one line.
    const chain = [];
    let cur = p;
    let prev = '';
    let run = 0;
    for (let d = 0; d < 400 && chain.length < 40 && cur !== 0 && parent[cur] !== -1; d++) {
      const here = desc(cur);
      if (here === prev) {
        run++;
      } else {
        if (run) chain.push(`  (${run} more ${prev})`);
        run = 0;
        chain.push(`${here}  <-${label(parentEdge[cur])}-`);
      }
      prev = here;
      cur = parent[cur];
    }
    return chain;
  };
  if (OWNERS) {
    const { iId, iSelf } = h;
    const firstIds = new Set();
    const f = loaded[0].h;
    for (let i = 0; i < f.snap.nodes.length; i += f.nf) firstIds.add(f.snap.nodes[i + f.iId]);
    const generic = /^(Object|Array|Map|Set|system \/.*|\(.*\)|)$/;
    const groups = new Map();
    for (let i = 1; i < n; i++) {
      if (firstIds.has(nodes[i * nf + iId]) || parent[i] === -1) continue;
      const t = types[nodes[i * nf + iType]];
      if (t === 'code' || t === 'synthetic' || t === 'hidden') continue;
      // the first named holder up the path, and the edge it holds the subtree by
      let cur = i;
      let via = '';
      let holder = '';
      let found = 0;
      for (let d = 0; d < 200 && cur !== 0 && found < DEPTH; d++) {
        const p = parent[cur];
        const pt = types[nodes[p * nf + iType]];
        const pn = String(snap.strings[nodes[p * nf + iName]]);
        via = label(parentEdge[cur]);
        if ((pt === 'object' || pt === 'closure') && !generic.test(pn)) {
          holder += `${found ? ' < ' : ''}${pt === 'closure' ? 'closure ' : ''}${pn.slice(0, 50)}.${via.slice(0, 40)}`;
          found++;
        }
        cur = p;
      }
      holder ||= '(root)';
      const g = groups.get(holder) ?? { count: 0, bytes: 0, sample: i };
      g.count++;
      g.bytes += nodes[i * nf + iSelf];
      groups.set(holder, g);
    }
    console.log(`\nnew objects (absent from the first file) by nearest named holder, top ${TOP}:`);
    console.log('bytes\tcount\tholder.field');
    const ranked = [...groups].sort((a, b) => b[1].bytes - a[1].bytes);
    for (const [k, g] of ranked.slice(0, TOP)) console.log(`${g.bytes}\t${g.count}\t${k}`);
    console.log('\nthe shortest retaining path of one new object of each of the top 6 holders:');
    for (const [k, g] of ranked.slice(0, 6)) console.log(`${k}:\n  ${pathOf(g.sample).join('\n  ')}`);
  }
  for (const want of RETAINERS) {
    const all = [];
    for (let i = 0; i < n; i++) if (snap.strings[nodes[i * nf + iName]] === want && OBJECTISH.has(types[nodes[i * nf + iType]])) all.push(i);
    // The newest survivors (highest ids: allocated late in the run and still alive) say most.
    const { iId } = h;
    all.sort((a, b) => nodes[b * nf + iId] - nodes[a * nf + iId]);
    const picks = all.slice(0, Number(arg('paths', '3')));
    console.log(`\n${want}: ${all.length} in the last file; shortest retaining paths of ${picks.length}:`);
    for (const p of picks) {
      const chain = pathOf(p);
      console.log(`  ${parent[p] === -1 ? '(unreachable) ' : ''}${chain.join('\n  ')}`);
    }
  }
}
