/**
 * What the host kernel says about the process the emulator runs in, read
 * where Linux publishes it (/proc/self/status, /proc/meminfo, /proc/loadavg,
 * /sys/devices/system/cpu). The guest inherits these facts as a program
 * started by the same shell would: its supplementary groups, the CPUs it may
 * run on, its umask and capabilities, and the machine's memory figures.
 *
 * Node's own APIs are not used where they answer differently from the
 * syscall: process.getgroups() adds the effective gid to the list (getgroups(2)
 * does not), and os.freemem() is MemAvailable, not sysinfo's freeram.
 */
import { hostFs as fs, hostOs as os } from './hostlog.js';
import * as zlib from 'node:zlib';

function readText(path: string): string | null {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** A field of /proc/self/status ("Name:\tvalue"), or null. */
function statusField(name: string): string | null {
  const s = readText('/proc/self/status');
  if (s === null) return null;
  const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(s);
  return m ? m[1].trim() : null;
}

/** The process's supplementary group ids, as getgroups(2) returns them. */
export function hostGroups(): number[] {
  const f = statusField('Groups');
  if (f !== null) return f === '' ? [] : f.split(/\s+/).map(Number);
  // not Linux procfs: Node's list includes the egid, which getgroups(2) does not promise
  return process.getgroups?.() ?? [];
}

/** The process's umask (Linux >= 4.7 shows it in /proc/self/status). */
export function hostUmask(): number {
  const f = statusField('Umask');
  return f !== null ? parseInt(f, 8) : 0o022;
}

/** Capability sets of a task: effective, permitted, inheritable, and the bounding set. */
export interface CapSets {
  eff: bigint;
  prm: bigint;
  inh: bigint;
  bnd: bigint;
}

/** The process's capability sets. */
export function hostCaps(): CapSets {
  const get = (k: string): bigint => {
    const f = statusField(k);
    return f !== null && /^[0-9a-f]+$/i.test(f) ? BigInt('0x' + f) : 0n;
  };
  return { eff: get('CapEff'), prm: get('CapPrm'), inh: get('CapInh'), bnd: get('CapBnd') };
}

/** Status flags of a host fd from /proc/self/fdinfo, or null. */
export function hostFdFlags(fd: number): number | null {
  const s = readText(`/proc/self/fdinfo/${fd}`);
  const m = s === null ? null : /^flags:\s*([0-7]+)/m.exec(s);
  return m ? parseInt(m[1], 8) : null;
}

/** Parse a kernel CPU list ("0-3,8,10-11") into CPU numbers. */
export function parseCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.trim().split(',')) {
    if (part === '') continue;
    const [a, b] = part.split('-').map(Number);
    for (let c = a; c <= (b ?? a); c++) out.push(c);
  }
  return out;
}

/**
 * nr_cpu_ids: one more than the highest possible CPU number. It sizes the
 * kernel's cpumask, so sched_getaffinity's minimum length and its return
 * value depend on it.
 */
export function hostNrCpuIds(): number {
  const s = readText('/sys/devices/system/cpu/possible');
  const cpus = s === null ? [] : parseCpuList(s);
  return cpus.length > 0 ? Math.max(...cpus) + 1 : Math.max(os.cpus().length, 1);
}

/** The running kernel's build configuration (/proc/config.gz or /boot/config-RELEASE), or null. */
function kernelConfig(): string | null {
  try {
    return zlib.gunzipSync(fs.readFileSync('/proc/config.gz')).toString('latin1');
  } catch {
    return readText(`/boot/config-${os.release()}`);
  }
}

/**
 * cpumask_size(): the bytes sched_getaffinity copies out at most. The kernel
 * sizes its masks for NR_CPUS bits (kernel_max + 1), or for nr_cpu_ids bits
 * when built with CONFIG_CPUMASK_OFFSTACK (which Kconfig requires for more
 * than 512 CPUs, so that is the guess when the configuration is not readable).
 */
export function hostCpumaskSize(): number {
  const max = readText('/sys/devices/system/cpu/kernel_max');
  const nrCpus = max !== null && /^\d+\s*$/.test(max) ? Number(max) + 1 : hostNrCpuIds();
  const config = kernelConfig();
  const offstack = config !== null ? /^CONFIG_CPUMASK_OFFSTACK=y$/m.test(config) : nrCpus > 512;
  const bits = nrCpus > 64 && offstack ? hostNrCpuIds() : nrCpus;
  return Math.ceil(bits / 64) * 8;
}

/** The CPUs this process may run on (its affinity mask), ascending. */
export function hostAllowedCpus(): number[] {
  const f = statusField('Cpus_allowed_list');
  const cpus = f === null ? [] : parseCpuList(f);
  if (cpus.length > 0) return cpus;
  return Array.from({ length: Math.max(os.cpus().length, 1) }, (_, k) => k);
}

/** /proc/meminfo in bytes by field name (the file says kB). */
export function hostMeminfo(): Map<string, number> {
  const out = new Map<string, number>();
  const s = readText('/proc/meminfo');
  if (s === null) {
    out.set('MemTotal', os.totalmem());
    out.set('MemFree', os.freemem());
    return out;
  }
  for (const m of s.matchAll(/^(\S+):\s+(\d+)(?:\s+kB)?$/gm)) out.set(m[1], Number(m[2]) * (m[0].endsWith('kB') ? 1024 : 1));
  return out;
}

/** Number of threads on the machine (the "procs" of sysinfo(2): /proc/loadavg's 4th field after the slash). */
export function hostThreadCount(): number {
  const s = readText('/proc/loadavg');
  const m = s === null ? null : /\s\d+\/(\d+)\s/.exec(s);
  return m ? Number(m[1]) : 1;
}

/** The CPU the calling host thread last ran on and its NUMA node (getcpu), from /proc/thread-self/stat. */
export function hostCurrentCpu(): { cpu: number; node: number } {
  const s = readText('/proc/thread-self/stat');
  const rest = s === null ? null : s.slice(s.lastIndexOf(')') + 2).split(' ');
  const cpu = rest && rest.length > 36 ? Number(rest[36]) : 0; // field 39, "processor"
  let node = 0;
  try {
    const m = fs.readdirSync(`/sys/devices/system/cpu/cpu${cpu}`).map((n) => /^node(\d+)$/.exec(n)).find((x) => x);
    if (m) node = Number(m[1]);
  } catch {
    /* no sysfs: node 0 */
  }
  return { cpu, node };
}

/** RLIM_INFINITY. */
export const RLIM_INFINITY = 0xffffffffffffffffn;

/**
 * The process's resource limits [soft, hard] by RLIMIT_* number (0..15), from
 * /proc/self/limits, whose rows are in that order: what a program started by
 * the same shell inherits (ulimit -v, -s, -d ...). Node raises its own
 * RLIMIT_NOFILE soft limit to the hard one at start, so that row may show
 * more than the shell had.
 */
export function hostRlimits(): [bigint, bigint][] | null {
  const s = readText('/proc/self/limits');
  if (s === null) return null;
  const rows = s.split('\n').filter((l) => l.startsWith('Max '));
  if (rows.length < 16) return null;
  const val = (x: string): bigint => (x === 'unlimited' ? RLIM_INFINITY : BigInt(x));
  return rows.slice(0, 16).map((l) => {
    const m = /^Max [a-z ]+?\s{2,}(\S+)\s+(\S+)/.exec(l);
    return m ? [val(m[1]), val(m[2])] : [RLIM_INFINITY, RLIM_INFINITY];
  });
}

/** The host process's virtual size (VmSize) in bytes. */
export function hostVmSize(): number {
  const f = statusField('VmSize');
  const m = f === null ? null : /^(\d+)\s*kB$/.exec(f);
  return m ? Number(m[1]) * 1024 : 0;
}

/** Bytes of the vDSO and its data pages in the host process's own address space (they are the same in every process). */
export function hostVdsoSize(): number {
  const s = readText('/proc/self/maps');
  if (s === null) return 0;
  let n = 0;
  for (const m of s.matchAll(/^([0-9a-f]+)-([0-9a-f]+) .*\[(vvar|vvar_vclock|vdso)\]$/gm)) n += parseInt(m[2], 16) - parseInt(m[1], 16);
  return n;
}
