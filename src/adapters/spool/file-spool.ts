// An append-only spool on disk: one file per entry, written to a temporary name, fsync'd, renamed
// into place and the directory fsync'd, so an entry is either wholly there or not there after a
// crash. Entries are removed only after they were handed on. Names sort by spool time.
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

const SUFFIX = '.job';
const SAFE_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

export interface SpoolEntry {
  readonly name: string;
  readonly id: string;
}

export class FileSpool {
  #seq = 0;
  #ready: Promise<void> | null = null;
  #depth = 0;

  constructor(readonly dir: string) {}

  async #init(): Promise<void> {
    this.#ready ??= (async () => {
      await mkdir(this.dir, { recursive: true });
      this.#depth = (await this.list()).length;
    })();
    await this.#ready;
  }

  /** Entries currently on disk (as of the last list/write/remove). */
  get depth(): number {
    return this.#depth;
  }

  /** Durably stores `data` under `id`. Returns the entry name. */
  async write(id: string, data: Uint8Array): Promise<string> {
    if (!SAFE_ID.test(id)) throw new Error('spool id has unsafe characters');
    await this.#init();
    const name = `${Date.now().toString().padStart(15, '0')}-${process.pid}-${(this.#seq++).toString().padStart(6, '0')}-${id}${SUFFIX}`;
    const tmp = join(this.dir, `.${name}.tmp`);
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(this.dir, name));
    await this.#syncDir();
    this.#depth++;
    return name;
  }

  async list(): Promise<SpoolEntry[]> {
    let all: string[];
    try {
      all = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const names = all.filter((n) => n.endsWith(SUFFIX) && !n.startsWith('.')).sort();
    this.#depth = names.length;
    return names.map((name) => ({ name, id: name.slice(name.indexOf('-', name.indexOf('-', name.indexOf('-') + 1) + 1) + 1, -SUFFIX.length) }));
  }

  async read(name: string): Promise<Buffer> {
    return readFile(join(this.dir, name));
  }

  async remove(name: string): Promise<void> {
    try {
      await unlink(join(this.dir, name));
      this.#depth = Math.max(0, this.#depth - 1);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  async #syncDir(): Promise<void> {
    const dh = await open(this.dir, 'r');
    try {
      await dh.sync();
    } catch {
      // Some filesystems refuse fsync on a directory; the rename is still atomic.
    } finally {
      await dh.close();
    }
  }
}
