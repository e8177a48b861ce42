/**
 * Socket inodes on the host file system. bind() of an AF_UNIX socket to a
 * path makes an inode the guest sees as a socket (S_IFSOCK in stat), that
 * stays after the socket goes (the next bind to it is EADDRINUSE until it is
 * unlinked) and that connect() finds the listening socket by. The host file
 * is an empty placeholder (Node cannot bind a host AF_UNIX socket without
 * listening on it, and what listens there would be the host's, not the
 * guest's): the inodes are recorded here by device, inode number and birth
 * time, and stat reports them as sockets.
 */

/** A socket bound to an inode (null: its socket has gone, the inode stays). */
const inodes = new Map<string, unknown>();

function key(dev: bigint, ino: bigint): string {
  return `${dev}:${ino}`;
}

/** Record a placeholder inode as a socket's, bound to `sock`. */
export function bindInode(dev: bigint, ino: bigint, sock: unknown): void {
  inodes.set(key(dev, ino), sock);
}

/** The socket bound to the inode, null if the inode is a socket's nobody listens on, undefined if it is not a socket inode. */
export function inodeSocket(dev: bigint, ino: bigint): unknown {
  const k = key(dev, ino);
  return inodes.has(k) ? inodes.get(k) ?? null : undefined;
}

/** The socket bound to an inode has gone (the inode stays a socket's). */
export function unbindInode(dev: bigint, ino: bigint): void {
  const k = key(dev, ino);
  if (inodes.has(k)) inodes.set(k, null);
}

/** The inode was unlinked and may be reused for another file. */
export function forgetInode(dev: bigint, ino: bigint): void {
  inodes.delete(key(dev, ino));
}

export function isSocketInode(dev: bigint, ino: bigint): boolean {
  return inodes.has(key(dev, ino));
}
