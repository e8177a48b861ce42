/**
 * Linux errno numbers (x86-64, from asm-generic/errno*.h), their names and
 * descriptions, and the mapping from Node's error `code` strings to them.
 */

/** Operation not permitted */
export const EPERM = 1;
/** No such file or directory */
export const ENOENT = 2;
/** No such process */
export const ESRCH = 3;
/** Interrupted system call */
export const EINTR = 4;
/** I/O error */
export const EIO = 5;
/** No such device or address */
export const ENXIO = 6;
/** Argument list too long */
export const E2BIG = 7;
/** Exec format error */
export const ENOEXEC = 8;
/** Bad file number */
export const EBADF = 9;
/** No child processes */
export const ECHILD = 10;
/** Try again */
export const EAGAIN = 11;
/** Out of memory */
export const ENOMEM = 12;
/** Permission denied */
export const EACCES = 13;
/** Bad address */
export const EFAULT = 14;
/** Block device required */
export const ENOTBLK = 15;
/** Device or resource busy */
export const EBUSY = 16;
/** File exists */
export const EEXIST = 17;
/** Cross-device link */
export const EXDEV = 18;
/** No such device */
export const ENODEV = 19;
/** Not a directory */
export const ENOTDIR = 20;
/** Is a directory */
export const EISDIR = 21;
/** Invalid argument */
export const EINVAL = 22;
/** File table overflow */
export const ENFILE = 23;
/** Too many open files */
export const EMFILE = 24;
/** Not a typewriter */
export const ENOTTY = 25;
/** Text file busy */
export const ETXTBSY = 26;
/** File too large */
export const EFBIG = 27;
/** No space left on device */
export const ENOSPC = 28;
/** Illegal seek */
export const ESPIPE = 29;
/** Read-only file system */
export const EROFS = 30;
/** Too many links */
export const EMLINK = 31;
/** Broken pipe */
export const EPIPE = 32;
/** Math argument out of domain of func */
export const EDOM = 33;
/** Math result not representable */
export const ERANGE = 34;
/** Resource deadlock would occur */
export const EDEADLK = 35;
/** File name too long */
export const ENAMETOOLONG = 36;
/** No record locks available */
export const ENOLCK = 37;
/** Invalid system call number */
export const ENOSYS = 38;
/** Directory not empty */
export const ENOTEMPTY = 39;
/** Too many symbolic links encountered */
export const ELOOP = 40;
export const EWOULDBLOCK = EAGAIN;
/** No message of desired type */
export const ENOMSG = 42;
/** Identifier removed */
export const EIDRM = 43;
/** Channel number out of range */
export const ECHRNG = 44;
/** Level 2 not synchronized */
export const EL2NSYNC = 45;
/** Level 3 halted */
export const EL3HLT = 46;
/** Level 3 reset */
export const EL3RST = 47;
/** Link number out of range */
export const ELNRNG = 48;
/** Protocol driver not attached */
export const EUNATCH = 49;
/** No CSI structure available */
export const ENOCSI = 50;
/** Level 2 halted */
export const EL2HLT = 51;
/** Invalid exchange */
export const EBADE = 52;
/** Invalid request descriptor */
export const EBADR = 53;
/** Exchange full */
export const EXFULL = 54;
/** No anode */
export const ENOANO = 55;
/** Invalid request code */
export const EBADRQC = 56;
/** Invalid slot */
export const EBADSLT = 57;
export const EDEADLOCK = EDEADLK;
/** Bad font file format */
export const EBFONT = 59;
/** Device not a stream */
export const ENOSTR = 60;
/** No data available */
export const ENODATA = 61;
/** Timer expired */
export const ETIME = 62;
/** Out of streams resources */
export const ENOSR = 63;
/** Machine is not on the network */
export const ENONET = 64;
/** Package not installed */
export const ENOPKG = 65;
/** Object is remote */
export const EREMOTE = 66;
/** Link has been severed */
export const ENOLINK = 67;
/** Advertise error */
export const EADV = 68;
/** Srmount error */
export const ESRMNT = 69;
/** Communication error on send */
export const ECOMM = 70;
/** Protocol error */
export const EPROTO = 71;
/** Multihop attempted */
export const EMULTIHOP = 72;
/** RFS specific error */
export const EDOTDOT = 73;
/** Not a data message */
export const EBADMSG = 74;
/** Value too large for defined data type */
export const EOVERFLOW = 75;
/** Name not unique on network */
export const ENOTUNIQ = 76;
/** File descriptor in bad state */
export const EBADFD = 77;
/** Remote address changed */
export const EREMCHG = 78;
/** Can not access a needed shared library */
export const ELIBACC = 79;
/** Accessing a corrupted shared library */
export const ELIBBAD = 80;
/** .lib section in a.out corrupted */
export const ELIBSCN = 81;
/** Attempting to link in too many shared libraries */
export const ELIBMAX = 82;
/** Cannot exec a shared library directly */
export const ELIBEXEC = 83;
/** Illegal byte sequence */
export const EILSEQ = 84;
/** Interrupted system call should be restarted */
export const ERESTART = 85;
/** Streams pipe error */
export const ESTRPIPE = 86;
/** Too many users */
export const EUSERS = 87;
/** Socket operation on non-socket */
export const ENOTSOCK = 88;
/** Destination address required */
export const EDESTADDRREQ = 89;
/** Message too long */
export const EMSGSIZE = 90;
/** Protocol wrong type for socket */
export const EPROTOTYPE = 91;
/** Protocol not available */
export const ENOPROTOOPT = 92;
/** Protocol not supported */
export const EPROTONOSUPPORT = 93;
/** Socket type not supported */
export const ESOCKTNOSUPPORT = 94;
/** Operation not supported on transport endpoint */
export const EOPNOTSUPP = 95;
/** Protocol family not supported */
export const EPFNOSUPPORT = 96;
/** Address family not supported by protocol */
export const EAFNOSUPPORT = 97;
/** Address already in use */
export const EADDRINUSE = 98;
/** Cannot assign requested address */
export const EADDRNOTAVAIL = 99;
/** Network is down */
export const ENETDOWN = 100;
/** Network is unreachable */
export const ENETUNREACH = 101;
/** Network dropped connection because of reset */
export const ENETRESET = 102;
/** Software caused connection abort */
export const ECONNABORTED = 103;
/** Connection reset by peer */
export const ECONNRESET = 104;
/** No buffer space available */
export const ENOBUFS = 105;
/** Transport endpoint is already connected */
export const EISCONN = 106;
/** Transport endpoint is not connected */
export const ENOTCONN = 107;
/** Cannot send after transport endpoint shutdown */
export const ESHUTDOWN = 108;
/** Too many references: cannot splice */
export const ETOOMANYREFS = 109;
/** Connection timed out */
export const ETIMEDOUT = 110;
/** Connection refused */
export const ECONNREFUSED = 111;
/** Host is down */
export const EHOSTDOWN = 112;
/** No route to host */
export const EHOSTUNREACH = 113;
/** Operation already in progress */
export const EALREADY = 114;
/** Operation now in progress */
export const EINPROGRESS = 115;
/** Stale file handle */
export const ESTALE = 116;
/** Structure needs cleaning */
export const EUCLEAN = 117;
/** Not a XENIX named type file */
export const ENOTNAM = 118;
/** No XENIX semaphores available */
export const ENAVAIL = 119;
/** Is a named type file */
export const EISNAM = 120;
/** Remote I/O error */
export const EREMOTEIO = 121;
/** Quota exceeded */
export const EDQUOT = 122;
/** No medium found */
export const ENOMEDIUM = 123;
/** Wrong medium type */
export const EMEDIUMTYPE = 124;
/** Operation Canceled */
export const ECANCELED = 125;
/** Required key not available */
export const ENOKEY = 126;
/** Key has expired */
export const EKEYEXPIRED = 127;
/** Key has been revoked */
export const EKEYREVOKED = 128;
/** Key was rejected by service */
export const EKEYREJECTED = 129;
/** Owner died */
export const EOWNERDEAD = 130;
/** State not recoverable */
export const ENOTRECOVERABLE = 131;
/** Operation not possible due to RF-kill */
export const ERFKILL = 132;
/** Memory page has hardware error */
export const EHWPOISON = 133;
/** Userspace alias of EOPNOTSUPP. */
export const ENOTSUP = EOPNOTSUPP;

/** [name, description] by errno number. */
const TABLE: [number, string, string][] = [
  [1, 'EPERM', 'Operation not permitted'],
  [2, 'ENOENT', 'No such file or directory'],
  [3, 'ESRCH', 'No such process'],
  [4, 'EINTR', 'Interrupted system call'],
  [5, 'EIO', 'I/O error'],
  [6, 'ENXIO', 'No such device or address'],
  [7, 'E2BIG', 'Argument list too long'],
  [8, 'ENOEXEC', 'Exec format error'],
  [9, 'EBADF', 'Bad file number'],
  [10, 'ECHILD', 'No child processes'],
  [11, 'EAGAIN', 'Try again'],
  [12, 'ENOMEM', 'Out of memory'],
  [13, 'EACCES', 'Permission denied'],
  [14, 'EFAULT', 'Bad address'],
  [15, 'ENOTBLK', 'Block device required'],
  [16, 'EBUSY', 'Device or resource busy'],
  [17, 'EEXIST', 'File exists'],
  [18, 'EXDEV', 'Cross-device link'],
  [19, 'ENODEV', 'No such device'],
  [20, 'ENOTDIR', 'Not a directory'],
  [21, 'EISDIR', 'Is a directory'],
  [22, 'EINVAL', 'Invalid argument'],
  [23, 'ENFILE', 'File table overflow'],
  [24, 'EMFILE', 'Too many open files'],
  [25, 'ENOTTY', 'Not a typewriter'],
  [26, 'ETXTBSY', 'Text file busy'],
  [27, 'EFBIG', 'File too large'],
  [28, 'ENOSPC', 'No space left on device'],
  [29, 'ESPIPE', 'Illegal seek'],
  [30, 'EROFS', 'Read-only file system'],
  [31, 'EMLINK', 'Too many links'],
  [32, 'EPIPE', 'Broken pipe'],
  [33, 'EDOM', 'Math argument out of domain of func'],
  [34, 'ERANGE', 'Math result not representable'],
  [35, 'EDEADLK', 'Resource deadlock would occur'],
  [36, 'ENAMETOOLONG', 'File name too long'],
  [37, 'ENOLCK', 'No record locks available'],
  [38, 'ENOSYS', 'Invalid system call number'],
  [39, 'ENOTEMPTY', 'Directory not empty'],
  [40, 'ELOOP', 'Too many symbolic links encountered'],
  [42, 'ENOMSG', 'No message of desired type'],
  [43, 'EIDRM', 'Identifier removed'],
  [44, 'ECHRNG', 'Channel number out of range'],
  [45, 'EL2NSYNC', 'Level 2 not synchronized'],
  [46, 'EL3HLT', 'Level 3 halted'],
  [47, 'EL3RST', 'Level 3 reset'],
  [48, 'ELNRNG', 'Link number out of range'],
  [49, 'EUNATCH', 'Protocol driver not attached'],
  [50, 'ENOCSI', 'No CSI structure available'],
  [51, 'EL2HLT', 'Level 2 halted'],
  [52, 'EBADE', 'Invalid exchange'],
  [53, 'EBADR', 'Invalid request descriptor'],
  [54, 'EXFULL', 'Exchange full'],
  [55, 'ENOANO', 'No anode'],
  [56, 'EBADRQC', 'Invalid request code'],
  [57, 'EBADSLT', 'Invalid slot'],
  [59, 'EBFONT', 'Bad font file format'],
  [60, 'ENOSTR', 'Device not a stream'],
  [61, 'ENODATA', 'No data available'],
  [62, 'ETIME', 'Timer expired'],
  [63, 'ENOSR', 'Out of streams resources'],
  [64, 'ENONET', 'Machine is not on the network'],
  [65, 'ENOPKG', 'Package not installed'],
  [66, 'EREMOTE', 'Object is remote'],
  [67, 'ENOLINK', 'Link has been severed'],
  [68, 'EADV', 'Advertise error'],
  [69, 'ESRMNT', 'Srmount error'],
  [70, 'ECOMM', 'Communication error on send'],
  [71, 'EPROTO', 'Protocol error'],
  [72, 'EMULTIHOP', 'Multihop attempted'],
  [73, 'EDOTDOT', 'RFS specific error'],
  [74, 'EBADMSG', 'Not a data message'],
  [75, 'EOVERFLOW', 'Value too large for defined data type'],
  [76, 'ENOTUNIQ', 'Name not unique on network'],
  [77, 'EBADFD', 'File descriptor in bad state'],
  [78, 'EREMCHG', 'Remote address changed'],
  [79, 'ELIBACC', 'Can not access a needed shared library'],
  [80, 'ELIBBAD', 'Accessing a corrupted shared library'],
  [81, 'ELIBSCN', '.lib section in a.out corrupted'],
  [82, 'ELIBMAX', 'Attempting to link in too many shared libraries'],
  [83, 'ELIBEXEC', 'Cannot exec a shared library directly'],
  [84, 'EILSEQ', 'Illegal byte sequence'],
  [85, 'ERESTART', 'Interrupted system call should be restarted'],
  [86, 'ESTRPIPE', 'Streams pipe error'],
  [87, 'EUSERS', 'Too many users'],
  [88, 'ENOTSOCK', 'Socket operation on non-socket'],
  [89, 'EDESTADDRREQ', 'Destination address required'],
  [90, 'EMSGSIZE', 'Message too long'],
  [91, 'EPROTOTYPE', 'Protocol wrong type for socket'],
  [92, 'ENOPROTOOPT', 'Protocol not available'],
  [93, 'EPROTONOSUPPORT', 'Protocol not supported'],
  [94, 'ESOCKTNOSUPPORT', 'Socket type not supported'],
  [95, 'EOPNOTSUPP', 'Operation not supported on transport endpoint'],
  [96, 'EPFNOSUPPORT', 'Protocol family not supported'],
  [97, 'EAFNOSUPPORT', 'Address family not supported by protocol'],
  [98, 'EADDRINUSE', 'Address already in use'],
  [99, 'EADDRNOTAVAIL', 'Cannot assign requested address'],
  [100, 'ENETDOWN', 'Network is down'],
  [101, 'ENETUNREACH', 'Network is unreachable'],
  [102, 'ENETRESET', 'Network dropped connection because of reset'],
  [103, 'ECONNABORTED', 'Software caused connection abort'],
  [104, 'ECONNRESET', 'Connection reset by peer'],
  [105, 'ENOBUFS', 'No buffer space available'],
  [106, 'EISCONN', 'Transport endpoint is already connected'],
  [107, 'ENOTCONN', 'Transport endpoint is not connected'],
  [108, 'ESHUTDOWN', 'Cannot send after transport endpoint shutdown'],
  [109, 'ETOOMANYREFS', 'Too many references: cannot splice'],
  [110, 'ETIMEDOUT', 'Connection timed out'],
  [111, 'ECONNREFUSED', 'Connection refused'],
  [112, 'EHOSTDOWN', 'Host is down'],
  [113, 'EHOSTUNREACH', 'No route to host'],
  [114, 'EALREADY', 'Operation already in progress'],
  [115, 'EINPROGRESS', 'Operation now in progress'],
  [116, 'ESTALE', 'Stale file handle'],
  [117, 'EUCLEAN', 'Structure needs cleaning'],
  [118, 'ENOTNAM', 'Not a XENIX named type file'],
  [119, 'ENAVAIL', 'No XENIX semaphores available'],
  [120, 'EISNAM', 'Is a named type file'],
  [121, 'EREMOTEIO', 'Remote I/O error'],
  [122, 'EDQUOT', 'Quota exceeded'],
  [123, 'ENOMEDIUM', 'No medium found'],
  [124, 'EMEDIUMTYPE', 'Wrong medium type'],
  [125, 'ECANCELED', 'Operation Canceled'],
  [126, 'ENOKEY', 'Required key not available'],
  [127, 'EKEYEXPIRED', 'Key has expired'],
  [128, 'EKEYREVOKED', 'Key has been revoked'],
  [129, 'EKEYREJECTED', 'Key was rejected by service'],
  [130, 'EOWNERDEAD', 'Owner died'],
  [131, 'ENOTRECOVERABLE', 'State not recoverable'],
  [132, 'ERFKILL', 'Operation not possible due to RF-kill'],
  [133, 'EHWPOISON', 'Memory page has hardware error'],
];

const NAMES: string[] = [];
const DESCS: string[] = [];
const BY_NAME = new Map<string, number>();
for (const [v, n, d] of TABLE) {
  NAMES[v] = n;
  DESCS[v] = d;
  BY_NAME.set(n, v);
}
BY_NAME.set('EWOULDBLOCK', EAGAIN);
BY_NAME.set('EDEADLOCK', EDEADLK);
BY_NAME.set('ENOTSUP', EOPNOTSUPP);

/** "ENOENT" for 2; `E<n>` for an unknown number. Accepts -errno too. */
export function errnoName(n: number): string {
  n = Math.abs(n);
  return NAMES[n] ?? `E${n}`;
}

/** Short description of an errno ("No such file or directory"). */
export function errnoDescription(n: number): string {
  n = Math.abs(n);
  return DESCS[n] ?? `Unknown error ${n}`;
}

/** Errno number for a name ("ENOENT" → 2), or undefined. */
export function errnoByName(name: string): number | undefined {
  return BY_NAME.get(name);
}

/**
 * Linux errno for a Node.js system error: by its `code` string, else by its
 * (negative) `errno` field, which on Linux is the negated kernel errno.
 * Returns EIO for anything that carries neither.
 */
export function errnoFromNode(err: unknown): number {
  if (err !== null && typeof err === 'object') {
    const e = err as { code?: unknown; errno?: unknown };
    if (typeof e.code === 'string') {
      const n = BY_NAME.get(e.code);
      if (n !== undefined) return n;
    }
    if (typeof e.errno === 'number' && e.errno < 0 && e.errno > -4096 && NAMES[-e.errno] !== undefined) return -e.errno;
  }
  return EIO;
}

/** True if `err` looks like a Node system error (has a string code such as "ENOENT"). */
export function isNodeSystemError(err: unknown): boolean {
  return err !== null && typeof err === 'object' && typeof (err as { code?: unknown }).code === 'string' && (err as { syscall?: unknown }).syscall !== undefined;
}

/** A syscall failure carrying its errno; thrown inside handlers, turned into -errno by the dispatcher. */
export class SysError extends Error {
  constructor(readonly errno: number) {
    super(errnoName(errno));
  }
}

/**
 * Thrown by a syscall that would sleep while the process is cooperative (a
 * debugger is attached, or other tasks could run): instead of blocking the
 * host thread, the task is parked and the syscall retried when its turn
 * comes, at the latest after about `ms` milliseconds (Infinity: only
 * another task can end the wait: a pipe, a child, a signal), so the other
 * tasks run and the stub keeps reading the debugger's packets (the
 * interrupt byte) meanwhile. Process.syscall lets it through; no errno.
 */
export class WouldBlock extends Error {
  constructor(readonly ms: number) {
    super('would block');
  }
}
