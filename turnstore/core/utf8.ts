/**
 * UTF-8 length of a string without encoding it: keys are measured on every
 * write (built, then stored in key blocks), and are almost always ASCII.
 *
 * @module
 */

/**
 * UTF-8 length of `text`, as TextEncoder would encode it (a lone surrogate
 * becomes U+FFFD, 3 bytes), in one pass and without allocating.
 */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2; // the pair: 2 code units, 4 bytes
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}
