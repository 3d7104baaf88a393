// A list that keeps only its newest `capacity` items, so history cannot grow without bound.
export type Ring<T> = { push(item: T): void; items(): T[]; readonly size: number };

export function createRing<T>(capacity: number): Ring<T> {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a whole number >= 1, got ${capacity}`);
  const buffer: T[] = [];
  let start = 0;
  return {
    push(item) {
      if (buffer.length < capacity) buffer.push(item);
      else {
        buffer[start] = item;
        start = (start + 1) % capacity;
      }
    },
    /** Oldest first. */
    items: () => [...buffer.slice(start), ...buffer.slice(0, start)],
    get size() {
      return buffer.length;
    },
  };
}
