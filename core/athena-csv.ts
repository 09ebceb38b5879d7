/**
 * Reading Athena's result CSV: a header line, then one line per row; every value double-quoted
 * with embedded quotes doubled, NULL as an empty unquoted field. Pure (no imports), for the
 * relocate-results Lambda, the local engine and the CLI.
 */

/** A result row keyed by column name: a value's text, or null for NULL. */
export type ResultRow = Record<string, string | null>;

/** Reads a whole result CSV into rows keyed by column name. */
export function readResultRows(csvText: string): ResultRow[] {
  const rows: ResultRow[] = [];
  for (const row of resultRows(csvText)) rows.push(row);
  return rows;
}

/** The rows of a result CSV one at a time, keyed by column name: nothing is kept but the current row. */
export function* resultRows(csvText: string): Generator<ResultRow, void, undefined> {
  const records = csvRecords(csvText);
  const header = records.next();
  if (header.done) return;
  const columns = header.value;
  for (const record of records) {
    yield Object.fromEntries(columns.map((column, i) => [column ?? "", record[i] ?? null]));
  }
}

/** The records of a CSV text: a quoted field is its text (`""` is the empty string), an empty unquoted field is null. */
function* csvRecords(text: string): Generator<(string | null)[], void, undefined> {
  let i = 0;
  while (i < text.length) {
    const record: (string | null)[] = [];
    for (;;) {
      let value: string | null;
      if (text[i] === '"') {
        let end = i + 1;
        let quoted = "";
        for (;;) {
          const close = text.indexOf('"', end);
          if (close === -1) throw new SyntaxError(`Unterminated quoted field at offset ${i}`);
          quoted += text.slice(end, close);
          if (text[close + 1] === '"') {
            quoted += '"';
            end = close + 2;
          } else {
            end = close + 1;
            break;
          }
        }
        value = quoted;
        i = end;
      } else {
        let end = i;
        while (end < text.length && text[end] !== "," && text[end] !== "\n") end++;
        const raw = text.slice(i, end).replace(/\r$/, "");
        value = raw === "" ? null : raw;
        i = end;
      }
      record.push(value);
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === "\r") i++;
      if (text[i] === "\n") i++;
      break;
    }
    yield record;
  }
}
