import { expect, test } from "vitest";
import { createRing } from "../ring.ts";

test("a ring keeps the newest items, oldest first", () => {
  const ring = createRing<number>(3);
  for (let i = 1; i <= 7; i++) ring.push(i);
  expect(ring.items()).toEqual([5, 6, 7]);
  expect(ring.size).toBe(3);
});

test("a ring refuses a capacity it cannot hold", () => {
  expect(() => createRing(0)).toThrow(/capacity/);
});
