/**
 * A small XML well-formedness check, enough for the SVG the reports inline: every element closed
 * in order, attributes quoted and unique, no raw `<` or stray `&` in text or values. Node has no
 * XML parser; the browser test parses the same markup with the real one.
 */
const NAME = /^[A-Za-z_][\w:.-]*$/;
const ENTITY = /^&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/;
const ATTRIBUTE = /\s+([A-Za-z_][\w:.-]*)\s*=\s*("[^"<]*"|'[^'<]*')/y;

function checkText(text: string, where: string): void {
  for (let i = text.indexOf('&'); i >= 0; i = text.indexOf('&', i + 1))
    if (!ENTITY.test(text.slice(i)))
      throw new Error(`stray "&" ${where}: ${JSON.stringify(text.slice(i, i + 20))}`);
}

/** Throws, naming the problem, unless `markup` is one well-formed XML element. */
export function assertWellFormedXml(markup: string): void {
  const stack: string[] = [];
  let roots = 0;
  let at = 0;
  while (at < markup.length) {
    const open = markup.indexOf('<', at);
    const text = markup.slice(at, open < 0 ? markup.length : open);
    if (text.trim() && stack.length === 0)
      throw new Error(`text outside the root element: ${JSON.stringify(text.slice(0, 40))}`);
    checkText(text, `in text at ${at}`);
    if (open < 0) break;
    const close = markup.indexOf('>', open);
    if (close < 0) throw new Error(`unterminated tag at ${open}`);
    const tag = markup.slice(open + 1, close);
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      const expected = stack.pop();
      if (name !== expected) throw new Error(`</${name}> at ${open} closes <${expected ?? 'nothing'}>`);
    } else {
      const selfClosing = tag.endsWith('/');
      const body = selfClosing ? tag.slice(0, -1) : tag;
      const name = /^[^\s/]+/.exec(body)?.[0] ?? '';
      if (!NAME.test(name)) throw new Error(`bad element name ${JSON.stringify(name)} at ${open}`);
      const seen = new Set<string>();
      let rest = body.slice(name.length);
      ATTRIBUTE.lastIndex = 0;
      let consumed = 0;
      for (let m = ATTRIBUTE.exec(rest); m; m = ATTRIBUTE.exec(rest)) {
        if (seen.has(m[1])) throw new Error(`attribute ${m[1]} twice on <${name}> at ${open}`);
        seen.add(m[1]);
        checkText(m[2].slice(1, -1), `in ${m[1]} of <${name}>`);
        consumed = ATTRIBUTE.lastIndex;
      }
      rest = rest.slice(consumed);
      if (rest.trim())
        throw new Error(`malformed attributes on <${name}> at ${open}: ${JSON.stringify(rest.slice(0, 40))}`);
      if (stack.length === 0) roots++;
      if (!selfClosing) stack.push(name);
    }
    at = close + 1;
  }
  if (stack.length) throw new Error(`unclosed <${stack.join('> <')}>`);
  if (roots !== 1) throw new Error(`${roots} root elements, want 1`);
}
