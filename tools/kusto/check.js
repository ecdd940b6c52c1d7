#!/usr/bin/env node
// Analyse KQL queries with Microsoft's Kusto language service (@kusto/language-service-next).
//
// Usage: node tools/kusto/check.js < request.json
//   request: {"queries": ["T | ...", ...], "schema": {"tables": {"T": {"col": "type", ...}}}}
//   ("schema" defaults to tools/kusto/schemas.json). Types are Kusto scalar type names.
// Prints one JSON document: {"results": [{"query": index, "ok": bool, "diagnostics": [...]}]}
// with every diagnostic {severity, code, message, start, length, text}; "ok" means no errors
// (warnings such as KS205 "fuzzy name does not refer to a known table" are reported, not
// failures). With --lines, reads one request per line and answers one line each, so a test
// session can start Node once. Exits 0 unless the input itself is unreadable.
"use strict";

const fs = require("fs");
const path = require("path");
const readline = require("readline");

const base = path.join(__dirname, "..", "node_modules", "@kusto", "language-service-next");
require(path.join(base, "bridge.min.js"));
require(path.join(base, "Kusto.Language.Bridge.min.js"));
const K = globalThis.Kusto.Language;

const DEFAULT_SCHEMA = path.join(__dirname, "schemas.json");

function globalsFor(schema) {
  const tables = Object.entries(schema.tables || {}).map(([name, columns]) => {
    const decl = Object.entries(columns)
      .map(([column, type]) => `['${column}']:${type}`)
      .join(", ");
    return new K.Symbols.TableSymbol.$ctor7(name, `(${decl})`, null);
  });
  const db = new K.Symbols.DatabaseSymbol.ctor("workspace", tables);
  return K.GlobalState.Default.WithDatabase(db);
}

function analyse(query, globals) {
  const code = K.KustoCode.ParseAndAnalyze(query, globals);
  const list = code.GetDiagnostics();
  const diagnostics = [];
  for (let i = 0; i < list.Count; i++) {
    const d = list.getItem(i);
    diagnostics.push({
      severity: String(d.Severity),
      code: d.Code,
      message: d.Message,
      start: d.Start,
      length: d.Length,
      text: query.substr(d.Start, Math.max(d.Length, 0)),
    });
  }
  return { ok: !diagnostics.some((d) => d.severity === "Error"), diagnostics };
}

function answer(request) {
  const schema = request.schema || JSON.parse(fs.readFileSync(DEFAULT_SCHEMA, "utf8"));
  const globals = globalsFor(schema);
  const results = (request.queries || []).map((q, index) => ({ query: index, ...analyse(q, globals) }));
  return { results };
}

function main() {
  if (process.argv.includes("--lines")) {
    const rl = readline.createInterface({ input: process.stdin, terminal: false });
    rl.on("line", (line) => {
      if (!line.trim()) return;
      let out;
      try {
        out = answer(JSON.parse(line));
      } catch (error) {
        out = { error: String(error && error.message ? error.message : error) };
      }
      process.stdout.write(JSON.stringify(out) + "\n");
    });
    return;
  }
  let request;
  try {
    request = JSON.parse(fs.readFileSync(0, "utf8"));
  } catch (error) {
    process.stderr.write(`check.js: unreadable request: ${error.message}\n`);
    process.exit(2);
  }
  process.stdout.write(JSON.stringify(answer(request), null, 1) + "\n");
}

main();
