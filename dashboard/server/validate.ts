/**
 * The edge of the dashboard socket: every control frame a client sends is parsed and checked
 * here, strictly (known type, every required field, no extra field, right types, finite numbers,
 * known parameter ids, bounded strings), so the rest of the server trusts what it gets.
 * A bad frame becomes a ProtocolError whose code and message go back to that client.
 */
import {
  MAX_SNAPSHOT_NAME_LENGTH,
  PRESETS,
  UnknownParameterError,
  checkValue,
  getSpec,
  snapshotNameProblem,
} from '../../engine/src/index.ts';
import type { ClientMessage, SlotName } from '../protocol.ts';

export type ErrorCode =
  /** Not JSON, or JSON that is not an object. */
  | 'bad-json'
  | 'binary-frame'
  | 'unknown-type'
  | 'missing-field'
  | 'unexpected-field'
  /** A field of the wrong type, a non-finite number, a string too long or with control characters. */
  | 'bad-field'
  | 'unknown-parameter'
  | 'out-of-range'
  | 'unknown-preset'
  | 'rate-limited'
  /** No part of this rig provides the action (e.g. no recall database). */
  | 'unavailable'
  /** The action ran and refused (its message says why, e.g. no snapshot of that name). */
  | 'action-failed';

export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export const SLOT_NAMES: readonly SlotName[] = ['A', 'B', 'C', 'D'];
// A snapshot name is a label on a button and in a list (the engine's rule, the same for imports and
// the command line); notes are a few lines of text. Both are far below what fits in a frame
// (MAX_CLIENT_MESSAGE_BYTES), so the bound is about sanity.
export const MAX_NAME_LENGTH = MAX_SNAPSHOT_NAME_LENGTH;
export const MAX_NOTES_LENGTH = 2000;

type Fields = Record<string, unknown>;
type FieldCheck = (value: unknown, where: string) => void;

function fail(code: ErrorCode, message: string): never {
  throw new ProtocolError(code, message);
}

const describe = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;

const finiteNumber: FieldCheck = (value, where) => {
  if (typeof value !== 'number') fail('bad-field', `${where}: expected a number, got ${describe(value)}`);
  if (!Number.isFinite(value)) fail('bad-field', `${where}: ${value} is not a finite number`);
};

const boolean: FieldCheck = (value, where) => {
  if (typeof value !== 'boolean')
    fail('bad-field', `${where}: expected true or false, got ${describe(value)}`);
};

function text(maxLength: number): FieldCheck {
  return (value, where) => {
    if (typeof value !== 'string')
      return fail('bad-field', `${where}: expected a string, got ${describe(value)}`);
    if (value.length > maxLength)
      fail('bad-field', `${where}: ${value.length} characters, at most ${maxLength}`);
  };
}

const parameterId: FieldCheck = (value, where) => {
  if (typeof value !== 'string')
    return fail('bad-field', `${where}: expected a parameter id string, got ${describe(value)}`);
  try {
    getSpec(value);
  } catch (error) {
    if (error instanceof UnknownParameterError) fail('unknown-parameter', `${where}: ${error.message}`);
    throw error;
  }
};

const slotName: FieldCheck = (value, where) => {
  if (typeof value !== 'string' || !(SLOT_NAMES as readonly string[]).includes(value)) {
    fail(
      'bad-field',
      `${where}: expected one of ${SLOT_NAMES.join(', ')}, got ${JSON.stringify(value) ?? describe(value)}`,
    );
  }
};

const presetOrNull: FieldCheck = (value, where) => {
  if (value === null) return;
  if (typeof value !== 'string')
    return fail('bad-field', `${where}: expected a preset name or null, got ${describe(value)}`);
  if (!Object.hasOwn(PRESETS, value))
    fail(
      'unknown-preset',
      `${where}: unknown preset "${value.slice(0, MAX_NAME_LENGTH)}" (one of: ${Object.keys(PRESETS).join(', ')})`,
    );
};

const snapshotName: FieldCheck = (value, where) => {
  if (typeof value !== 'string')
    return fail('bad-field', `${where}: expected a string, got ${describe(value)}`);
  const problem = snapshotNameProblem(value);
  if (problem) fail('bad-field', `${where}: ${problem}`);
};
const notes = text(MAX_NOTES_LENGTH);

interface MessageRule {
  required: Record<string, FieldCheck>;
  optional?: Record<string, FieldCheck>;
  /** Checks that need several fields at once, after each field passed on its own. */
  whole?: (message: Fields) => void;
}

const RULES: Record<ClientMessage['type'], MessageRule> = {
  set: {
    required: { id: parameterId, value: finiteNumber },
    whole: (m) => {
      try {
        checkValue(getSpec(m.id as string), m.value as number);
      } catch (error) {
        fail('out-of-range', `set.value: ${(error as Error).message}`);
      }
    },
  },
  bypass: { required: { on: boolean } },
  slot: { required: { slot: slotName } },
  ab: { required: {} },
  undo: { required: {} },
  redo: { required: {} },
  recall: { required: { name: snapshotName } },
  save: { required: { name: snapshotName }, optional: { notes } },
  learn: { required: { id: parameterId } },
  learnCancel: { required: {} },
  target: { required: { preset: presetOrNull }, optional: { lufs: finiteNumber, ceilingDbtp: finiteNumber } },
  resetMeters: { required: {} },
  ping: { required: { t: finiteNumber } },
};

export const CLIENT_MESSAGE_TYPES = Object.keys(RULES) as ClientMessage['type'][];

/** Parses one text frame from a client; throws ProtocolError naming the first problem found. */
export function parseClientMessage(text: string): ClientMessage {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return fail('bad-json', `not valid JSON: ${(error as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return fail('bad-json', `expected a JSON object like {"type": "set", ...}, got ${describe(data)}`);
  }
  const message = data as Fields;
  const type = message.type;
  if (!Object.hasOwn(message, 'type')) return fail('missing-field', 'message has no "type" field');
  if (typeof type !== 'string' || !Object.hasOwn(RULES, type)) {
    const shown = typeof type === 'string' ? `"${type.slice(0, 40)}"` : describe(type);
    return fail('unknown-type', `unknown message type ${shown} (one of: ${CLIENT_MESSAGE_TYPES.join(', ')})`);
  }
  const rule = RULES[type as ClientMessage['type']];
  for (const key of Object.keys(message)) {
    if (
      key !== 'type' &&
      !Object.hasOwn(rule.required, key) &&
      !(rule.optional && Object.hasOwn(rule.optional, key))
    ) {
      fail('unexpected-field', `${type}: unexpected field "${key.slice(0, 40)}"`);
    }
  }
  for (const [key, check] of Object.entries(rule.required)) {
    if (!Object.hasOwn(message, key)) fail('missing-field', `${type}: missing field "${key}"`);
    check(message[key], `${type}.${key}`);
  }
  for (const [key, check] of Object.entries(rule.optional ?? {})) {
    if (Object.hasOwn(message, key)) check(message[key], `${type}.${key}`);
  }
  rule.whole?.(message);
  return message as ClientMessage;
}
