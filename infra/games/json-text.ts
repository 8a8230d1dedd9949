/**
 * JSON.parse that says where the text is wrong. V8's messages give a
 * position only sometimes ("Unexpected token '}', ... is not valid JSON" has
 * none), so when parsing fails a small scanner walks the text to the first
 * error and reports its line and column, as an editor would.
 */

export type ParsedJson =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly message: string; readonly line: number; readonly column: number };

export function parseJsonText(text: string): ParsedJson {
  // editors on Windows may save a byte-order mark; JSON.parse refuses it
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return { ok: true, value: JSON.parse(body) as unknown };
  } catch (error) {
    const found = findSyntaxError(body) ?? { offset: 0, message: error instanceof Error ? error.message : String(error) };
    return { ok: false, message: found.message, ...lineAndColumn(body, found.offset) };
  }
}

/** 1-based line and column of a character offset. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line += 1;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

interface SyntaxProblem {
  readonly offset: number;
  readonly message: string;
}

/** Thrown inside the scanner only, to unwind to `findSyntaxError`. */
class Stop {
  constructor(readonly problem: SyntaxProblem) {}
}

/** The first syntax error of `text` as JSON, or null if it is valid. */
function findSyntaxError(text: string): SyntaxProblem | null {
  let at = 0;
  const fail = (message: string, offset = at): never => {
    throw new Stop({ offset, message });
  };
  const describe = (): string => (at >= text.length ? 'end of file' : JSON.stringify(text[at]));
  const skipSpace = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at]!)) at++;
  };
  const expectWord = (word: string) => {
    if (text.startsWith(word, at)) at += word.length;
    else fail(`expected a value, found ${describe()}`);
  };
  const scanString = () => {
    const start = at;
    at++; // opening quote
    while (at < text.length) {
      const c = text[at]!;
      if (c === '"') {
        at++;
        return;
      }
      if (c === '\\') {
        const escape = text[at + 1];
        if (escape === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(at + 2, at + 6))) fail('bad \\u escape in string');
          at += 6;
        } else if (escape !== undefined && '"\\/bfnrt'.includes(escape)) at += 2;
        else fail(`bad escape \\${escape ?? ''} in string`);
      } else if (c.charCodeAt(0) < 0x20) fail('line break or control character inside a string (strings end with ")');
      else at++;
    }
    fail('string never closed', start);
  };
  const scanNumber = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(at));
    if (!match || match[0] === '-') fail(`expected a value, found ${describe()}`);
    at += match![0].length;
  };
  const scanValue = (): void => {
    skipSpace();
    const c = text[at];
    if (c === '{') return scanObject();
    if (c === '[') return scanArray();
    if (c === '"') return scanString();
    if (c === 't') return expectWord('true');
    if (c === 'f') return expectWord('false');
    if (c === 'n') return expectWord('null');
    if (c !== undefined && (c === '-' || (c >= '0' && c <= '9'))) return scanNumber();
    fail(`expected a value, found ${describe()}`);
  };
  const scanObject = () => {
    at++;
    skipSpace();
    if (text[at] === '}') {
      at++;
      return;
    }
    for (;;) {
      skipSpace();
      if (text[at] !== '"') fail(`expected a property name in double quotes, found ${describe()}`);
      scanString();
      skipSpace();
      if (text[at] !== ':') fail(`expected ':' after the property name, found ${describe()}`);
      at++;
      scanValue();
      skipSpace();
      if (text[at] === ',') {
        const comma = at++;
        skipSpace();
        if (text[at] === '}') fail("trailing comma before '}'", comma);
        continue;
      }
      if (text[at] === '}') {
        at++;
        return;
      }
      fail(`expected ',' or '}' after a property value, found ${describe()}`);
    }
  };
  const scanArray = () => {
    at++;
    skipSpace();
    if (text[at] === ']') {
      at++;
      return;
    }
    for (;;) {
      scanValue();
      skipSpace();
      if (text[at] === ',') {
        const comma = at++;
        skipSpace();
        if (text[at] === ']') fail("trailing comma before ']'", comma);
        continue;
      }
      if (text[at] === ']') {
        at++;
        return;
      }
      fail(`expected ',' or ']' after an array element, found ${describe()}`);
    }
  };
  try {
    scanValue();
    skipSpace();
    if (at < text.length) fail(`unexpected ${describe()} after the end of the JSON value`);
    return null;
  } catch (stop) {
    if (stop instanceof Stop) return stop.problem;
    throw stop;
  }
}
