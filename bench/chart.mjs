// The ratios as a PNG: an SVG bar chart (log scale, one bar per row, the row's target as a tick),
// drawn by the same Chromium the IndexedDB suite uses, so no native image library is needed.
import { writeFile } from 'node:fs/promises';
import { launchBrowser } from './chromium.mjs';
import { targetOf } from './report.mjs';

const WIDTH = 1280;
const LABEL = 560;
const ROW = 24;
const TOP = 70;
const BOTTOM = 40;
const RIGHT = 30;
const COLORS = { met: '#2e9d4f', missed: '#d1453b', none: '#8a94a6' };

const escapeXml = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function chartSvg(rows) {
  // Rows without a unit (agreement fractions) are not Engram-versus-reference costs: table only.
  const plotted = rows.filter((row) => row.unit && Number.isFinite(row.ratio) && row.ratio > 0);
  const values = plotted.flatMap((row) => [row.ratio, targetOf(row)?.ratio ?? 1]).filter((v) => v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(1, ...values)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(1, ...values)));
  const plotWidth = WIDTH - LABEL - RIGHT;
  const x = (v) => LABEL + ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotWidth;
  const height = TOP + plotted.length * ROW + BOTTOM;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="16" y="24" font-size="17" font-weight="bold">Engram ÷ reference (log scale; left of 1× = Engram faster or smaller)</text>`,
    `<rect x="16" y="38" width="12" height="12" fill="${COLORS.met}"/><text x="34" y="48">target met</text>`,
    `<rect x="124" y="38" width="12" height="12" fill="${COLORS.missed}"/><text x="142" y="48">target missed</text>`,
    `<rect x="250" y="38" width="12" height="12" fill="${COLORS.none}"/><text x="268" y="48">no target</text>`,
    `<line x1="362" y1="36" x2="362" y2="52" stroke="#111" stroke-width="3"/><text x="370" y="48">target</text>`,
  ];
  for (let decade = lo; decade <= hi * 1.0001; decade *= 10) {
    const at = x(decade);
    const label = decade >= 1 ? `${decade}×` : `${Number(decade.toPrecision(1))}×`;
    parts.push(
      `<line x1="${at}" y1="${TOP - 6}" x2="${at}" y2="${height - BOTTOM}" stroke="${decade === 1 ? '#333' : '#ddd'}"/>`,
      `<text x="${at}" y="${height - BOTTOM + 16}" text-anchor="middle">${label}</text>`,
    );
  }
  plotted.forEach((row, i) => {
    const y = TOP + i * ROW;
    const target = targetOf(row);
    const color = target ? (target.met ? COLORS.met : COLORS.missed) : COLORS.none;
    const from = x(1);
    const to = x(row.ratio);
    const label = `${row.suite} · ${row.metric} vs ${row.refName}`;
    if (i % 2 === 0) parts.push(`<rect x="0" y="${y}" width="${WIDTH}" height="${ROW}" fill="#f6f7f9"/>`);
    parts.push(
      `<text x="${LABEL - 8}" y="${y + ROW / 2 + 4}" text-anchor="end">${escapeXml(label.length > 84 ? `${label.slice(0, 83)}…` : label)}</text>`,
      `<rect x="${Math.min(from, to)}" y="${y + 5}" width="${Math.max(1, Math.abs(to - from))}" height="${ROW - 10}" fill="${color}"/>`,
      `<text x="${Math.max(from, to) + 4}" y="${y + ROW / 2 + 4}" font-size="11">${row.ratio.toFixed(2)}×</text>`,
    );
    if (target && Number.isFinite(target.ratio) && target.ratio > 0) {
      const at = x(Math.min(hi, Math.max(lo, target.ratio)));
      parts.push(
        `<line x1="${at}" y1="${y + 2}" x2="${at}" y2="${y + ROW - 2}" stroke="#111" stroke-width="3"/>`,
      );
    }
  });
  parts.push('</svg>');
  return { svg: parts.join('\n'), width: WIDTH, height };
}

/** Writes the chart of `rows` to `path` as a PNG. */
export async function writeChart(rows, path) {
  const { svg, width, height } = chartSvg(rows);
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: 1 });
    await page.setContent(`<!doctype html><body style="margin:0">${svg}</body>`);
    await writeFile(path, await page.screenshot({ clip: { x: 0, y: 0, width, height } }));
  } finally {
    await browser.close();
  }
}
