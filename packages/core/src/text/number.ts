// Numbers as Lua (and OpenResty's output functions) print them: C's `%.14g`.

/** Lua's `%.14g`: integers print bare, floats with 14 significant digits. */
export function formatNumber(n: number): string {
  // %.14g prints an integral value bare up to 14 digits; 1e14 and up take an exponent.
  if (Number.isInteger(n) && Math.abs(n) < 1e14) return Object.is(n, -0) ? '-0' : String(n);
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'nan' : n > 0 ? 'inf' : '-inf';
  const exp = Math.floor(Math.log10(Math.abs(n)));
  if (exp < -4 || exp >= 14) {
    const [mant, e] = n.toExponential(13).split('e') as [string, string];
    const trimmed = mant.replace(/\.?0+$/, '');
    const ev = Number(e);
    return `${trimmed}e${ev < 0 ? '-' : '+'}${String(Math.abs(ev)).padStart(2, '0')}`;
  }
  return String(Number(n.toPrecision(14)));
}
