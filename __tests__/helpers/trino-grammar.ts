/**
 * A syntax check of SQL against Trino's grammar (Athena engine v3 is Trino), independent of DuckDB,
 * which runs the same text locally and accepts things Athena does not.
 *
 * The grammar is dt-sql-parser's TrinoSQL (an ANTLR grammar of Trino, run by antlr4ng). The package
 * ships ES modules with extensionless imports, which neither Jest's CommonJS loader nor Node load,
 * so its Trino entry point is bundled to CommonJS with esbuild (in memory, about 0.3 s) the first
 * time a test file calls this, instead of transforming node_modules in jest.config.js. The bundle
 * (self-contained: it requires nothing) runs in the worker's own context rather than the test's
 * sandbox, where the parser's warm-up is about three times slower. Parsing is slow only while
 * the parser warms up (about 1 s over the first few queries of a test file, 0.5 s of it on the
 * first); after that a query takes 1 to 20 ms.
 *
 * It checks syntax only: names, types and functions are not resolved.
 */
import { runInThisContext } from "node:vm";
import { buildSync } from "esbuild";
import type { ErrorListener, TrinoSQL } from "dt-sql-parser";

/**
 * The syntax errors of one SQL text by Trino's grammar, each as `line L, column C: message
 * (near "...")`, lines and columns counted from 1. An empty array when the text parses. `?`
 * placeholders parse as parameters. A second statement is an error too: Athena runs one per query.
 */
export function trinoSyntaxErrors(sql: string): string[] {
  const trino = trinoParser();
  // Array.from: the parser's arrays belong to the worker's context, not the test's.
  const errors = Array.from(trino.validate(sql), ({ startLine, startColumn, message }) => ({
    startLine,
    startColumn,
    message,
  }));
  if (errors.length === 0) {
    // Reuses the parse tree of validate().
    for (const statement of (trino.splitSQLByStatement(sql) ?? []).slice(1)) {
      errors.push({ ...statement, message: "a second statement: Athena runs one statement per query" });
    }
  }
  const lines = sql.split("\n");
  return errors.map(({ startLine, startColumn, message }) => {
    const line = lines[startLine - 1] ?? "";
    const near = line.slice(Math.max(0, startColumn - 31), startColumn + 29).trim();
    return `line ${startLine}, column ${startColumn}: ${message}${near ? ` (near "${near}")` : ""}`;
  });
}

/**
 * The syntax errors of the SQL in a query string of the rendered state machine: the value of a
 * `QueryString` field (the SQL itself) or of a `QueryString.$` field, `States.Format('<sql>', <paths>)`
 * as core/asl.ts renders it. The template is unescaped (`\'`, `\{`, `\}`, `\\`) and each `{}`
 * becomes `?`, so `'{}'` (an inlined value) is a string literal. Throws when a `.$` value is not a
 * States.Format with a template string.
 */
export function stateMachineQuerySyntaxErrors(queryString: string): string[] {
  const text = queryString.trim();
  if (text.startsWith("$")) {
    throw new Error(`not SQL but a JSONPath: ${text}`);
  }
  if (!text.startsWith("States.")) return trinoSyntaxErrors(text);
  const opening = /^States\.Format\(\s*'/.exec(text);
  if (!opening) {
    throw new Error(`expected SQL or States.Format('<sql>', ...), received: ${text.slice(0, 80)}`);
  }
  let sql = "";
  for (let i = opening[0].length; i < text.length; i++) {
    const character = text[i];
    if (character === "\\") {
      sql += text[++i] ?? "";
    } else if (character === "'") {
      return trinoSyntaxErrors(sql);
    } else if (character === "{" && text[i + 1] === "}") {
      sql += "?";
      i++;
    } else {
      sql += character;
    }
  }
  throw new Error(`States.Format template string not closed: ${text.slice(0, 80)}`);
}

let parser: TrinoSQL | undefined;

function trinoParser(): TrinoSQL {
  if (parser) return parser;
  const { outputFiles } = buildSync({
    entryPoints: [require.resolve("dt-sql-parser/dist/parser/trino/index.js")],
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node22",
    write: false,
    logLevel: "silent",
  });
  const bundle: { exports: { TrinoSQL?: typeof TrinoSQL } } = { exports: {} };
  const evaluate = runInThisContext(`(function (module, exports) {\n${outputFiles[0].text}\n})`, {
    filename: "dt-sql-parser-trino.cjs",
  }) as (module: typeof bundle, exports: typeof bundle.exports) => void;
  evaluate(bundle, bundle.exports);
  const Trino = bundle.exports.TrinoSQL;
  if (!Trino) throw new Error("dt-sql-parser/dist/parser/trino exports no TrinoSQL");

  /**
   * To word an error, dt-sql-parser parses a fragment again with a lexer and parser that keep
   * ANTLR's console listener, which prints to stderr: those fragments report nothing here.
   */
  class QuietTrinoSQL extends Trino {
    override createLexer(input: string, errorListener?: ErrorListener): ReturnType<TrinoSQL["createLexer"]> {
      const lexer = super.createLexer(input, errorListener);
      if (!errorListener) lexer.removeErrorListeners();
      return lexer;
    }

    override createParser(input: string, errorListener?: ErrorListener): ReturnType<TrinoSQL["createParser"]> {
      const created = super.createParser(input, errorListener);
      if (!errorListener) created.removeErrorListeners();
      return created;
    }
  }
  parser = new QuietTrinoSQL();
  return parser;
}
