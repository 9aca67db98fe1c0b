/**
 * A small SVG bar chart for BENCHMARKS.md: one group per scenario, one horizontal bar per series (cairn in
 * blue, the baselines in grey), each group scaled to its own largest bar, the value printed beside each bar.
 * Plain SVG 1.1 text, no fonts or scripts, so it renders the same on GitHub and in a browser.
 */

export interface ChartBar {
  label: string;
  value: number;
  cairn: boolean;
}

export interface ChartGroup {
  title: string;
  /** Formats a value for its label (e.g. `1.23 s`). */
  format: (v: number) => string;
  bars: ChartBar[];
}

const WIDTH = 820;
const LABEL = 190;
const BAR_MAX = 520;
const BAR_H = 16;
const GAP = 4;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function barChart(title: string, groups: readonly ChartGroup[]): string {
  const out: string[] = [];
  let y = 34;
  out.push(`<text x="10" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`);
  for (const g of groups) {
    y += 14;
    out.push(`<text x="10" y="${y}" font-size="13" font-weight="bold">${esc(g.title)}</text>`);
    y += 8;
    const max = Math.max(...g.bars.map((b) => b.value), Number.MIN_VALUE);
    for (const b of g.bars) {
      const w = Math.max(1, (b.value / max) * BAR_MAX);
      out.push(`<text x="${LABEL - 6}" y="${y + BAR_H - 4}" font-size="12" text-anchor="end">${esc(b.label)}</text>`);
      out.push(`<rect x="${LABEL}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${b.cairn ? '#2b6cb0' : '#a0aec0'}"/>`);
      out.push(`<text x="${(LABEL + w + 6).toFixed(1)}" y="${y + BAR_H - 4}" font-size="12">${esc(g.format(b.value))}</text>`);
      y += BAR_H + GAP;
    }
  }
  const height = y + 16;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}
