/**
 * The keys that appear more than once in one object of a JSON text, at any
 * depth (`a.b` for nested ones). JSON.parse keeps the last and says nothing,
 * but log pipelines that are strict about JSON (RFC 8259 section 4: names
 * SHOULD be unique) reject or mangle such lines, so tests look for them.
 */
export function duplicateJsonKeys(text: string): string[] {
  const duplicates: string[] = [];
  // One frame per open object or array: the keys seen so far (objects only) and the path to it.
  const stack: { keys: Set<string> | undefined; path: string; pendingKey: string | undefined }[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const value = JSON.parse(text.slice(i, end + 1)) as string;
      const frame = stack[stack.length - 1];
      if (expectKey && frame?.keys) {
        if (frame.keys.has(value)) duplicates.push(frame.path ? `${frame.path}.${value}` : value);
        frame.keys.add(value);
        frame.pendingKey = value;
        expectKey = false;
      }
      i = end;
    } else if (char === '{' || char === '[') {
      const parent = stack[stack.length - 1];
      const path = parent?.pendingKey === undefined ? (parent?.path ?? '') : parent.path ? `${parent.path}.${parent.pendingKey}` : parent.pendingKey;
      stack.push({ keys: char === '{' ? new Set() : undefined, path, pendingKey: undefined });
      expectKey = char === '{';
    } else if (char === '}' || char === ']') {
      stack.pop();
      expectKey = false;
    } else if (char === ',') {
      expectKey = stack[stack.length - 1]?.keys !== undefined;
    }
  }
  return duplicates;
}
