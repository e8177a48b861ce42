/**
 * A structural clone of an object graph, for snapshots of the machine
 * (src/machine/snapshot.ts): every object reached is copied once (cycles
 * and sharing kept: two references to one object are two references to its
 * one copy), with its prototype, so class instances stay instances; Maps,
 * Sets, arrays, typed arrays over their (copied) buffers and Dates are
 * copied as such. A class may clone itself another way by a method under
 * the CLONE key (Memory and Page share their bytes copy-on-write).
 *
 * Functions are where a generic clone cannot follow: a closure's captured
 * variables are out of reach. So a function met is either registered as
 * shareable (sharedOnClone: a host sink such as a warning printer, or an
 * object that never changes, such as the loaded kernel image), or it is
 * rebuilt by its owner after the clone: the cloner leaves a stale
 * placeholder in its slot and notes the slot, and `check()` fails loudly if
 * one is still there after the owner's rewiring, naming the class and field:
 * such a field is to be turned into data. WeakMaps and WeakSets are filled
 * for the objects the clone copied (their keys cannot be listed); a
 * module's own side table (state kept beside an object rather than on it)
 * is registered with sideTableOnClone.
 */

/** A class's own way to clone itself: make the copy, note it (c.note) before cloning what it holds, and return it. */
export const CLONE: unique symbol = Symbol('clone');

export interface Cloneable {
  [CLONE](c: Cloner): object;
}

const shared = new WeakSet<object>();
const rebuilt = new WeakSet<object>();
const caches = new WeakSet<object>();
const sideTables: WeakMap<object, unknown>[] = [];

/** o (an object or function) is the same in every clone: it holds no state of the machine. */
export function sharedOnClone<T extends object>(o: T): T {
  shared.add(o);
  return o;
}

/** o (an object of functions, or a function) is made anew by its owner after a clone: the clone holds a stale placeholder until then. */
export function rebuiltOnClone<T extends object>(o: T): T {
  rebuilt.add(o);
  return o;
}

/** Blank instances by prototype (shapedOnClone). */
const blanks = new WeakMap<object, () => object>();

/**
 * Instances of cls are cloned into a blank one its constructor made (then
 * every field is cloned over), not into Object.create(prototype): the
 * engine gives objects a constructor makes another hidden class than those
 * built field by field, and code optimized for a machine's hot objects (the
 * CPU, its Memory) ran a restored machine at a third of its speed. Only
 * when restoring: a snapshot is never run.
 */
export function shapedOnClone<C extends object>(cls: { prototype: C }, blank: () => C): void {
  blanks.set(cls.prototype, blank);
}

/** A WeakMap or WeakSet that is a cache: the clone starts with an empty one. */
export function cacheOnClone<T extends object>(o: T): T {
  caches.add(o);
  return o;
}

/** A module's WeakMap of state kept beside objects: the copies get their originals' entries (cloned). */
export function sideTableOnClone<K extends object, V>(t: WeakMap<K, V>): WeakMap<K, V> {
  sideTables.push(t as WeakMap<object, unknown>);
  return t;
}

/** Stands in a slot whose function its owner rebuilds; calling it means the owner did not. */
export const STALE = sharedOnClone(function stale(): never {
  throw new SnapshotError('a closure of the original machine was called in a clone: its owner did not rebuild it after the clone');
});

export class SnapshotError extends Error {}

const TYPED: Record<string, new (b: ArrayBufferLike, off: number, len: number) => ArrayBufferView> = {
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array,
};

export class Cloner {
  private readonly memo = new Map<object, unknown>();
  private readonly weak: [WeakMap<object, unknown> | WeakSet<object>, WeakMap<object, unknown> | WeakSet<object>][] = [];
  /** Where the clone is in the graph, as (class, key) pairs: formatted only for an error's message. */
  private readonly path: unknown[] = [];
  /** Slots left stale, for check(). */
  private readonly stale: { owner: object; key: PropertyKey; from: object }[] = [];

  constructor(
    /** 'snapshot': copying a running machine (its pages become copy-on-write); 'restore': copying a snapshot to run it. */
    readonly mode: 'snapshot' | 'restore',
  ) {}

  /** Bytes of buffers copied (not shared): what the clone costs beyond its objects. */
  copied = 0;

  /** Objects copied so far. */
  get size(): number {
    return this.memo.size;
  }

  /** copy is the clone of o (a CLONE method says so before cloning what o holds, so cycles through o end at copy). */
  note<T extends object>(o: T, copy: T): T {
    this.memo.set(o, copy);
    return copy;
  }

  clone<T>(v: T): T {
    if (typeof v !== 'object' && typeof v !== 'function') return v;
    if (v === null) return v;
    const o = v as unknown as object;
    const done = this.memo.get(o);
    if (done !== undefined) return done as T;
    if (shared.has(o)) return v;
    if (rebuilt.has(o)) return STALE as unknown as T;
    if (typeof v === 'function') throw new SnapshotError(`a function is stored as state at ${this.where()} and neither shared nor rebuilt: ${describeFn(v)}`);
    if (isValue(o)) return v;
    return this.copy(o) as T;
  }

  private copy(o: object): unknown {
    const proto = Object.getPrototypeOf(o) as object | null;
    if (!plain.has(proto)) {
      const c = this.special(o);
      if (c !== NOT_SPECIAL) return c;
      if (!Array.isArray(o)) plain.add(proto);
    } else if (Array.isArray(o)) return this.special(o);
    // (a snapshot never runs: only a restored copy needs the constructor's shape, and the constructor's allocations)
    const blank = proto !== null && this.mode === 'restore' ? blanks.get(proto) : undefined;
    const c = this.note(o, blank !== undefined ? blank() : (Object.create(proto) as object));
    this.fields(o, c);
    if (Object.isFrozen(o)) Object.freeze(c);
    return c;
  }

  /** The clone of an object that is not a plain instance (its own CLONE, a builtin, an array); NOT_SPECIAL for a plain one. */
  private special(o: object): unknown {
    const own = (o as Partial<Cloneable>)[CLONE];
    if (typeof own === 'function') return own.call(o, this);
    if (o instanceof ArrayBuffer) {
      this.copied += o.byteLength;
      return this.note(o, o.slice(0));
    }
    if (typeof SharedArrayBuffer !== 'undefined' && o instanceof SharedArrayBuffer) return o; // a channel to a host thread, never state
    if (ArrayBuffer.isView(o)) {
      const buf = this.clone(o.buffer);
      if (o instanceof DataView) return this.note(o, new DataView(buf, o.byteOffset, o.byteLength));
      const kind = Object.prototype.toString.call(o).slice(8, -1);
      const C = TYPED[kind];
      if (!C) throw new SnapshotError(`a typed array of an unknown kind: ${kind}`);
      const t = new C(buf, o.byteOffset, (o as unknown as { length: number }).length);
      if (Object.getPrototypeOf(t) !== Object.getPrototypeOf(o)) Object.setPrototypeOf(t, Object.getPrototypeOf(o)); // a Buffer
      return this.note(o, t);
    }
    if (o instanceof Date) return this.note(o, new Date(o.getTime()));
    if (o instanceof Map) {
      const m = this.note(o, new Map());
      for (const [k, x] of o) {
        const ck = this.clone(k);
        m.set(ck, this.slot(m, ck, x, o));
      }
      return m;
    }
    if (o instanceof Set) {
      const s = this.note(o, new Set());
      for (const x of o) s.add(this.clone(x));
      return s;
    }
    if (o instanceof WeakMap || o instanceof WeakSet) {
      const w = this.note(o, o instanceof WeakMap ? new WeakMap() : new WeakSet());
      if (caches.has(o)) caches.add(w); // a cache in the clone too (its own clones start empty)
      else this.weak.push([o, w]);
      return w;
    }
    if (o instanceof Promise || isHostHandle(o)) throw new SnapshotError(`a live host object is part of the state: ${o.constructor?.name}`);
    if (Array.isArray(o)) {
      const a = this.note(o, new Array(o.length));
      for (let i = 0; i < o.length; i++) if (i in o) a[i] = this.slot(a, i, o[i], o);
      return a;
    }
    return NOT_SPECIAL;
  }

  /** Clone o's own fields into c (a CLONE method's helper), but those in except. */
  fields(o: object, c: object, except?: ReadonlySet<PropertyKey>): void {
    for (const k of Reflect.ownKeys(o)) {
      if (except?.has(k)) continue;
      const d = Object.getOwnPropertyDescriptor(o, k)!;
      if ('value' in d) {
        const x = this.slot(c, k, d.value, o);
        if (d.writable && d.enumerable && d.configurable) (c as Record<PropertyKey, unknown>)[k] = x;
        else Object.defineProperty(c, k, { ...d, value: x });
      } else {
        // an accessor of an object of its own (a port's getters): its owner rebuilds the object
        if (!rebuilt.has(o)) throw new SnapshotError(`an accessor ${nameOf(o)}.${String(k)} of an object neither shared nor rebuilt`);
      }
    }
  }

  /** x cloned for owner[key]: a rebuilt object or function leaves a stale placeholder there, noted for check(). */
  private slot(owner: object, key: PropertyKey, x: unknown, from: object): unknown {
    this.path.push(from, key);
    const c = this.clone(x);
    this.path.pop();
    this.path.pop();
    if (c === STALE && x !== STALE) this.stale.push({ owner, key, from });
    return c;
  }

  private where(): string {
    const out: string[] = [];
    for (let i = 0; i < this.path.length; i += 2) out.push(`${nameOf(this.path[i] as object)}[${String(this.path[i + 1])}]`);
    return out.join('.');
  }

  /**
   * After the whole graph: the WeakMaps and WeakSets met, and the modules'
   * side tables, get entries for the copies of their keys.
   */
  finish(): void {
    const pairs = [...this.memo.entries()];
    for (const [from, to] of this.weak) {
      for (const [o, copy] of pairs) {
        if (typeof copy !== 'object' || copy === null || !from.has(o)) continue;
        if (from instanceof WeakMap) (to as WeakMap<object, unknown>).set(copy, this.clone(from.get(o)));
        else (to as WeakSet<object>).add(copy);
      }
    }
    for (const t of sideTables) {
      for (const [o, copy] of pairs) if (typeof copy === 'object' && copy !== null && t.has(o)) t.set(copy, this.clone(t.get(o)));
    }
  }

  /** The copies made of objects of class C (a clone's owner rebuilds what they hold: every task's CPU, reaped ones too). */
  copiesOf<C>(cls: abstract new (...a: never[]) => C): C[] {
    const out: C[] = [];
    for (const c of this.memo.values()) if (c instanceof cls) out.push(c);
    return out;
  }

  /** Fail loudly if a slot left stale was not rebuilt by its owner (it is reachable state held in a closure). */
  check(): void {
    for (const s of this.stale) {
      const now = s.owner instanceof Map ? s.owner.get(s.key) : (s.owner as Record<PropertyKey, unknown>)[s.key];
      if (now === STALE) throw new SnapshotError(`${nameOf(s.from)}.${String(s.key)} holds a closure that nothing rebuilt after the clone: make it data`);
    }
  }

  /** Forget a stale slot whose owner object is replaced as a whole (a port). */
  dropStale(owner: object): void {
    for (let i = this.stale.length - 1; i >= 0; i--) if (this.stale[i].owner === owner) this.stale.splice(i, 1);
  }
}

/** What Cloner.special returns for a plain instance. */
const NOT_SPECIAL = Symbol('not special');

/**
 * Prototypes whose instances are plain (no CLONE of their own, no builtin
 * with internal slots, no host handle): found once per prototype, as what
 * an instance is follows from its prototype chain (arrays apart).
 */
const plain = new Set<object | null>();

/** Frozen objects found to hold only primitives (a frozen object cannot change, so the finding stands). */
const values = new WeakSet<object>();

/**
 * A frozen plain object whose fields are all primitives is a value (a
 * signal's action, kernel/signal.ts): nothing can change it, so every clone
 * shares it rather than copy it.
 */
function isValue(o: object): boolean {
  if (values.has(o)) return true;
  if (!Object.isFrozen(o) || Object.getPrototypeOf(o) !== Object.prototype) return false;
  for (const k of Reflect.ownKeys(o)) {
    const d = Object.getOwnPropertyDescriptor(o, k)!;
    if (!('value' in d) || (typeof d.value === 'object' && d.value !== null) || typeof d.value === 'function') return false;
  }
  values.add(o);
  return true;
}

function isHostHandle(o: object): boolean {
  const n = o.constructor?.name;
  return n === 'Worker' || n === 'MessagePort' || n === 'Socket' || n === 'Server' || n === 'FileHandle';
}

/** An object's class, for messages. */
function nameOf(o: object): string {
  return (o.constructor as { name?: string } | undefined)?.name ?? 'Object';
}

function describeFn(f: unknown): string {
  const s = String(f).replace(/\s+/g, ' ');
  return s.length > 120 ? s.slice(0, 120) + '…' : s;
}
