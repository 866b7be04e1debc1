/**
 * The `Content-Disposition` header of a download (RFC 6266), safe for any file name: an ASCII
 * `filename` fallback for old clients plus the exact UTF-8 name in `filename*` (RFC 8187).
 */

/** Characters RFC 8187 `attr-char` allows unescaped; everything else in `filename*` is %XX. */
const ATTR_CHAR = /^[A-Za-z0-9!#$&+\-.^_`|~]$/

/** Percent-encodes UTF-8 `value` for `filename*`, leaving only RFC 8187 attr-chars as they are. */
function encodeExtValue(value: string): string {
  let out = ''
  for (const char of value) {
    if (ATTR_CHAR.test(char)) out += char
    else for (const byte of Buffer.from(char, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/**
 * `attachment; filename="<ascii>"; filename*=UTF-8''<utf-8>` for `fileName`.
 * - Path separators (`/`, `\`) become `_`: a name is never a path.
 * - Control characters (CR and LF included: no header injection) become `_`, as do lone surrogates
 *   (U+FFFD would be written otherwise) in both forms.
 * - The fallback replaces every non-ASCII character, `"` and `%` (some clients decode it) with `_`.
 * - An empty name becomes `download`.
 */
export function attachmentDisposition(fileName: string): string {
  const safe = fileName.replace(/[\\/\u0000-\u001f\u007f]|\p{Cs}/gu, '_') || 'download'
  const ascii = safe.replace(/[^\x20-\x7e]|["%]/gu, '_')
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeExtValue(safe)}`
}
