import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// WCAG 2.x contrast ratio of two sRGB colours (#rrggbb).
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16) / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}
const contrast = (a: string, b: string): number => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
};

const css = readFileSync('web/styles.css', 'utf8');
const variable = (name: string): string => {
  const match = new RegExp(`--${name}:\\s*(#[0-9a-fA-F]{6})`).exec(css);
  if (!match) throw new Error(`--${name} not found in web/styles.css`);
  return match[1]!;
};

describe('control borders reach 3:1 against what they sit on (issue 15 item 8, WCAG 1.4.11)', () => {
  it('buttons, fields and pickers use --control-line, which has 3:1 against --panel and --bg', () => {
    const rule = /button, select, input \{[^}]*\}/.exec(css)?.[0] ?? '';
    expect(rule).toMatch(/border: 1px solid var\(--control-line\)/);
    for (const background of ['panel', 'bg']) expect(contrast(variable('control-line'), variable(background)), background).toBeGreaterThanOrEqual(3);
  });

  it('a pressed toggle keeps 3:1 too (its own background)', () => {
    const rule = /button\[aria-pressed='true'\] \{ background: (#[0-9a-f]{6}); border-color: var\(--bad\); \}/.exec(css);
    expect(rule).not.toBeNull();
    expect(contrast(variable('bad'), rule![1]!)).toBeGreaterThanOrEqual(3);
    expect(contrast(variable('bad'), variable('panel'))).toBeGreaterThanOrEqual(3);
  });
});
