/** What each benchmark returns, and how the run prints it. */

export interface Table {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Columns aligned right (numbers); the others are aligned left. @default - every column but the first */
  readonly rightAligned?: readonly number[];
}

/** One target of the issue, checked against a measurement. */
export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  /** undefined when not evaluated (the --quick sizes say nothing about the targets). */
  readonly met: boolean | undefined;
  /** Why it was missed, when known. */
  readonly cause?: string;
}

export interface SectionResult {
  readonly id: string;
  readonly title: string;
  readonly tables: readonly Table[];
  readonly notes: readonly string[];
  readonly targets: readonly TargetCheck[];
  /** The raw figures, written to results.json. */
  readonly data: unknown;
}

/** Formats rows as an aligned text table with a header and a rule under it. */
export function formatTable(table: Table): string {
  const rows = [table.header, ...table.rows];
  const widths = table.header.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length)));
  const right = new Set(table.rightAligned ?? table.header.map((_, i) => i).slice(1));
  const line = (row: readonly string[]) =>
    row
      .map((cell, column) => (right.has(column) ? cell.padStart(widths[column]) : cell.padEnd(widths[column])))
      .join("  ")
      .trimEnd();
  return [line(table.header), widths.map((width) => "-".repeat(width)).join("  "), ...table.rows.map(line)]
    .map((text) => `  ${text}`)
    .join("\n");
}

export function formatSection(section: SectionResult): string {
  const parts = [`${section.title}`, ...section.tables.map(formatTable)];
  if (section.notes.length > 0) parts.push(section.notes.map((note) => `  * ${note}`).join("\n"));
  return parts.join("\n\n");
}

export function verdict(check: TargetCheck): string {
  return check.met === undefined ? "n/a (quick)" : check.met ? "met" : "MISSED";
}
