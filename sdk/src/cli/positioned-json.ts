/**
 * Strict JSON (RFC 8259) parsed into a tree that keeps where each value and
 * key starts, so that a config file's errors can name a line and column.
 * JSON.parse gives values only, and its syntax errors only an offset in some
 * Node versions. Duplicate keys are refused: in a config file the second
 * silently winning is a mistake waiting to happen.
 */

export type JsonNode =
  | { kind: 'object'; offset: number; entries: JsonEntry[] }
  | { kind: 'array'; offset: number; items: JsonNode[] }
  | { kind: 'string'; offset: number; value: string }
  | { kind: 'number'; offset: number; value: number }
  | { kind: 'boolean'; offset: number; value: boolean }
  | { kind: 'null'; offset: number };

export interface JsonEntry {
  key: string;
  keyOffset: number;
  value: JsonNode;
}

/** A syntax error at `offset` (UTF-16 code units from the start of the text). */
export class JsonSyntaxError extends Error {
  override name = 'JsonSyntaxError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

export interface LineColumn {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units. */
  column: number;
}

export function lineColumnAt(text: string, offset: number): LineColumn {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line += 1;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERALS = [
  ['true', true],
  ['false', false],
  ['null', null],
] as const;

export function parsePositionedJson(text: string): JsonNode {
  // A BOM is not JSON, but editors write one; skipping it keeps columns right.
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;

  const skipSpace = (): void => {
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      pos += 1;
    }
  };
  const describe = (at: number): string => (at >= text.length ? 'the end of the file' : JSON.stringify(text[at]));

  const parseString = (): { value: string; offset: number } => {
    const offset = pos;
    pos += 1; // the opening quote
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        pos += 1;
        try {
          return { value: JSON.parse(text.slice(offset, pos)) as string, offset };
        } catch {
          throw new JsonSyntaxError('invalid escape in a string', offset);
        }
      }
      if (c === 0x5c) pos += 2;
      else if (c < 0x20) throw new JsonSyntaxError('a string cannot hold a raw control character or line break (use \\n)', pos);
      else pos += 1;
    }
    throw new JsonSyntaxError('unterminated string', offset);
  };

  const parseValue = (): JsonNode => {
    skipSpace();
    const offset = pos;
    const c = text[pos];
    if (c === '{') return parseObject();
    if (c === '[') return parseArray();
    if (c === '"') return { kind: 'string', ...parseString() };
    NUMBER.lastIndex = pos;
    const number = c === '-' || (c !== undefined && c >= '0' && c <= '9') ? NUMBER.exec(text) : null;
    if (number) {
      pos += number[0].length;
      return { kind: 'number', offset, value: Number(number[0]) };
    }
    for (const [word, value] of LITERALS) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return value === null ? { kind: 'null', offset } : { kind: 'boolean', offset, value };
      }
    }
    throw new JsonSyntaxError(`expected a value, got ${describe(pos)}`, pos);
  };

  const parseObject = (): JsonNode => {
    const offset = pos;
    pos += 1;
    const entries: JsonEntry[] = [];
    const seen = new Set<string>();
    skipSpace();
    if (text[pos] === '}') {
      pos += 1;
      return { kind: 'object', offset, entries };
    }
    for (;;) {
      skipSpace();
      if (text[pos] !== '"') throw new JsonSyntaxError(`expected a field name in double quotes, got ${describe(pos)}`, pos);
      const key = parseString();
      if (seen.has(key.value)) throw new JsonSyntaxError(`duplicate field "${key.value}"`, key.offset);
      seen.add(key.value);
      skipSpace();
      if (text[pos] !== ':') throw new JsonSyntaxError(`expected ":" after "${key.value}", got ${describe(pos)}`, pos);
      pos += 1;
      entries.push({ key: key.value, keyOffset: key.offset, value: parseValue() });
      skipSpace();
      if (text[pos] === ',') {
        pos += 1;
        continue;
      }
      if (text[pos] === '}') {
        pos += 1;
        return { kind: 'object', offset, entries };
      }
      throw new JsonSyntaxError(`expected "," or "}", got ${describe(pos)}`, pos);
    }
  };

  const parseArray = (): JsonNode => {
    const offset = pos;
    pos += 1;
    const items: JsonNode[] = [];
    skipSpace();
    if (text[pos] === ']') {
      pos += 1;
      return { kind: 'array', offset, items };
    }
    for (;;) {
      items.push(parseValue());
      skipSpace();
      if (text[pos] === ',') {
        pos += 1;
        continue;
      }
      if (text[pos] === ']') {
        pos += 1;
        return { kind: 'array', offset, items };
      }
      throw new JsonSyntaxError(`expected "," or "]", got ${describe(pos)}`, pos);
    }
  };

  const root = parseValue();
  skipSpace();
  if (pos < text.length) throw new JsonSyntaxError(`unexpected ${describe(pos)} after the value`, pos);
  return root;
}

/** The plain value of a node, as JSON.parse would give it. */
export function plainValueOf(node: JsonNode): unknown {
  switch (node.kind) {
    case 'object':
      return Object.fromEntries(node.entries.map((e) => [e.key, plainValueOf(e.value)]));
    case 'array':
      return node.items.map(plainValueOf);
    case 'null':
      return null;
    default:
      return node.value;
  }
}
