/**
 * cli/io.ts: reading the user's files and writing the outputs they name, with the system's
 * reason in words (as cat and cp say it: "No such file or directory") instead of a stack
 * trace, and a pipe closed early (`lvsim run ... | head`) ending the command quietly.
 */
import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** A file that cannot be read or written: the command exits 2 with this message. */
export class FileError extends Error {}

const REASON: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EROFS: 'Read-only file system',
  ENOSPC: 'No space left on device',
  EEXIST: 'File exists',
  ENAMETOOLONG: 'File name too long',
  ELOOP: 'Too many levels of symbolic links',
};

/** strerror's words for a Node file-system error. */
export function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return (code && REASON[code]) ?? (e instanceof Error ? e.message : String(e));
}

/** The text of a file the user named, or a FileError ("cannot read x.yaml: No such file or directory"). */
export function readInput(path: string): string {
  try {
    if (statSync(path).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new FileError(`cannot read ${path}: ${reason(e)}`);
  }
}

/**
 * Check, before any work, that `path` can be written as an output file: its directory exists
 * and it is not itself a directory. Saves a long run from ending in a lost result.
 */
export function checkOutput(path: string, flag: string): void {
  const fail = (why: string): never => { throw new FileError(`cannot write ${flag} ${path}: ${why}`); };
  if (path.endsWith('/')) fail(REASON.EISDIR!);
  try {
    if (statSync(path).isDirectory()) fail(REASON.EISDIR!);
  } catch (e) {
    if (e instanceof FileError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') fail(reason(e));
  }
  const dir = dirname(path);
  try {
    if (!statSync(dir).isDirectory()) fail(`${dir} is ${REASON.ENOTDIR!.toLowerCase()}`);
  } catch (e) {
    if (e instanceof FileError) throw e;
    fail(`${reason(e)} (the directory ${dir} does not exist)`);
  }
}

/** Write an output file the user named, or a FileError with the system's reason. */
export function writeOutput(path: string, flag: string, data: string | Uint8Array): void {
  let fd: number | null = null;
  try {
    fd = openSync(path, 'w');
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
  } catch (e) {
    throw new FileError(`cannot write ${flag} ${path}: ${reason(e)}`);
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

let guarded = false;

/**
 * A reader that stops early (`| head`, `| less` quit) closes the pipe: stop quietly, keeping
 * the exit status the command set, as a Unix filter killed by SIGPIPE leaves no message.
 */
export function quietOnClosedPipe(): void {
  if (guarded) return;
  guarded = true;
  for (const s of [process.stdout, process.stderr]) {
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
      throw e;
    });
  }
}
