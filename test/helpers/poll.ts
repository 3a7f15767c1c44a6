/** Polling for effects that land asynchronously (projections, activities): tests never read once. */
export async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, tries = 100, everyMs = 100): Promise<T> {
  let value = await read();
  for (let i = 0; i < tries && !ok(value); i++) {
    await new Promise((r) => setTimeout(r, everyMs));
    value = await read();
  }
  return value;
}
