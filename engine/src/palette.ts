/**
 * The rig's colours, declared once for everything it draws: the dashboard's canvases and markup
 * (dashboard/app/src/lib/theme.ts publishes them) and the HTML reports (engine/src/report/). High
 * contrast on a near-black ground, so the meters read from across a room and under studio light,
 * and a report looks like the page it came from. Browser-safe: plain data, no Node.
 */
export const COLORS = {
  ground: '#07090c',
  panel: '#10141a',
  panelEdge: '#222a35',
  well: '#05070a',
  grid: '#1e2630',
  gridStrong: '#334050',
  text: '#eef2f7',
  dim: '#8d99a8',
  faint: '#55606e',
  green: '#37e27e',
  yellow: '#f5d63d',
  amber: '#ffab2e',
  red: '#ff4a4a',
  // The limiter's program (slow) stage, beside its peaks in red: the same hue, lighter.
  rose: '#ff9a8f',
  blue: '#4fa8ff',
  cyan: '#3fd9e8',
  violet: '#b58cff',
  accent: '#ffab2e',
  // Surfaces of the controls, a step above the panels.
  button: '#1a212b',
  control: '#232c38',
  switchTrack: '#2a3340',
  knobFace: '#1b222c',
  knobEdge: '#2c3644',
  // The ground under an alarm (a failed save, a lost engine), with white text on it.
  alarm: '#5a1212',
  // Text on bright fills (a lit button, a meter's reading on green), and shades over the page.
  black: '#000000',
  white: '#ffffff',
} as const;

export type ColorName = keyof typeof COLORS;
