// Partition-key fidelity for the local Cosmos-compatible server, which stores partition-key
// definitions but ignores them. Real Cosmos DB keys every document by the value at the container's
// partition-key path: a write whose x-ms-documentdb-partitionkey header differs from the document's
// value is refused with 400 ("PartitionKey extracted from document doesn't match the one specified in
// the header"), and a point read with another partition key finds nothing (404). A document without
// the path lands in the "none" partition, where reads by the intended key miss it; this guard refuses
// such writes outright so a mismatch between the template, the code and the documents fails a test.
//   https://learn.microsoft.com/azure/cosmos-db/partitioning-overview
//   https://learn.microsoft.com/rest/api/cosmos-db/create-a-document (x-ms-documentdb-partitionkey)
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';

type Key = string; // `${db}/${coll}`

const COLLS = /^\/dbs\/([^/]+)\/colls\/?$/;
const DOCS = /^\/dbs\/([^/]+)\/colls\/([^/]+)\/docs\/?$/;
const DOC = /^\/dbs\/([^/]+)\/colls\/([^/]+)\/docs\/([^/?]+)$/;

function valueAt(doc: unknown, path: string): unknown {
  let v: unknown = doc;
  for (const part of path.split('/').filter(Boolean)) {
    if (!v || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

function headerKey(raw: string | string[] | undefined): unknown {
  if (typeof raw !== 'string') return undefined;
  try {
    const parsed = JSON.parse(raw) as unknown;
    return Array.isArray(parsed) ? parsed[0] : undefined;
  } catch {
    return undefined;
  }
}

function refuse(res: ServerResponse, status: number, message: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ code: status === 400 ? 'BadRequest' : 'NotFound', message }));
}

/** Wraps the stand-in's request handler with the partition-key rules of real Cosmos DB. */
export function guardPartitionKeys(inner: RequestListener): RequestListener {
  const paths = new Map<Key, string>();
  const stored = new Map<string, unknown>(); // `${db}/${coll}/${id}` → partition-key value

  const check = (key: Key, doc: unknown, header: unknown): string | null => {
    const path = paths.get(key);
    if (!path) return null;
    const value = valueAt(doc, path);
    if (value === undefined) return `document lacks the partition key path ${path} of container ${key.split('/')[1]}`;
    if (header !== undefined && JSON.stringify(header) !== JSON.stringify(value)) {
      return "PartitionKey extracted from document doesn't match the one specified in the header";
    }
    return null;
  };

  const replay = (req: IncomingMessage, body: Buffer): IncomingMessage => {
    const copy = new PassThrough();
    copy.end(body);
    return Object.assign(copy, { headers: req.headers, url: req.url, method: req.method, socket: req.socket, httpVersion: req.httpVersion }) as unknown as IncomingMessage;
  };

  return (req, res) => {
    const url = (req.url ?? '').split('?')[0] ?? '';
    const method = req.method ?? 'GET';
    const isQuery = req.headers['x-ms-documentdb-isquery'] !== undefined || String(req.headers['content-type'] ?? '').includes('query+json');
    const docs = method === 'POST' && !isQuery ? DOCS.exec(url) : null;
    const colls = method === 'POST' ? COLLS.exec(url) : null;
    if (!docs && !colls) {
      if (isQuery && method === 'POST') return inner(req, res);
      const one = method === 'GET' ? DOC.exec(url) : null;
      if (one) {
        const id = decodeURIComponent(one[3] as string);
        const key = `${decodeURIComponent(one[1] as string)}/${decodeURIComponent(one[2] as string)}`;
        const want = headerKey(req.headers['x-ms-documentdb-partitionkey']);
        const have = stored.get(`${key}/${id}`);
        if (want !== undefined && have !== undefined && JSON.stringify(want) !== JSON.stringify(have)) {
          req.resume();
          return refuse(res, 404, 'Entity with the specified id does not exist in the system.');
        }
      }
      return inner(req, res);
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        return inner(replay(req, body), res);
      }
      if (colls) {
        const def = parsed as { id?: string; partitionKey?: { paths?: string[] } };
        const path = def.partitionKey?.paths?.[0];
        if (def.id && path) paths.set(`${decodeURIComponent(colls[1] as string)}/${def.id}`, path);
        return inner(replay(req, body), res);
      }
      const key = `${decodeURIComponent((docs as RegExpExecArray)[1] as string)}/${decodeURIComponent((docs as RegExpExecArray)[2] as string)}`;
      const batch = req.headers['x-ms-cosmos-is-batch-request'] !== undefined;
      const writes: { doc: unknown; header: unknown }[] = batch
        ? (Array.isArray(parsed) ? parsed : [])
            .filter((op: { operationType?: string; resourceBody?: unknown }) => op.resourceBody !== undefined)
            .map((op: { partitionKey?: string; resourceBody?: unknown }) => ({ doc: op.resourceBody, header: headerKey(op.partitionKey) }))
        : [{ doc: parsed, header: headerKey(req.headers['x-ms-documentdb-partitionkey']) }];
      for (const w of writes) {
        const problem = check(key, w.doc, w.header);
        if (problem) return refuse(res, 400, problem);
      }
      const path = paths.get(key);
      if (path) for (const w of writes) stored.set(`${key}/${String((w.doc as { id?: unknown }).id)}`, valueAt(w.doc, path));
      return inner(replay(req, body), res);
    });
  };
}
