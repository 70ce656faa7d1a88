/**
 * Reused memory for blob bodies: sockets read into slabs of this pool (src/registry/blob-body.ts)
 * and the final consumer of a chunk hands it back (`recycle`) once nothing refers to it any more
 * (the cache's file writer, after the write that carried it completed).
 *
 * Why: Node gives every socket read a new ArrayBuffer and node:http copies each body piece into
 * another. V8 frees dead young ArrayBuffers only when 32 MB of them have piled up (a constant of
 * V8 11, not a flag), so a 700 MB pull carried 30–50 MB of dead buffers at any moment — a third
 * of its peak RSS. Reads into recycled slabs allocate nothing per chunk.
 *
 * The rules are loose on purpose: a chunk nobody recycles is simply collected with its slab (the
 * pool holds no reference to lent slabs), so only a consumer that knows it is the last holder may
 * recycle, exactly once per chunk it was given.
 */

/** One slab: consecutive reads fill it, each read's bytes lent out as one chunk (a view). */
export const SLAB_SIZE = 256 * 1024;
/** Room below which a read goes into the next slab instead (TLS delivers ≤ 16 KiB records). */
const MIN_ROOM = 16 * 1024;
/** Free slabs kept at most (32 MiB): a slab dropped after it was promoted would stay until a rare full collection anyway. */
const KEEP_FREE = 128;

interface Slab {
  buf: Buffer;
  /** Chunks lent out and not yet recycled. */
  lent: number;
  /** No further reads go into it: it is free again once `lent` is 0. */
  retired: boolean;
}

const slabs = new WeakMap<ArrayBufferLike, Slab>();
const free: Slab[] = [];

function takeSlab(): Slab {
  const s = free.pop();
  if (s !== undefined) {
    s.lent = 0;
    s.retired = false;
    return s;
  }
  // Its own ArrayBuffer (not a view of Node's shared 8 KiB pool), so a chunk finds its slab.
  const slab: Slab = { buf: Buffer.allocUnsafeSlow(SLAB_SIZE), lent: 0, retired: false };
  slabs.set(slab.buf.buffer, slab);
  return slab;
}

function release(s: Slab): void {
  if (s.retired && s.lent === 0 && free.length < KEEP_FREE && !free.includes(s)) free.push(s);
}

/** Where one socket's reads go: `room()` before each read, `lend(n)` for the n bytes it filled. */
export interface SlabCursor {
  /** The memory the next read may fill. */
  room(): Buffer;
  /** The first `n` bytes of the last `room()` as a chunk to pass on (counts as lent). */
  lend(n: number, skip?: number): Buffer;
  /** The reader is done: the current slab returns once its chunks come back. */
  close(): void;
}

export function slabCursor(): SlabCursor {
  let cur: Slab | undefined;
  let off = 0;
  const retire = (): void => {
    if (cur === undefined) return;
    cur.retired = true;
    release(cur);
    cur = undefined;
  };
  return {
    room() {
      if (cur === undefined || SLAB_SIZE - off < MIN_ROOM) {
        retire();
        cur = takeSlab();
        off = 0;
      }
      return cur.buf.subarray(off);
    },
    lend(n, skip = 0) {
      const s = cur as Slab;
      const chunk = s.buf.subarray(off + skip, off + n);
      off += n;
      if (chunk.length > 0) s.lent++;
      return chunk;
    },
    close: retire,
  };
}

/** Gives a chunk back to the pool if it came from it; any other buffer is ignored. */
export function recycle(chunk: Uint8Array): void {
  const s = slabs.get(chunk.buffer);
  if (s === undefined || s.lent === 0) return;
  s.lent--;
  release(s);
}
