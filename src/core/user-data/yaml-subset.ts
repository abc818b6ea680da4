/**
 * The small part of YAML that our cloud-config uses, written and read without a YAML library
 * (inletsctl ships none): block mappings and sequences indented by two spaces, literal blocks
 * (`|`, `|-`) for multi-line text, and JSON for every other value (JSON strings, arrays and numbers
 * are valid YAML flow scalars). The reader accepts exactly what the writer produces and fails on
 * anything else, so a document it reads means what cloud-init will take it to mean.
 */
import { CodedError } from '../../errors.js';

export type YamlValue = string | number | boolean | YamlValue[] | { [key: string]: YamlValue };

const KEY = /^[A-Za-z_][A-Za-z0-9_+-]*$/;

/** Writes `value` (a mapping) as block YAML, with no document header. */
export function writeYaml(value: { [key: string]: YamlValue }): string {
  return writeMapping(value, 0).join('\n') + '\n';
}

function writeMapping(map: { [key: string]: YamlValue }, indent: number): string[] {
  const pad = ' '.repeat(indent);
  const out: string[] = [];
  for (const [key, value] of Object.entries(map)) {
    if (!KEY.test(key)) throw new CodedError('USERDATA_INVALID', `cannot write the key "${key}"`);
    out.push(...writeEntry(`${pad}${key}:`, value, indent));
  }
  return out;
}

/** `head` is the line so far (`key:` or `-`); the value goes after it or on the lines below. */
function writeEntry(head: string, value: YamlValue, indent: number): string[] {
  if (typeof value === 'string') {
    const block = literalBlock(value, indent + 2);
    return block ? [`${head} ${block.indicator}`, ...block.lines] : [`${head} ${quote(value)}`];
  }
  if (typeof value === 'number' || typeof value === 'boolean') return [`${head} ${JSON.stringify(value)}`];
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v !== 'object')) return [`${head} ${flow(value)}`];
    return [head, ...writeSequence(value, indent + 2)];
  }
  return [head, ...writeMapping(value, indent + 2)];
}

function writeSequence(items: YamlValue[], indent: number): string[] {
  const pad = ' '.repeat(indent);
  const out: string[] = [];
  for (const item of items) {
    if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
      // A mapping item: its first key shares the "- " line, the rest align under it.
      const lines = writeMapping(item, indent + 2);
      if (lines.length === 0) throw new CodedError('USERDATA_INVALID', 'cannot write an empty mapping');
      out.push(`${pad}- ${lines[0].slice(indent + 2)}`, ...lines.slice(1));
    } else {
      out.push(...writeEntry(`${pad}-`, item, indent));
    }
  }
  return out;
}

function flow(value: YamlValue[]): string {
  return `[${value.map((v) => (Array.isArray(v) ? flow(v) : typeof v === 'string' ? quote(v) : JSON.stringify(v))).join(', ')}]`;
}

/** A JSON string, with the characters YAML treats as line breaks or unprintable escaped. */
function quote(text: string): string {
  return JSON.stringify(text).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Multi-line printable text as a literal block, or undefined when only a quoted string is safe. */
function literalBlock(text: string, indent: number): { indicator: string; lines: string[] } | undefined {
  if (!text.includes('\n') || text.startsWith(' ') || text.startsWith('\n')) return undefined;
  if (/[^\n\x20-\x7e]/.test(text) || /\n\n$/.test(text)) return undefined;
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  const pad = ' '.repeat(indent);
  return { indicator: text.endsWith('\n') ? '|' : '|-', lines: body.split('\n').map((l) => (l === '' ? '' : pad + l)) };
}

/** Reads a document written by {@link writeYaml} (comment lines allowed). */
export function readYaml(text: string): { [key: string]: YamlValue } {
  const reader = new Reader(text.replace(/\r\n/g, '\n').split('\n'));
  const first = reader.peek();
  if (!first) return {};
  if (first.indent !== 0) reader.fail(first.index, 'the document must start at column 0');
  const value = reader.mapping(0);
  const rest = reader.peek();
  if (rest) reader.fail(rest.index, 'unexpected indentation');
  return value;
}

interface Line {
  index: number;
  indent: number;
  text: string;
}

class Reader {
  private i = 0;
  constructor(private readonly lines: string[]) {}

  fail(index: number, why: string): never {
    // The line itself is not quoted: it may hold a secret.
    throw new CodedError('USERDATA_UNSUPPORTED', `cloud-config line ${index + 1}: ${why}`);
  }

  /** The next line that is neither blank nor a comment. */
  peek(): Line | undefined {
    while (this.i < this.lines.length) {
      const raw = this.lines[this.i];
      if (/^\s*(#.*)?$/.test(raw)) {
        this.i++;
        continue;
      }
      if (/^ *\t/.test(raw)) this.fail(this.i, 'tab in indentation');
      const indent = raw.length - raw.trimStart().length;
      return { index: this.i, indent, text: raw.slice(indent) };
    }
    return undefined;
  }

  mapping(indent: number): { [key: string]: YamlValue } {
    const map: { [key: string]: YamlValue } = {};
    for (let line = this.peek(); line && line.indent >= indent; line = this.peek()) {
      if (line.indent > indent) this.fail(line.index, 'unexpected indentation');
      if (line.text.startsWith('-')) this.fail(line.index, 'a sequence item where a key was expected');
      const m = /^([^:\s]+):(?: (.*))?$/.exec(line.text);
      if (!m || !KEY.test(m[1])) this.fail(line.index, 'not a "key: value" line this reader understands');
      if (Object.prototype.hasOwnProperty.call(map, m[1])) this.fail(line.index, `duplicate key "${m[1]}"`);
      this.i++;
      map[m[1]] = this.value(m[2] ?? '', indent, line.index);
    }
    return map;
  }

  sequence(indent: number): YamlValue[] {
    const items: YamlValue[] = [];
    for (let line = this.peek(); line && line.indent >= indent; line = this.peek()) {
      if (line.indent > indent) this.fail(line.index, 'unexpected indentation');
      if (!line.text.startsWith('- ')) this.fail(line.index, 'a key where a sequence item was expected');
      const rest = line.text.slice(2);
      if (/^[A-Za-z_][A-Za-z0-9_+-]*:( |$)/.test(rest)) {
        // "- key: value": a mapping whose keys sit two columns right of the dash.
        this.lines[line.index] = ' '.repeat(indent + 2) + rest;
        items.push(this.mapping(indent + 2));
      } else {
        this.i++;
        items.push(this.value(rest, indent, line.index));
      }
    }
    return items;
  }

  /** The value after `key:` or `-` on line `at`, whose parent sits at `indent`. */
  private value(rest: string, indent: number, at: number): YamlValue {
    if (rest === '|' || rest === '|-') return this.literal(indent, rest === '|');
    if (rest !== '') return this.scalar(rest, at);
    const next = this.peek();
    if (!next || next.indent <= indent) this.fail(at, 'empty values are not written by inletsctl');
    return next.text.startsWith('- ') ? this.sequence(next.indent) : this.mapping(next.indent);
  }

  private literal(indent: number, keepNewline: boolean): string {
    const body: string[] = [];
    let blockIndent = -1;
    while (this.i < this.lines.length) {
      const raw = this.lines[this.i];
      if (raw.trim() === '') {
        body.push('');
        this.i++;
        continue;
      }
      const lineIndent = raw.length - raw.trimStart().length;
      if (blockIndent < 0) {
        if (lineIndent <= indent) break;
        blockIndent = lineIndent;
      }
      if (lineIndent < blockIndent) break;
      body.push(raw.slice(blockIndent));
      this.i++;
    }
    while (body.length > 0 && body[body.length - 1] === '') {
      body.pop();
      this.i--; // blank lines after the block belong to what follows
    }
    if (blockIndent < 0) this.fail(this.i - 1, 'empty literal block');
    return body.join('\n') + (keepNewline ? '\n' : '');
  }

  private scalar(text: string, at: number): YamlValue {
    if (!/^["[\-0-9tf]/.test(text)) this.fail(at, 'plain (unquoted) strings are not written by inletsctl');
    try {
      return JSON.parse(text) as YamlValue;
    } catch {
      return this.fail(at, 'not a JSON value');
    }
  }
}
