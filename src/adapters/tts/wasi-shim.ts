// A minimal in-memory WASI preview1 host, just enough to run a command-line WASM program that reads
// its arguments and writes files into one preopened directory (Flite writing a WAV). Output files
// stay in memory: no temporary files, no node:wasi (experimental in Node 20: it prints an
// ExperimentalWarning, and its instances crashed this process under repeated runs).

const ESUCCESS = 0;
const EBADF = 8;
const EINVAL = 28;
const ENOENT = 44;
const ENOSYS = 52;
const PREOPEN_FD = 3;

class ProcExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

interface OpenFile {
  readonly path: string;
  data: Uint8Array;
  size: number;
  pos: number;
}

export interface WasiRunResult {
  readonly exitCode: number;
  readonly files: ReadonlyMap<string, Uint8Array>;
  readonly stderr: string;
}

interface WasmInstance {
  readonly exports: { readonly memory: { readonly buffer: ArrayBuffer }; readonly _start: () => void };
}

export interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<WasmInstance>;
}

export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Runs `_start` of a compiled WASI command with args; `dir` is the preopened directory name. */
export async function runWasiCommand(module: object, args: readonly string[], dir: string): Promise<WasiRunResult> {
  const enc = new TextEncoder();
  const argBytes = args.map((a) => enc.encode(`${a}\0`));
  const dirBytes = enc.encode(dir);
  const files = new Map<string, Uint8Array>();
  const open = new Map<number, OpenFile>();
  let nextFd = PREOPEN_FD + 1;
  let stderr = '';
  let memory: { readonly buffer: ArrayBuffer } | null = null;
  const view = () => new DataView(memory!.buffer);
  const bytes = () => new Uint8Array(memory!.buffer);

  const iovecs = (iovs: number, n: number): Uint8Array[] => {
    const v = view();
    const out: Uint8Array[] = [];
    for (let i = 0; i < n; i++) out.push(new Uint8Array(memory!.buffer, v.getUint32(iovs + i * 8, true), v.getUint32(iovs + i * 8 + 4, true)));
    return out;
  };

  const imports = {
    args_sizes_get(argcPtr: number, sizePtr: number): number {
      view().setUint32(argcPtr, argBytes.length, true);
      view().setUint32(sizePtr, argBytes.reduce((s, b) => s + b.length, 0), true);
      return ESUCCESS;
    },
    args_get(argvPtr: number, bufPtr: number): number {
      let p = bufPtr;
      argBytes.forEach((b, i) => {
        view().setUint32(argvPtr + i * 4, p, true);
        bytes().set(b, p);
        p += b.length;
      });
      return ESUCCESS;
    },
    clock_time_get(_id: number, _precision: bigint, timePtr: number): number {
      view().setBigUint64(timePtr, BigInt(Date.now()) * 1_000_000n, true);
      return ESUCCESS;
    },
    fd_close(fd: number): number {
      const f = open.get(fd);
      if (f) files.set(f.path, f.data.slice(0, f.size));
      open.delete(fd);
      return ESUCCESS;
    },
    fd_fdstat_get(fd: number, ptr: number): number {
      const type = fd <= 2 ? 2 : fd === PREOPEN_FD ? 3 : open.has(fd) ? 4 : -1;
      if (type < 0) return EBADF;
      const v = view();
      v.setUint8(ptr, type);
      v.setUint16(ptr + 2, 0, true);
      v.setBigUint64(ptr + 8, 0xffffffffffffffffn, true);
      v.setBigUint64(ptr + 16, 0xffffffffffffffffn, true);
      return ESUCCESS;
    },
    fd_fdstat_set_flags: (): number => ESUCCESS,
    fd_prestat_get(fd: number, ptr: number): number {
      if (fd !== PREOPEN_FD) return EBADF;
      view().setUint32(ptr, 0, true);
      view().setUint32(ptr + 4, dirBytes.length, true);
      return ESUCCESS;
    },
    fd_prestat_dir_name(fd: number, pathPtr: number, len: number): number {
      if (fd !== PREOPEN_FD) return EBADF;
      bytes().set(dirBytes.subarray(0, len), pathPtr);
      return ESUCCESS;
    },
    fd_read(fd: number, _iovs: number, _n: number, nreadPtr: number): number {
      if (fd !== 0 && !open.has(fd)) return EBADF;
      view().setUint32(nreadPtr, 0, true);
      return ESUCCESS;
    },
    fd_seek(fd: number, offset: bigint, whence: number, newPtr: number): number {
      const f = open.get(fd);
      if (!f) return fd <= 2 ? ENOSYS : EBADF;
      const base = whence === 0 ? 0 : whence === 1 ? f.pos : f.size;
      const pos = base + Number(offset);
      if (pos < 0) return EINVAL;
      f.pos = pos;
      view().setBigUint64(newPtr, BigInt(pos), true);
      return ESUCCESS;
    },
    fd_write(fd: number, iovs: number, n: number, nwrittenPtr: number): number {
      let written = 0;
      const f = open.get(fd);
      if (!f && fd !== 1 && fd !== 2) return EBADF;
      for (const chunk of iovecs(iovs, n)) {
        written += chunk.length;
        if (!f) {
          if (fd === 2 && stderr.length < 4096) stderr += new TextDecoder().decode(chunk);
          continue;
        }
        const end = f.pos + chunk.length;
        if (end > f.data.length) {
          const grown = new Uint8Array(Math.max(end, f.data.length * 2, 65536));
          grown.set(f.data.subarray(0, f.size));
          f.data = grown;
        }
        f.data.set(chunk, f.pos);
        f.pos = end;
        f.size = Math.max(f.size, end);
      }
      view().setUint32(nwrittenPtr, written, true);
      return ESUCCESS;
    },
    path_open(dirFd: number, _dirflags: number, pathPtr: number, pathLen: number, oflags: number, _rb: bigint, _ri: bigint, _fdflags: number, fdPtr: number): number {
      if (dirFd !== PREOPEN_FD) return EBADF;
      const path = new TextDecoder().decode(bytes().slice(pathPtr, pathPtr + pathLen));
      const creating = (oflags & 1) !== 0;
      const existing = files.get(path);
      if (!creating && !existing) return ENOENT;
      const truncate = (oflags & 8) !== 0;
      const data = existing && !truncate ? existing.slice() : new Uint8Array(0);
      const fd = nextFd++;
      open.set(fd, { path, data, size: data.length, pos: 0 });
      view().setUint32(fdPtr, fd, true);
      return ESUCCESS;
    },
    proc_exit(code: number): never {
      throw new ProcExit(code);
    },
  };

  const instance = await wasm.instantiate(module, { wasi_snapshot_preview1: imports });
  memory = instance.exports.memory;
  let exitCode = 0;
  try {
    instance.exports._start();
  } catch (err) {
    if (!(err instanceof ProcExit)) throw err;
    exitCode = err.code;
  }
  for (const fd of [...open.keys()]) imports.fd_close(fd);
  return { exitCode, files, stderr };
}
