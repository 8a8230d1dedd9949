/**
 * Checks a game's tunables.json against the schema its rules declare. Runs on
 * every load of the rules and on its own when only tunables.json changes; a
 * file that fails leaves the previous tunables serving, so the error says
 * where the designer went wrong: JSON syntax with line and column, a schema
 * complaint with the line of the offending key when it can be found.
 */
import type { AnyGameRules } from '../../games/api';
import { describeIssues } from '../../protocol/wire-checks';
import { contentHash } from './content-hash';
import { gameLoadError, thrownMessage, type GameLoadError } from './game-load-error';
import { lineAndColumn, parseJsonText } from './json-text';

export type TunablesCheck =
  | {
      readonly ok: true;
      /** As the schema parsed them (defaults filled in): what the game is handed. */
      readonly tunables: unknown;
      /** Content hash of the parsed tunables: reformatting the file is not a new version. */
      readonly tunablesVersion: string;
    }
  | { readonly ok: false; readonly error: GameLoadError };

/**
 * @param rawJson the text of tunables.json
 * @param file    tunables.json relative to the repository root, as errors name it
 */
export function checkTunables(rules: Pick<AnyGameRules, 'name' | 'tunables'>, rawJson: string, file: string): TunablesCheck {
  const json = parseJsonText(rawJson);
  if (!json.ok) return { ok: false, error: gameLoadError(rules.name, 'tunables', file, `not valid JSON: ${json.message}`, json) };
  let parsed: ReturnType<AnyGameRules['tunables']['safeParse']>;
  try {
    parsed = rules.tunables.safeParse(json.value);
  } catch (thrown) {
    // the schema's own code (a refine) threw: that is the rules' fault, but it shows with these tunables
    return { ok: false, error: gameLoadError(rules.name, 'tunables', file, `the tunables schema threw: ${thrownMessage(thrown)}`) };
  }
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const key = first ? offendingKey(first) : undefined;
    const at = key === undefined ? null : findKey(rawJson, key);
    return { ok: false, error: gameLoadError(rules.name, 'tunables', file, describeIssues(parsed.error, '(root)'), at) };
  }
  return { ok: true, tunables: parsed.data, tunablesVersion: contentHash(JSON.stringify(parsed.data) ?? '') };
}

/** The key an issue is about: the last key of its path, or the first unknown key of a strict object. */
function offendingKey(issue: { readonly path: readonly PropertyKey[] }): string | undefined {
  const keys = (issue as { keys?: unknown }).keys;
  if (Array.isArray(keys) && typeof keys[0] === 'string') return keys[0];
  const last = [...issue.path].reverse().find((part): part is string => typeof part === 'string');
  return last;
}

/** Where `"key":` first appears in the text: a good guess for flat tunables, which is what games have. */
function findKey(text: string, key: string): { line: number; column: number } | null {
  const match = new RegExp(`${escapeRegExp(JSON.stringify(key))}\\s*:`).exec(text);
  return match ? lineAndColumn(text, match.index) : null;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
