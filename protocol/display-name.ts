/**
 * Display names: what a player may call themselves, as every opponent will
 * see it. Close to RFC 8266 (PRECIS nicknames): the name is normalised to
 * NFKC (fullwidth and other compatibility forms become their plain letters),
 * every run of spaces becomes one space and the ends are trimmed. Then it is
 * refused, with a `reason`, if it holds anything no player name needs and
 * that could fool or attack another player's screen: control characters,
 * bidirectional overrides and isolates, invisible characters, markup
 * characters, unassigned or private-use code points, or a character stacked
 * with many combining marks; or if it is empty or too long in graphemes (what
 * a reader counts as characters).
 */
import { errorBody, type ErrorBody } from './errors';

/** Longest name, in grapheme clusters (an emoji with skin tone or a flag is one). */
export const MAX_NAME_GRAPHEMES = 32;
/** Combining marks one character may carry (Vietnamese and Indic scripts need a few; "Zalgo" text stacks dozens). */
export const MAX_MARKS_PER_CHARACTER = 8;

/** Why a name was refused: the `reason` of `auth/invalid-name`. */
export type NameProblem =
  | 'empty'
  | 'too-long'
  | 'control-character'
  | 'bidi-control'
  | 'invisible-character'
  | 'markup-character'
  | 'unassigned-character'
  | 'too-many-marks';

export type CheckedName = { readonly ok: true; readonly name: string } | { readonly ok: false; readonly error: ErrorBody };

/** Controls (C0, C1, DEL), line and paragraph separators. */
const CONTROL = /[\p{Cc}\u2028\u2029]/u;
/** Arabic letter mark, LRM/RLM, embeddings and overrides (LRE…RLO), isolates (LRI…PDI). */
const BIDI_CONTROL = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;
/** The characters HTML, Markdown and string templates give meaning to. */
const MARKUP = /[<>&"`]/u;
/** Private use, unassigned, and surrogate halves without their pair. */
const UNASSIGNED = /[\p{Co}\p{Cn}\p{Cs}]/u;
/**
 * Format characters and Unicode's default-ignorables (zero-width space and joiners, word joiner, soft
 * hyphen, Hangul fillers, tag characters, ...), plus the blank Braille pattern. Kept: the emoji
 * presentation selectors (U+FE0E, U+FE0F) and a zero-width joiner between two emoji (👩‍💻).
 */
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}\u2800]/u;
const EMOJI_PRESENTATION = /[\uFE0E\uFE0F]/gu;
const EMOJI_JOINER = /(?<=\p{Extended_Pictographic}[\uFE0F\p{Emoji_Modifier}]?)\u200D(?=\p{Extended_Pictographic})/gu;
const SPACES = /\p{Zs}+/gu;
const MARK = /\p{M}/gu;

/** A raw name longer than this is refused before any work on it. */
const MAX_RAW_LENGTH = 512;

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/** The name as every other player will see it, or the reason it is refused (`auth/invalid-name`). */
export function checkDisplayName(raw: string): CheckedName {
  if (raw.length > MAX_RAW_LENGTH) return refused('too-long', `longer than ${MAX_NAME_GRAPHEMES} characters`);
  const name = raw.normalize('NFKC').replace(SPACES, ' ').trim();
  if (CONTROL.test(name)) return refused('control-character', 'control characters and line breaks are not allowed');
  if (BIDI_CONTROL.test(name)) return refused('bidi-control', 'bidirectional text controls (overrides, isolates, marks) are not allowed');
  if (MARKUP.test(name)) return refused('markup-character', 'the characters < > & " ` are not allowed');
  if (UNASSIGNED.test(name)) return refused('unassigned-character', 'unassigned and private-use characters are not allowed');
  if (INVISIBLE.test(name.replace(EMOJI_PRESENTATION, '').replace(EMOJI_JOINER, ''))) {
    return refused('invisible-character', 'invisible characters (zero-width, joiners outside emoji, fillers) are not allowed');
  }
  if (name === '') return refused('empty', 'the name is empty once spaces are trimmed');
  let count = 0;
  for (const { segment } of graphemes.segment(name)) {
    if (++count > MAX_NAME_GRAPHEMES) return refused('too-long', `longer than ${MAX_NAME_GRAPHEMES} characters`);
    if ((segment.match(MARK)?.length ?? 0) > MAX_MARKS_PER_CHARACTER) return refused('too-many-marks', `a character carries more than ${MAX_MARKS_PER_CHARACTER} combining marks`);
  }
  return { ok: true, name };
}

function refused(reason: NameProblem, detail: string): CheckedName {
  return { ok: false, error: errorBody('auth/invalid-name', `name refused: ${detail}`, { reason }) };
}
