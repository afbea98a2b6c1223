/** Inline SVG charts: pure string builders, no scripts, so the report is a static single file. */

export interface Series {
  readonly name: string;
  readonly colour: string;
  readonly dashed?: boolean;
  readonly points: readonly (readonly [number, number])[];
}

const WIDTH = 720;
const PAD = { left: 48, right: 16, top: 16, bottom: 36 };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** Vertical bars, one per category, with the value above each bar. */
export function barChart(bars: readonly { label: string; value: number }[], options: { id: string; height?: number; colour?: string }): string {
  const height = options.height ?? 240;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, bars.length);
  const rects = bars.map((b, i) => {
    const h = (b.value / max) * plotH;
    const x = PAD.left + i * slot + slot * 0.1;
    const y = PAD.top + plotH - h;
    return `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(slot * 0.8).toFixed(1)}" height="${h.toFixed(1)}" fill="${options.colour ?? '#3b6fb6'}"><title>${escapeXml(b.label)}: ${b.value}</title></rect>`
      + `<text x="${(x + slot * 0.4).toFixed(1)}" y="${(y - 3).toFixed(1)}" font-size="10" text-anchor="middle">${b.value}</text>`
      + `<text x="${(x + slot * 0.4).toFixed(1)}" y="${height - PAD.bottom + 14}" font-size="11" text-anchor="middle">${escapeXml(b.label)}</text>`;
  });
  return svg(options.id, height, `${axes(height)}${rects.join('')}`);
}

/** Lines over a shared x axis (records seen) and a y axis fixed to [0, yMax]. */
export function lineChart(series: readonly Series[], options: { id: string; height?: number; yMax?: number; xLabel?: string }): string {
  const height = options.height ?? 260;
  const all = series.flatMap((s) => s.points);
  const xMin = Math.min(...all.map((p) => p[0]), 0);
  const xMax = Math.max(...all.map((p) => p[0]), xMin + 1);
  const yMax = options.yMax ?? Math.max(1e-9, ...all.map((p) => p[1]));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const sx = (x: number) => PAD.left + ((x - xMin) / (xMax - xMin)) * plotW;
  const sy = (y: number) => PAD.top + plotH - (Math.min(Math.max(y, 0), yMax) / yMax) * plotH;
  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const y = sy(f * yMax);
    return `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y}" y2="${y}" stroke="#ddd"/><text x="${PAD.left - 4}" y="${y + 3}" font-size="10" text-anchor="end">${(f * yMax).toFixed(2)}</text>`;
  });
  const ticks = [0, 0.5, 1].map((f) => {
    const x = xMin + f * (xMax - xMin);
    return `<text x="${sx(x)}" y="${height - PAD.bottom + 14}" font-size="10" text-anchor="middle">${Math.round(x).toLocaleString('en')}</text>`;
  });
  const lines = series.filter((s) => s.points.length > 0).map((s) => {
    const d = s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join('');
    const dots = s.points.length === 1 ? `<circle cx="${sx(s.points[0][0])}" cy="${sy(s.points[0][1])}" r="3" fill="${s.colour}"/>` : '';
    return `<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}><title>${escapeXml(s.name)}</title></path>${dots}`;
  });
  const legend = series.map((s, i) => `<g transform="translate(${PAD.left + 8 + i * 110},${PAD.top + 4})"><line x1="0" x2="18" y1="5" y2="5" stroke="${s.colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/><text x="22" y="9" font-size="11">${escapeXml(s.name)}</text></g>`);
  const xLabel = `<text x="${PAD.left + plotW / 2}" y="${height - 4}" font-size="11" text-anchor="middle">${escapeXml(options.xLabel ?? 'records')}</text>`;
  return svg(options.id, height, `${grid.join('')}${axes(height)}${ticks.join('')}${lines.join('')}${legend.join('')}${xLabel}`);
}

function axes(height: number): string {
  const bottom = height - PAD.bottom;
  return `<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${bottom}" stroke="#444"/><line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${bottom}" y2="${bottom}" stroke="#444"/>`;
}

function svg(id: string, height: number, body: string): string {
  return `<svg id="${id}" xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">${body}</svg>`;
}
