/**
 * One requestAnimationFrame loop for every canvas on the page. Each canvas says what it depends
 * on (a version number); it is redrawn only when that moved or its size changed, so a page with
 * a dozen meters costs nothing between frames and pauses by itself in a hidden tab.
 */
export interface CanvasPainter {
  /** Changes whenever the picture would; an unchanged version skips the redraw. */
  version(): number | string;
  draw(context: CanvasRenderingContext2D, width: number, height: number): void;
}

interface Entry {
  canvas: HTMLCanvasElement;
  painter: CanvasPainter;
  drawnVersion: number | string;
  width: number;
  height: number;
  pixelRatio: number;
}

const entries = new Set<Entry>();
let scheduled = 0;

function tick(): void {
  scheduled = 0;
  for (const entry of entries) {
    const { canvas, painter } = entry;
    const version = painter.version();
    if (version === entry.drawnVersion || entry.width === 0 || entry.height === 0) continue;
    entry.drawnVersion = version;
    const context = canvas.getContext('2d');
    if (!context) continue;
    context.setTransform(entry.pixelRatio, 0, 0, entry.pixelRatio, 0, 0);
    context.clearRect(0, 0, entry.width, entry.height);
    painter.draw(context, entry.width, entry.height);
  }
  if (entries.size) scheduled = requestAnimationFrame(tick);
}

/** Svelte attachment: `<canvas {@attach paint(painter)}>`; sized to its CSS box at device resolution. */
export function paint(painter: CanvasPainter) {
  return (canvas: HTMLCanvasElement) => {
    const entry: Entry = { canvas, painter, drawnVersion: NaN, width: 0, height: 0, pixelRatio: 1 };
    const resize = () => {
      const box = canvas.getBoundingClientRect();
      entry.pixelRatio = window.devicePixelRatio || 1;
      entry.width = box.width;
      entry.height = box.height;
      canvas.width = Math.round(box.width * entry.pixelRatio);
      canvas.height = Math.round(box.height * entry.pixelRatio);
      entry.drawnVersion = NaN;
    };
    const observer = new ResizeObserver(resize);
    observer.observe(canvas);
    resize();
    entries.add(entry);
    scheduled ||= requestAnimationFrame(tick);
    return () => {
      observer.disconnect();
      entries.delete(entry);
    };
  };
}
