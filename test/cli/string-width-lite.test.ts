import realStringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import stringWidth from '../../src/cli/string-width-lite.js';

describe('string-width-lite', () => {
  it('agrees with string-width on help-like text, wide scripts, marks and ANSI codes', () => {
    const samples = [
      '',
      'inletsctl create [name]',
      '  --provider  Where to create the exit server (default: local)   [string] [choices: "local"]',
      'control panel → API → Tokens — “quoted” …',
      '日本語のテキスト',
      'ｆｕｌｌｗｉｄｔｈ',
      '한국어',
      'e\u0301 combining',
      'zero\u200bwidth',
      '\u001b[31mred\u001b[39m and \u001b[1mbold\u001b[22m',
      '\u001b]8;;https://example.com\u0007link\u001b]8;;\u0007',
      '😀 grin',
      '🚀🎉',
      'tab\there',
    ];
    for (const s of samples) expect(stringWidth(s), JSON.stringify(s)).toBe(realStringWidth(s));
  });

  it('can count escape codes when asked, like string-width', () => {
    const s = '\u001b[31mred\u001b[39m';
    expect(stringWidth(s, { countAnsiEscapeCodes: true })).toBe(realStringWidth(s, { countAnsiEscapeCodes: true }));
  });
});
