// An append-only spool on disk: one file per entry, written to a temporary name, fsync'd, renamed
// into place and the directory fsync'd, so an entry is either wholly there or not there after a
// crash. Entries are removed only after they were handed on. Names sort by spool time.
import { mkdir, open, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
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
  /** Entry names known to be on disk: a set, so a listing racing a write never counts twice. */
  readonly #names = new Set<string>();

  constructor(readonly dir: string) {}

  async #init(): Promise<void> {
    this.#ready ??= (async () => {
      await mkdir(this.dir, { recursive: true });
      await this.list();
    })();
    try {
      await this.#ready;
    } catch (err) {
      // Not cached: a directory that could not be made now (full disk, a mount not there yet) is tried again next write.
      this.#ready = null;
      throw err;
    }
  }

  /**
   * Moves an entry that cannot be handed on (unreadable, not a job) out of the way, into
   * <dir>/dead-letter with a .reason file, so the entries after it are not blocked.
   */
  async moveAside(name: string, reason: string): Promise<void> {
    const dir = join(this.dir, 'dead-letter');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${name}.reason`), `${reason}\n`);
    try {
      await rename(join(this.dir, name), join(dir, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.#names.delete(name);
  }

  /** Entries currently on disk (as of the last list/write/remove). */
  get depth(): number {
    return this.#names.size;
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
    this.#names.add(name);
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
    this.#names.clear();
    for (const n of names) this.#names.add(n);
    return names.map((name) => ({ name, id: name.slice(name.indexOf('-', name.indexOf('-', name.indexOf('-') + 1) + 1) + 1, -SUFFIX.length) }));
  }

  async read(name: string): Promise<Buffer> {
    return readFile(join(this.dir, name));
  }

  async remove(name: string): Promise<void> {
    try {
      await unlink(join(this.dir, name));
      this.#names.delete(name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.#names.delete(name);
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
