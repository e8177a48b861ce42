/**
 * The i386 system call numbers a 32-bit program uses (int $0x80 or the
 * vDSO), from Linux's arch/x86/entry/syscalls/syscall_32.tbl, written once
 * here, with what each becomes on this kernel: the x86-64 call of the same
 * meaning, named as syscall_64.tbl names it (its number comes from there), and
 * its arguments' C types as the ia32 entry widens the 32-bit registers: `i`
 * a signed int or long (sign-extended), `u` a pointer, size or unsigned
 * (zero-extended). A call whose structures differ in layout for 32-bit
 * programs has a conversion of its own instead (ia32/syscalls.ts), named
 * `compat:` and the x86-64 call it is reported as (trace, a debugger's
 * syscall counts: the nearest one; set_thread_area's is arch_prctl, the
 * x86-64 way to set a TLS base). struct epoll_event has one layout for both
 * (x86-64's is packed to match i386's). sigreturn and rt_sigreturn are the entries'
 * own, as x86-64's rt_sigreturn is (they restore the whole user context:
 * ia32/signal.ts). Numbers not listed answer ENOSYS, reported once.
 */
import { syscallNumber } from '../sysnames.js';

export interface Ia32Call {
  /** syscall_32.tbl's name. */
  name: string;
  /**
   * The x86-64 call it runs, with the argument widening; or 'compat:<x86-64
   * call it is reported as>': a conversion in ia32/syscalls.ts; or
   * 'dispatch': socketcall, which runs (and is reported as) the i386 socket
   * call its first argument names, and ipc, which runs the System V IPC
   * call its first argument names (reported as the x86-64 one: ia32/ipc.ts).
   */
  to: string;
  args: string;
}

const T: [number, string, string, string][] = [
  [1, 'exit', 'exit', 'i'],
  [2, 'fork', 'fork', ''],
  [3, 'read', 'read', 'iuu'],
  [4, 'write', 'write', 'iuu'],
  [5, 'open', 'compat:open', 'uiu'],
  [6, 'close', 'close', 'i'],
  [7, 'waitpid', 'compat:wait4', 'iui'],
  [9, 'link', 'link', 'uu'],
  [10, 'unlink', 'unlink', 'u'],
  [11, 'execve', 'compat:execve', 'uuu'],
  [12, 'chdir', 'chdir', 'u'],
  [13, 'time', 'compat:time', 'u'],
  [15, 'chmod', 'chmod', 'uu'],
  [19, 'lseek', 'lseek', 'iii'],
  [20, 'getpid', 'getpid', ''],
  [27, 'alarm', 'alarm', 'u'],
  [29, 'pause', 'pause', ''],
  [33, 'access', 'access', 'ui'],
  [36, 'sync', 'sync', ''],
  [37, 'kill', 'kill', 'ii'],
  [38, 'rename', 'rename', 'uu'],
  [39, 'mkdir', 'mkdir', 'uu'],
  [40, 'rmdir', 'rmdir', 'u'],
  [41, 'dup', 'dup', 'u'],
  [42, 'pipe', 'pipe', 'u'],
  [45, 'brk', 'brk', 'u'],
  [48, 'signal', 'compat:rt_sigaction', 'iu'],
  [54, 'ioctl', 'ioctl', 'iuu'],
  [57, 'setpgid', 'setpgid', 'ii'],
  [60, 'umask', 'umask', 'i'],
  [61, 'chroot', 'chroot', 'u'],
  [63, 'dup2', 'dup2', 'uu'],
  [64, 'getppid', 'getppid', ''],
  [65, 'getpgrp', 'getpgrp', ''],
  [66, 'setsid', 'setsid', ''],
  [67, 'sigaction', 'compat:rt_sigaction', 'iuu'],
  [72, 'sigsuspend', 'compat:rt_sigsuspend', 'iiu'],
  [73, 'sigpending', 'compat:rt_sigpending', 'u'],
  [78, 'gettimeofday', 'compat:gettimeofday', 'uu'],
  [83, 'symlink', 'symlink', 'uu'],
  [85, 'readlink', 'readlink', 'uui'],
  [90, 'mmap', 'compat:mmap', 'u'],
  [91, 'munmap', 'munmap', 'uu'],
  [92, 'truncate', 'truncate', 'ui'],
  [93, 'ftruncate', 'ftruncate', 'iu'],
  [94, 'fchmod', 'fchmod', 'iu'],
  [102, 'socketcall', 'dispatch', 'iu'],
  [104, 'setitimer', 'compat:setitimer', 'iuu'],
  [117, 'ipc', 'dispatch', 'uiiuuu'],
  [105, 'getitimer', 'compat:getitimer', 'iu'],
  [114, 'wait4', 'compat:wait4', 'iuiu'],
  [116, 'sysinfo', 'compat:sysinfo', 'u'],
  [118, 'fsync', 'fsync', 'i'],
  [119, 'sigreturn', 'rt_sigreturn', ''],
  [120, 'clone', 'compat:clone', 'uuuuu'],
  [122, 'uname', 'uname', 'u'],
  [125, 'mprotect', 'mprotect', 'uuu'],
  [126, 'sigprocmask', 'compat:rt_sigprocmask', 'iuu'],
  [132, 'getpgid', 'getpgid', 'i'],
  [133, 'fchdir', 'fchdir', 'i'],
  [140, '_llseek', 'compat:lseek', 'iuuui'],
  [143, 'flock', 'flock', 'iu'],
  [145, 'readv', 'compat:readv', 'iui'],
  [146, 'writev', 'compat:writev', 'iui'],
  [147, 'getsid', 'getsid', 'i'],
  [148, 'fdatasync', 'fdatasync', 'i'],
  [158, 'sched_yield', 'sched_yield', ''],
  [162, 'nanosleep', 'compat:nanosleep', 'uu'],
  [163, 'mremap', 'mremap', 'uuuuu'],
  [168, 'poll', 'poll', 'uui'],
  [172, 'prctl', 'prctl', 'iuuuu'],
  [173, 'rt_sigreturn', 'rt_sigreturn', ''],
  [174, 'rt_sigaction', 'compat:rt_sigaction', 'iuuu'],
  [175, 'rt_sigprocmask', 'rt_sigprocmask', 'iuuu'],
  [176, 'rt_sigpending', 'rt_sigpending', 'uu'],
  [177, 'rt_sigtimedwait', 'compat:rt_sigtimedwait', 'uuuu'],
  [178, 'rt_sigqueueinfo', 'compat:rt_sigqueueinfo', 'iiu'],
  [179, 'rt_sigsuspend', 'rt_sigsuspend', 'uu'],
  [180, 'pread64', 'compat:pread64', 'iuuuu'],
  [181, 'pwrite64', 'compat:pwrite64', 'iuuuu'],
  [183, 'getcwd', 'getcwd', 'uu'],
  [186, 'sigaltstack', 'compat:sigaltstack', 'uu'],
  [190, 'vfork', 'vfork', ''],
  [191, 'ugetrlimit', 'compat:getrlimit', 'uu'],
  [192, 'mmap2', 'compat:mmap', 'uuuuiu'],
  [193, 'truncate64', 'compat:truncate', 'uuu'],
  [194, 'ftruncate64', 'compat:ftruncate', 'iuu'],
  [195, 'stat64', 'compat:stat', 'uu'],
  [196, 'lstat64', 'compat:lstat', 'uu'],
  [197, 'fstat64', 'compat:fstat', 'iu'],
  [198, 'lchown32', 'lchown', 'uuu'],
  [199, 'getuid32', 'getuid', ''],
  [200, 'getgid32', 'getgid', ''],
  [201, 'geteuid32', 'geteuid', ''],
  [202, 'getegid32', 'getegid', ''],
  [203, 'setreuid32', 'setreuid', 'uu'],
  [204, 'setregid32', 'setregid', 'uu'],
  [205, 'getgroups32', 'getgroups', 'iu'],
  [206, 'setgroups32', 'setgroups', 'iu'],
  [207, 'fchown32', 'fchown', 'iuu'],
  [208, 'setresuid32', 'setresuid', 'uuu'],
  [209, 'getresuid32', 'getresuid', 'uuu'],
  [210, 'setresgid32', 'setresgid', 'uuu'],
  [211, 'getresgid32', 'getresgid', 'uuu'],
  [212, 'chown32', 'chown', 'uuu'],
  [213, 'setuid32', 'setuid', 'u'],
  [214, 'setgid32', 'setgid', 'u'],
  [219, 'madvise', 'madvise', 'uui'],
  [220, 'getdents64', 'getdents64', 'iuu'],
  [221, 'fcntl64', 'compat:fcntl', 'iuu'],
  [224, 'gettid', 'gettid', ''],
  [238, 'tkill', 'tkill', 'ii'],
  [239, 'sendfile64', 'sendfile', 'iiuu'],
  [240, 'futex', 'compat:futex', 'uiuuuu'],
  [243, 'set_thread_area', 'compat:arch_prctl', 'u'],
  [244, 'get_thread_area', 'compat:arch_prctl', 'u'],
  [252, 'exit_group', 'exit_group', 'i'],
  [254, 'epoll_create', 'epoll_create', 'i'],
  [255, 'epoll_ctl', 'epoll_ctl', 'iiiu'],
  [256, 'epoll_wait', 'epoll_wait', 'iuii'],
  [258, 'set_tid_address', 'set_tid_address', 'u'],
  [265, 'clock_gettime', 'compat:clock_gettime', 'iu'],
  [266, 'clock_getres', 'compat:clock_getres', 'iu'],
  [267, 'clock_nanosleep', 'compat:clock_nanosleep', 'iiuu'],
  [270, 'tgkill', 'tgkill', 'iii'],
  [284, 'waitid', 'compat:waitid', 'iiuiu'],
  [295, 'openat', 'compat:openat', 'iuiu'],
  [296, 'mkdirat', 'mkdirat', 'iuu'],
  [298, 'fchownat', 'fchownat', 'iuuui'],
  [300, 'fstatat64', 'compat:newfstatat', 'iuui'],
  [301, 'unlinkat', 'unlinkat', 'iui'],
  [302, 'renameat', 'renameat', 'iuiu'],
  [303, 'linkat', 'linkat', 'iuiui'],
  [304, 'symlinkat', 'symlinkat', 'uiu'],
  [305, 'readlinkat', 'readlinkat', 'iuui'],
  [306, 'fchmodat', 'fchmodat', 'iuu'],
  [307, 'faccessat', 'faccessat', 'iui'],
  [311, 'set_robust_list', 'compat:set_robust_list', 'uu'],
  [319, 'epoll_pwait', 'epoll_pwait', 'iuiiuu'],
  [329, 'epoll_create1', 'epoll_create1', 'i'],
  [330, 'dup3', 'dup3', 'uui'],
  [331, 'pipe2', 'pipe2', 'ui'],
  [335, 'rt_tgsigqueueinfo', 'compat:rt_tgsigqueueinfo', 'iiiu'],
  [337, 'recvmmsg', 'compat:recvmmsg', 'iuiuu'],
  [340, 'prlimit64', 'prlimit64', 'iuuu'],
  [345, 'sendmmsg', 'compat:sendmmsg', 'iuui'],
  [353, 'renameat2', 'renameat2', 'iuiuu'],
  [355, 'getrandom', 'getrandom', 'uuu'],
  [356, 'memfd_create', 'memfd_create', 'uu'],
  [358, 'execveat', 'compat:execveat', 'iuuui'],
  [359, 'socket', 'socket', 'iii'],
  [360, 'socketpair', 'socketpair', 'iiiu'],
  [361, 'bind', 'bind', 'iui'],
  [362, 'connect', 'connect', 'iui'],
  [363, 'listen', 'listen', 'ii'],
  [364, 'accept4', 'accept4', 'iuui'],
  [365, 'getsockopt', 'compat:getsockopt', 'iiiuu'],
  [366, 'setsockopt', 'compat:setsockopt', 'iiiui'],
  [367, 'getsockname', 'getsockname', 'iuu'],
  [368, 'getpeername', 'getpeername', 'iuu'],
  [369, 'sendto', 'sendto', 'iuuiui'],
  [370, 'recvfrom', 'recvfrom', 'iuuiuu'],
  [371, 'sendmsg', 'compat:sendmsg', 'iui'],
  [372, 'recvmsg', 'compat:recvmsg', 'iui'],
  [373, 'shutdown', 'shutdown', 'ii'],
  [383, 'statx', 'statx', 'iuuuu'],
  [386, 'rseq', 'rseq', 'uuiu'],
  [393, 'semget', 'semget', 'iii'],
  [394, 'semctl', 'compat:semctl', 'iiiu'],
  [395, 'shmget', 'shmget', 'iui'],
  [396, 'shmctl', 'compat:shmctl', 'iiu'],
  [397, 'shmat', 'compat:shmat', 'iui'],
  [398, 'shmdt', 'shmdt', 'u'],
  [399, 'msgget', 'msgget', 'ii'],
  [400, 'msgsnd', 'compat:msgsnd', 'iuui'],
  [401, 'msgrcv', 'compat:msgrcv', 'iuuii'],
  [402, 'msgctl', 'compat:msgctl', 'iiu'],
  [403, 'clock_gettime64', 'clock_gettime', 'iu'],
  [406, 'clock_getres_time64', 'clock_getres', 'iu'],
  [407, 'clock_nanosleep_time64', 'clock_nanosleep', 'iiuu'],
  [412, 'utimensat_time64', 'utimensat', 'iuui'],
  [414, 'ppoll_time64', 'ppoll', 'uuuuu'],
  [420, 'semtimedop_time64', 'compat:semtimedop', 'iuuu'],
  [421, 'rt_sigtimedwait_time64', 'compat:rt_sigtimedwait', 'uuuu'],
  [422, 'futex_time64', 'futex', 'uiuuuu'],
  [435, 'clone3', 'compat:clone3', 'uu'],
  [436, 'close_range', 'close_range', 'uuu'],
  [437, 'openat2', 'openat2', 'iuuu'],
  [439, 'faccessat2', 'faccessat2', 'iuii'],
];

/** The i386 numbers of the two returns from a handler, which the entries handle themselves. */
export const NR32_SIGRETURN = 119, NR32_RT_SIGRETURN = 173;
export const NR32_SOCKETCALL = 102, NR32_IPC = 117;

/** The calls by i386 number. */
export const IA32_CALLS: ReadonlyMap<number, Ia32Call> = new Map(T.map(([nr, name, to, args]) => [nr, { name, to, args }]));

/** An i386 syscall's name ("syscall32_N" for numbers not listed). */
export function ia32Name(nr: number): string {
  return IA32_CALLS.get(nr)?.name ?? `syscall32_${nr}`;
}

/**
 * The x86-64 number a 32-bit program's call is reported under to a debugger
 * (gdb's `catch syscall`): gdb names calls from the x86-64 table under the
 * stub's x86-64 target description, so an i386 write (4) stops as write (1)
 * and gdb prints its name. The call's own x86-64 counterpart, or the one a
 * conversion is reported as; undefined for a number with neither.
 */
export function reportedNr64(nr32: number): number | undefined {
  const c = IA32_CALLS.get(nr32);
  return c === undefined ? undefined : syscallNumber(c.to.startsWith('compat:') ? c.to.slice('compat:'.length) : c.to);
}

/**
 * How a debugger numbers a 32-bit task's syscalls, in QCatchSyscalls and in
 * the syscall stops: 'x86-64', the default, by the x86-64 counterpart
 * (reportedNr64: what gdb names under the stub's x86-64 description), or
 * 'i386', by the task's own number, as Linux's ptrace reports it, for a
 * debugger that reads the i386 syscall table for a 32-bit process
 * (gdb-scripts/entrystub_compat32.py asks for it: `monitor syscall-numbers32`).
 */
export type SyscallNumbers32 = 'x86-64' | 'i386';

/** The number a 32-bit task's syscall nr32 stops under (undefined: it has none). */
export function debuggerNr32(nr32: number, numbers: SyscallNumbers32): number | undefined {
  return numbers === 'i386' ? nr32 : reportedNr64(nr32);
}
