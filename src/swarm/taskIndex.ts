import { closeSync, lstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { compareRank, findCycles, parseTask, parseTaskRef, rankKey, type Task } from '../core/task.js';
import { writeFileAtomic } from '../store/atomic.js';
import { decodeUtf8, readOrNull } from '../store/files.js';

/**
 * A cache of a shard's task folder in NEXUS, so that `^task ready` and `^task list` do not read
 * 10,000 files per command. Two files per task folder (a linked worktree has its own folder):
 *
 * - `<key>.snapshot.json`: every file's size, mtime and inode and the task it held (or why it is
 *   not a task), for the stat walk and for `^task list`;
 * - `<key>.ready.jsonl`: a header line, then one line per task that is ready as far as this
 *   shard can tell (todo, every local dep done), best first. Cross-shard deps are checked when
 *   the command runs. Ranking does not depend on the clock (core/task.ts `rankKey`), so the
 *   order stays right until the folder changes, and `ready --limit N` parses N lines.
 *
 * Both carry the folder's stamp (mtime in ns, inode). Equal stamp: nothing was added, removed or
 * renamed, and no file is opened. Otherwise a stat walk re-reads only files whose size, mtime or
 * inode moved. What it cannot see (as for knowledge, docs/knowledge.md): a task file edited in
 * place by a tool that does not rename it; agence, git and most editors do.
 */

/** Bumped whenever the cache files change shape: a cache of another version is rebuilt. */
const VERSION = 2;
/** A folder changed this close to the walk might change again within the same mtime tick. */
const RACY_MS = 1000;

export interface FolderStamp {
  mtimeNs: string;
  ino: number;
  /** False when the walk was too close to the folder's change to trust the stamp next time. */
  settled: boolean;
}

interface FileEntry {
  size: number;
  mtimeMs: number;
  ino: number;
  task: Task | null;
  problem: string | null;
}

interface Snapshot {
  v: number;
  dir: string;
  stamp: FolderStamp;
  files: Record<string, FileEntry>;
}

/** A task file that is not a valid task, and why. */
export interface BadTaskFile {
  file: string;
  problem: string;
}

export interface ReadyHeader {
  v: number;
  dir: string;
  stamp: FolderStamp;
  /** Tasks in the folder. */
  count: number;
  /** Cycles among local tasks (only merges and hand edits make them: `^task dep` refuses). */
  cycles: string[][];
  bad: BadTaskFile[];
  /** Todo tasks that cannot become ready as things stand: a local dep that does not exist or was cancelled. */
  stuck: string[];
}

/** One ready line: the task's fields for display, its rank key, and its deps in other shards. */
export type ReadyRow = [id: string, title: string, priority: Task['priority'], stars: number, heat: number, agent: string | null, created: string, key: number, foreignDeps: string[]];

export interface TaskFolder {
  dir: string;
  /** NEXUS folder the cache lives in. */
  cacheDir: string;
  shardName: string;
}

/** A short, stable name for a folder's cache files (FNV-1a; node:crypto stays out of start-up). */
function cacheKey(dir: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < dir.length; i++) {
    h ^= dir.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

const snapshotPath = (f: TaskFolder) => join(f.cacheDir, `${cacheKey(f.dir)}.snapshot.json`);
const readyPath = (f: TaskFolder) => join(f.cacheDir, `${cacheKey(f.dir)}.ready.jsonl`);

function folderStamp(dir: string, now: number): FolderStamp | null {
  try {
    const st = statSync(dir, { bigint: true });
    return { mtimeNs: st.mtimeNs.toString(), ino: Number(st.ino), settled: now - Number(st.mtimeMs) > RACY_MS };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

const sameStamp = (a: FolderStamp, b: FolderStamp) => a.settled && a.mtimeNs === b.mtimeNs && a.ino === b.ino;

function readSnapshot(folder: TaskFolder): Snapshot | null {
  const bytes = readOrNull(snapshotPath(folder));
  if (bytes === null) return null;
  try {
    const snapshot = JSON.parse(bytes.toString('utf8')) as Snapshot;
    return snapshot.v === VERSION && snapshot.dir === folder.dir ? snapshot : null;
  } catch {
    return null; // a damaged cache is rebuilt from the files
  }
}

/** Bring the snapshot in line with the folder: re-read only files whose size, mtime or inode moved. */
function walk(folder: TaskFolder, stamp: FolderStamp | null): Snapshot {
  const previous = readSnapshot(folder)?.files ?? {};
  const files: Record<string, FileEntry> = {};
  const names = stamp === null ? [] : readdirSync(folder.dir).filter((n) => n.endsWith('.json') && !n.startsWith('.'));
  for (const name of names.sort()) {
    const path = join(folder.dir, name);
    let st;
    try {
      st = lstatSync(path);
    } catch {
      continue; // removed since the listing
    }
    if (!st.isFile()) continue;
    const known = previous[name];
    if (known && known.size === st.size && known.mtimeMs === st.mtimeMs && known.ino === st.ino) {
      files[name] = known;
      continue;
    }
    files[name] = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, ...readTaskFile(path, name) };
  }
  return { v: VERSION, dir: folder.dir, stamp: stamp ?? { mtimeNs: '0', ino: 0, settled: false }, files };
}

function readTaskFile(path: string, name: string): { task: Task | null; problem: string | null } {
  const bytes = readOrNull(path);
  if (bytes === null) return { task: null, problem: 'vanished while read' };
  let text: string;
  try {
    text = decodeUtf8(bytes, path);
  } catch {
    return { task: null, problem: 'not valid UTF-8' };
  }
  const parsed = parseTask(text);
  if ('problem' in parsed) return { task: null, problem: parsed.problem };
  if (`${parsed.task.id}.json` !== name) return { task: null, problem: `holds task ${parsed.task.id}, not ${name.slice(0, -5)}` };
  return { task: parsed.task, problem: null };
}

/** The tasks of a snapshot, and the files that are not tasks. */
function contents(snapshot: Snapshot): { tasks: Task[]; bad: BadTaskFile[] } {
  const tasks: Task[] = [];
  const bad: BadTaskFile[] = [];
  for (const [name, entry] of Object.entries(snapshot.files)) {
    if (entry.task) tasks.push(entry.task);
    else bad.push({ file: name, problem: entry.problem ?? 'not a task' });
  }
  return { tasks, bad };
}

function readyLines(folder: TaskFolder, snapshot: Snapshot): string {
  const { tasks: list, bad } = contents(snapshot);
  const tasks = new Map(list.map((t) => [t.id, t]));
  const local = (task: Task) => task.deps.map((d) => parseTaskRef(d, folder.shardName)).filter((r) => r.shard === null).map((r) => r.id);
  const stuck: string[] = [];
  const rows: ReadyRow[] = [];
  for (const task of tasks.values()) {
    const deps = task.deps.map((d) => parseTaskRef(d, folder.shardName));
    const absent = deps.filter((r) => r.shard === null && !tasks.has(r.id));
    if (task.state !== 'todo') continue;
    stuck.push(...absent.map((r) => `${task.id} waits for ${r.id}, which does not exist`));
    const cancelled = deps.filter((r) => r.shard === null && tasks.get(r.id)?.state === 'cancelled');
    stuck.push(...cancelled.map((r) => `${task.id} waits for ${r.id}, which was cancelled (drop it: \`agence ^task dep ${task.id} ${r.id} --remove\`)`));
    if (absent.length > 0) continue;
    if (deps.some((r) => r.shard === null && tasks.get(r.id)?.state !== 'done')) continue;
    const foreign = deps.filter((r) => r.shard !== null).map((r) => `${r.shard}:${r.id}`);
    rows.push([task.id, task.title, task.priority, task.stars, task.heat, task.agent, task.created, rankKey(task), foreign]);
  }
  rows.sort((a, b) => compareRank({ key: a[7], created: a[6], id: a[0] }, { key: b[7], created: b[6], id: b[0] }));
  const cycles = findCycles([...tasks.keys()].sort(), (id) => (tasks.has(id) ? local(tasks.get(id) as Task) : []));
  const header: ReadyHeader = { v: VERSION, dir: folder.dir, stamp: snapshot.stamp, count: tasks.size, cycles, bad, stuck };
  return [JSON.stringify(header), ...rows.map((r) => JSON.stringify(r))].join('\n') + '\n';
}

/** The snapshot, walked and both cache files rewritten when the folder moved. */
export function taskSnapshot(folder: TaskFolder, now: number): { tasks: Task[]; bad: BadTaskFile[] } {
  const stamp = folderStamp(folder.dir, now);
  const snapshot = readSnapshot(folder);
  return contents(snapshot && stamp !== null && sameStamp(snapshot.stamp, stamp) ? snapshot : refresh(folder, stamp));
}

function refresh(folder: TaskFolder, stamp: FolderStamp | null): Snapshot {
  const snapshot = walk(folder, stamp);
  // Caches: no fsync of the folder, a lost write is a walk next time.
  writeFileAtomic(snapshotPath(folder), JSON.stringify(snapshot), 0o600, false);
  writeFileAtomic(readyPath(folder), readyLines(folder, snapshot), 0o600, false);
  return snapshot;
}

/** Lines of a file, read in blocks as far as they are asked for (the ready list's head is all most commands need). */
class LineReader {
  private buffer = Buffer.alloc(0);
  private eof = false;
  constructor(private readonly fd: number) {}

  next(): string | null {
    for (;;) {
      const end = this.buffer.indexOf(10);
      if (end !== -1) {
        const line = this.buffer.toString('utf8', 0, end);
        this.buffer = this.buffer.subarray(end + 1);
        return line;
      }
      if (this.eof) {
        const rest = this.buffer.length > 0 ? this.buffer.toString('utf8') : null;
        this.buffer = Buffer.alloc(0);
        return rest;
      }
      const block = Buffer.allocUnsafe(65_536);
      const n = readSync(this.fd, block, 0, block.length, null);
      if (n === 0) this.eof = true;
      else this.buffer = this.buffer.length === 0 ? block.subarray(0, n) : Buffer.concat([this.buffer, block.subarray(0, n)]);
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}

function openReady(folder: TaskFolder): { reader: LineReader; header: ReadyHeader | null } | null {
  let fd: number;
  try {
    fd = openSync(readyPath(folder), 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const reader = new LineReader(fd);
  return { reader, header: parseHeader(reader.next(), folder) };
}

/**
 * The ready list: its header and its rows in rank order, read and parsed only as far as the
 * caller goes. The fast path is one stat and one block read.
 */
export function readyList<T>(folder: TaskFolder, now: number, use: (header: ReadyHeader, rows: () => ReadyRow | null) => T): T {
  const stamp = folderStamp(folder.dir, now);
  let opened = openReady(folder);
  if (!opened?.header || stamp === null || !sameStamp(opened.header.stamp, stamp)) {
    opened?.reader.close();
    refresh(folder, stamp);
    opened = openReady(folder);
  }
  const { reader, header } = opened as { reader: LineReader; header: ReadyHeader };
  try {
    return use(header, () => {
      const line = reader.next();
      return line === null || line === '' ? null : (JSON.parse(line) as ReadyRow);
    });
  } finally {
    reader.close();
  }
}

function parseHeader(line: string | null, folder: TaskFolder): ReadyHeader | null {
  try {
    const header = JSON.parse(line ?? '') as ReadyHeader;
    return header.v === VERSION && header.dir === folder.dir ? header : null;
  } catch {
    return null;
  }
}
