/** `rig params`: the schema, for people. */
import { parseArgs } from 'node:util';
import { PARAMETERS, formatValue } from '../../engine/src/index.ts';

export function commandParams(args: string[]): void {
  const { values: flags } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } });
  if (flags.json) return void console.log(JSON.stringify(PARAMETERS, null, 2));
  for (const p of PARAMETERS) {
    const range = p.choices
      ? p.choices.join(' | ')
      : p.steps
        ? p.steps.join(' / ')
        : `${p.min} .. ${p.max} ${p.unit}`;
    console.log(
      `${p.id.padEnd(22)} ${p.label.padEnd(30)} ${range.padEnd(36)} default ${formatValue(p, p.default)}`,
    );
  }
}
