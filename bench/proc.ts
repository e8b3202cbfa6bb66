import { readdirSync, readFileSync } from 'node:fs';

/** Fields of /proc/<pid>/stat after the command name (its 3rd field is the 1st here), or undefined. */
function statFields(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  } catch {
    return undefined;
  }
}

/** A process and its live descendants (Linux), the process first. */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    const child = Number(entry);
    const ppid = Number.isInteger(child) ? statFields(child)?.[1] : undefined;
    if (ppid !== undefined) parents.set(child, Number(ppid));
  }
  const tree = [pid];
  for (let grew = true; grew; ) {
    grew = false;
    for (const [child, parent] of parents) {
      if (tree.includes(parent) && !tree.includes(child)) {
        tree.push(child);
        grew = true;
      }
    }
  }
  return tree;
}

/**
 * CPU time (ms, user + system) the processes have used so far; with `reaped`, also that of the children
 * they have waited for (a shell's finished commands). NaN when the first has gone or /proc is missing.
 */
export function cpuMs(pids: number[], { reaped = false } = {}): number {
  let total = 0;
  for (const [index, pid] of pids.entries()) {
    const fields = statFields(pid);
    if (!fields) {
      if (index === 0) return Number.NaN;
      continue;
    }
    // utime, stime, cutime and cstime are the 14th to 17th fields of stat, in clock ticks (100 per second).
    const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number) as [
      number,
      number,
      number,
      number,
    ];
    total += (utime + stime + (reaped ? cutime + cstime : 0)) * 10;
  }
  return total;
}

/** VmRSS and VmHWM (peak) of a process, in MB (Linux). */
export function memoryMb(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

/** The command line of a process, its arguments joined by spaces; empty once it has gone. */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** The 1, 5 and 15 minute load averages (Linux), e.g. "2.31 1.90 1.42"; "?" elsewhere. */
export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return '?';
  }
}
