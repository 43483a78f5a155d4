// The Bicep source scanner shared by infra/check-bicep.mjs and infra/check-bicep-schema.mjs: comments out,
// string contents blanked (so brackets and colons inside strings never count), bracket matching.

/**
 * Walks Bicep source once. Returns `code` (comments removed, string contents kept) and `masked`
 * (comments removed, string contents blanked to spaces, same length as `code`) plus every string literal
 * with its literal segments (the parts outside `${...}` interpolations).
 */
export function scanBicep(text) {
  const code = [];
  const masked = [];
  const strings = [];
  let i = 0;
  const n = text.length;
  const keep = (ch, maskedCh = ch) => {
    code.push(ch);
    masked.push(maskedCh);
  };
  while (i < n) {
    const ch = text[i];
    const next = text[i + 1];
    if (ch === '/' && next === '/') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (ch === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? n : end + 2;
      for (let j = i; j < stop; j++) if (text[j] === '\n') keep('\n');
      i = stop;
      continue;
    }
    if (text.startsWith("'''", i)) {
      const end = text.indexOf("'''", i + 3);
      const stop = end === -1 ? n : end + 3;
      const body = text.slice(i + 3, end === -1 ? n : end);
      strings.push({ offset: i, raw: body, segments: [body] });
      for (let j = i; j < stop; j++) keep(text[j], j < i + 3 || j >= stop - 3 ? text[j] : text[j] === '\n' ? '\n' : ' ');
      i = stop;
      continue;
    }
    if (ch === "'") {
      const start = i;
      const segments = [];
      let seg = '';
      keep(ch);
      i++;
      while (i < n && text[i] !== "'") {
        if (text[i] === '\\' && i + 1 < n) {
          seg += text[i + 1];
          keep(text[i], ' ');
          keep(text[i + 1], ' ');
          i += 2;
          continue;
        }
        if (text[i] === '$' && text[i + 1] === '{') {
          segments.push(seg);
          seg = '';
          let depth = 0;
          do {
            if (text[i] === '{') depth++;
            else if (text[i] === '}') depth--;
            keep(text[i], text[i] === '\n' ? '\n' : ' ');
            i++;
          } while (i < n && depth > 0);
          continue;
        }
        seg += text[i];
        keep(text[i], text[i] === '\n' ? '\n' : ' ');
        i++;
      }
      segments.push(seg);
      if (i < n) keep(text[i]);
      i++;
      strings.push({ offset: start, raw: text.slice(start + 1, i - 1), segments });
      continue;
    }
    keep(ch);
    i++;
  }
  return { code: code.join(''), masked: masked.join(''), strings };
}

/** Index of the bracket closing the one at `open` in masked text (strings already blanked). */
export function matchBracket(masked, open) {
  const pairs = { '{': '}', '[': ']', '(': ')' };
  const stack = [];
  for (let i = open; i < masked.length; i++) {
    const ch = masked[i];
    if (pairs[ch]) stack.push(pairs[ch]);
    else if (ch === '}' || ch === ']' || ch === ')') {
      if (stack.pop() !== ch) return -1;
      if (stack.length === 0) return i;
    }
  }
  return -1;
}
