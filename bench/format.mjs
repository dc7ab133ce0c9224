// How BENCHMARKS.md writes a figure: three significant digits at most, whole numbers from 100.

export const figure = (n) =>
  Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2);

export const withUnit = (n, unit) => `${figure(n)}${unit ? ` ${unit}` : ''}`;
