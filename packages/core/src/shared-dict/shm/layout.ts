// Where things live in a shared dict's region: one SharedArrayBuffer holding a header, the hash
// buckets, the expiry heap and an arena of blocks (entries and list items).
//
// Every block starts on an 8-byte word; a block is named by its word index (its "ref"), so its
// Int32 fields are at `ref * 2 + F` and its Float64 fields at `ref + W`. Ref 0 is never a block.

/** Bumped when the layout changes: a region made by another layout is refused. */
export const MAGIC = 0x70b5_0001;

// ---- header: Int32 indices ----
export const H_LOCK = 0;
export const H_MAGIC = 1;
export const H_MASK = 2; // buckets - 1
export const H_HEAP_CAP = 3;
export const H_HEAP_LEN = 4;
export const H_COUNT = 5;
export const H_ARENA_START = 6; // word index
export const H_ARENA_END = 7; // word index, exclusive
export const H_TOP = 8; // word index of the first never-used word (bump pointer)
export const H_BUCKETS_AT = 9; // Int32 index
export const H_HEAP_AT = 10; // Int32 index
// ---- header: Float64 indices ----
export const HF_USED = 6; // bytes charged against capacity (Int32 12, 13)
export const HF_CAPACITY = 7; // Int32 14, 15
/** The LRU list's sentinel: a pseudo entry in the header (words 8..11); only its PREV/NEXT are used. */
export const SENTINEL = 8;
const HEADER_I32 = 32;

// ---- blocks: Int32 field offsets from ref * 2 ----
/** `sizeInWords << 3 | kind`. */
export const B_HDR = 0;
export const K_FREE = 0;
export const K_ENTRY = 1;
export const K_ITEM = 2;
export const K_SENTINEL = 3;

// Entry (64-byte header, then the key's bytes, then a string's or bytes' value).
export const E_TYPE = 1;
export const E_HNEXT = 2; // next entry in the bucket's chain
export const E_HASH = 3;
export const E_PREV = 4; // towards the most recently used end
export const E_NEXT = 5; // towards the least recently used end
export const E_HEAPI = 6; // index in the expiry heap, -1 when not in it
export const E_FLAGS = 7; // user flags (unsigned, stored as int32)
export const EW_EXPIRES = 4; // Float64 word: ms since the epoch, 0 = never
export const EW_NUM = 5; // Float64 word: a number's value, a boolean as 0/1
export const E_LHEAD = 10; // list: first item (same word as EW_NUM)
export const E_LTAIL = 11; // list: last item
export const E_KEYLEN = 12; // key bytes
export const E_VALLEN = 13; // string/bytes value bytes; list: item count
export const E_VBYTES = 14; // value bytes charged against capacity (list: head + every node)
export const ENTRY_HEADER_BYTES = 64;

// List item (16-byte header, then a number's Float64 or the bytes). The first item's PREV and the
// last item's NEXT are the entry's ref, so an item knows its list without an owner field.
export const I_META = 1; // byteLength << 2 | item type
export const I_PREV = 2;
export const I_NEXT = 3;
export const IW_NUM = 2;
export const ITEM_HEADER_BYTES = 16;
export const IT_NUM = 0;
export const IT_STR = 1;
export const IT_BYTES = 2;

/** Words a block of `bytes` takes. */
export function words(bytes: number): number {
  return Math.ceil(bytes / 8);
}

/**
 * The smallest an entry is charged (its overhead, a 1-byte key, an empty value): no more
 * entries than capacity / this can be live, which sizes the buckets and the heap.
 */
const MIN_ENTRY_COST = 69;
/**
 * The arena holds what the dict is charged for with room to spare: a block takes at most a few
 * bytes more than it is charged (word rounding), and the spare half keeps compaction (sliding
 * live blocks down when the bump pointer reaches the end) rare: it runs at most once per
 * ~capacity/3 bytes allocated.
 */
const ARENA_FACTOR = 1.5;
const ARENA_SLACK_WORDS = 512;

export interface RegionPlan {
  readonly bytes: number;
  readonly buckets: number;
  readonly heapCap: number;
  readonly bucketsAt: number;
  readonly heapAt: number;
  readonly arenaStart: number;
  readonly arenaEnd: number;
}

/** Sizes a region for `capacity` bytes of entries. */
export function planRegion(capacity: number): RegionPlan {
  const maxEntries = Math.floor(capacity / MIN_ENTRY_COST) + 1;
  let buckets = 16;
  while (buckets < maxEntries) buckets *= 2;
  const heapCap = maxEntries;
  const bucketsAt = HEADER_I32;
  const heapAt = bucketsAt + buckets;
  const arenaStart = Math.ceil((heapAt + heapCap) / 2);
  const arenaEnd = arenaStart + Math.ceil((capacity * ARENA_FACTOR) / 8) + ARENA_SLACK_WORDS;
  return { bytes: arenaEnd * 8, buckets, heapCap, bucketsAt, heapAt, arenaStart, arenaEnd };
}

/** Writes a fresh header into a zeroed buffer made for `plan`. */
export function initRegion(buffer: SharedArrayBuffer, capacity: number, plan: RegionPlan): void {
  const i32 = new Int32Array(buffer);
  const f64 = new Float64Array(buffer);
  i32[H_MASK] = plan.buckets - 1;
  i32[H_HEAP_CAP] = plan.heapCap;
  i32[H_ARENA_START] = plan.arenaStart;
  i32[H_ARENA_END] = plan.arenaEnd;
  i32[H_TOP] = plan.arenaStart;
  i32[H_BUCKETS_AT] = plan.bucketsAt;
  i32[H_HEAP_AT] = plan.heapAt;
  f64[HF_CAPACITY] = capacity;
  const s = SENTINEL * 2;
  i32[s + B_HDR] = (4 << 3) | K_SENTINEL;
  i32[s + E_PREV] = SENTINEL;
  i32[s + E_NEXT] = SENTINEL;
  // Last: a region is usable once its magic is there.
  Atomics.store(i32, H_MAGIC, MAGIC);
}
