/**
 * flock(2) locks, kernel-wide: a lock belongs to an open file description
 * (an OpenFile, shared by dup'ed descriptors and, later, by forked
 * processes) and sits on an inode, so two descriptions of one file, in one
 * process or in two, see each other's locks. The table lives in the Kernel
 * object, not in a Process.
 *
 * Linux's rules (fs/locks.c, flock_lock_inode): a shared lock conflicts with
 * an exclusive one held by another description, an exclusive lock with any
 * lock held by another description; a description asking for the type it
 * holds gets it at once; asking for the other type first drops what it held
 * (so an upgrade is not atomic, and waiters may get in between). A lock goes
 * with LOCK_UN or when the description's last descriptor is closed.
 */

export type FlockType = 'shared' | 'exclusive';

/** The identity of an inode: st_dev and st_ino. */
export type InodeKey = string;

export function inodeKey(dev: bigint | number, ino: bigint | number): InodeKey {
  return `${dev}:${ino}`;
}

interface Held {
  owner: object;
  type: FlockType;
}

export class FlockTable {
  private readonly byInode = new Map<InodeKey, Held[]>();
  /** The inode each owner holds a lock on (an owner holds at most one flock). */
  private readonly ownerInode = new Map<object, InodeKey>();

  /** The lock `owner` holds on inode, if any. */
  held(inode: InodeKey, owner: object): FlockType | null {
    return this.byInode.get(inode)?.find((h) => h.owner === owner)?.type ?? null;
  }

  /** Whether `owner` could take a lock of `type` on inode now (ignoring the lock it holds itself). */
  private conflicts(inode: InodeKey, owner: object, type: FlockType): boolean {
    for (const h of this.byInode.get(inode) ?? []) {
      if (h.owner === owner) continue;
      if (type === 'exclusive' || h.type === 'exclusive') return true;
    }
    return false;
  }

  /**
   * Try to take a lock of `type` for owner. Returns false on a conflict (the
   * caller answers EWOULDBLOCK or waits). As in Linux, a conversion drops
   * the old lock before looking for conflicts, even when it then fails.
   */
  tryLock(inode: InodeKey, owner: object, type: FlockType): boolean {
    const cur = this.held(inode, owner);
    if (cur === type) return true;
    if (cur !== null) this.unlock(owner);
    if (this.conflicts(inode, owner, type)) return false;
    const list = this.byInode.get(inode) ?? [];
    list.push({ owner, type });
    this.byInode.set(inode, list);
    this.ownerInode.set(owner, inode);
    return true;
  }

  /** Drop owner's lock, if it has one (LOCK_UN, or its last descriptor closed). */
  unlock(owner: object): void {
    const inode = this.ownerInode.get(owner);
    if (inode === undefined) return;
    this.ownerInode.delete(owner);
    const list = (this.byInode.get(inode) ?? []).filter((h) => h.owner !== owner);
    if (list.length > 0) this.byInode.set(inode, list);
    else this.byInode.delete(inode);
  }
}
