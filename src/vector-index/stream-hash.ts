/**
 * Stateless seeded uniform draws: the draw for stream position n depends only on (seed, n), so
 * a reservoir's random state is just its item counter, which survives save/load and restarts
 * without persisting a generator.
 */

function mix32(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Uniform in [0, 1) with 53 random bits, a pure function of (seed, position, salt). */
export function uniformAt(seed: number, position: number, salt = 0): number {
  const low = position >>> 0;
  const high = Math.floor(position / 4294967296) >>> 0;
  const a = mix32(mix32(seed ^ 0x9e3779b9) ^ low ^ mix32(salt + 0x7f4a7c15));
  const b = mix32(a ^ mix32(high + 0x632be59b) ^ 0x27d4eb2f);
  return ((a >>> 5) * 67108864 + (b >>> 6)) / 9007199254740992;
}

/** Uniform integer in [0, bound). */
export function uniformIndexAt(seed: number, position: number, bound: number, salt = 0): number {
  return Math.floor(uniformAt(seed, position, salt) * bound);
}
