/**
 * CPU time per thread of this process, from /proc (Linux): where a pipeline's cores go, by thread
 * (the pipeline's thread, the embed worker, TensorFlow's pool, V8's helpers, libuv's pool).
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

export interface ThreadTimes {
  /** Thread id -> { name, CPU ms (user + system) }. */
  readonly threads: Map<number, { name: string; ms: number }>;
}

/** Every live thread's CPU time so far; empty where /proc is not there. */
export function threadTimes(): ThreadTimes {
  const threads = new Map<number, { name: string; ms: number }>();
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return { threads };
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Node names none of its threads; the pipeline's own is the one with the process' id.
      const name = Number(tid) === process.pid ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.set(Number(tid), { name, ms: ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return { threads };
}

/** CPU ms each thread spent between two readings (threads that started in between count from 0), busiest first. */
export function threadDelta(before: ThreadTimes, after: ThreadTimes): Array<{ tid: number; name: string; ms: number }> {
  const out: Array<{ tid: number; name: string; ms: number }> = [];
  for (const [tid, { name, ms }] of after.threads) {
    const delta = ms - (before.threads.get(tid)?.ms ?? 0);
    if (delta > 0) out.push({ tid, name, ms: delta });
  }
  return out.sort((a, b) => b.ms - a.ms);
}
