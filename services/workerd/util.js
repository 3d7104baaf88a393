// What prom-client's Registry and Gauge use of Node's util: format() and inspect(), to put a bad
// value or label set into the words of the error they throw. The app never passes either.
const show = (value) => {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
};
export const format = show;
export const inspect = show;
