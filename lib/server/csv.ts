/**
 * CSV output rules shared by every export: RFC 4180 (CRLF records, fields quoted when they contain
 * a comma, quote, CR or LF, quotes doubled), UTF-8 with a BOM so spreadsheets detect the encoding,
 * and formula neutralisation (OWASP "CSV injection").
 */
import { stringify, type Options } from 'csv-stringify'

/**
 * Text that a spreadsheet would run as a formula: it starts with `=`, `+`, `-`, `@`, a tab or a CR,
 * possibly after leading spaces (several spreadsheets trim them before deciding).
 */
const FORMULA_START = /^[ ]*[=+\-@\t\r]/

/**
 * Makes a text cell inert by prefixing a single quote when it could start a formula; any other
 * text is returned unchanged. Only strings pass through here: numbers such as `-42.5` are
 * written by the CSV library as numbers and are never altered.
 */
export function neutraliseFormula(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value
}

/** Text that is a plain decimal number (`-46.6`, `+1e3`): a spreadsheet reads it as that number, not a formula. */
const PLAIN_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/

/**
 * A csv-stringify Transform following the rules above. `columns` names the record keys in order;
 * the header row uses the same names. With `numbersAsText: true` (for cells read from a file,
 * where numbers arrive as text, such as an import's rejected rows), text that is a plain number
 * is written as it is instead of being prefixed. Default false.
 */
export function csvStringifier(columns: string[], { numbersAsText = false }: { numbersAsText?: boolean } = {}) {
  const options: Options = {
    bom: true,
    header: true,
    columns: columns.map((key) => ({ key, header: neutraliseFormula(key) })),
    record_delimiter: '\r\n',
    quoted_match: /[\r\n]/,
    cast: { string: numbersAsText ? (v) => (PLAIN_NUMBER.test(v) ? v : neutraliseFormula(v)) : neutraliseFormula },
  }
  return stringify(options)
}
