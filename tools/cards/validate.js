#!/usr/bin/env node
// Validate Teams Workflows messages (Adaptive Cards) with Microsoft's `adaptivecards` parser.
//
// Usage: node tools/cards/validate.js FILE.json [FILE.json ...]
// Each file holds a {"type":"message","attachments":[...]} envelope (platform-facts §4). For each
// card we check the envelope, parse the card with AdaptiveCard.parse(json, SerializationContext)
// and report every event the parser logs (unknown element types, invalid property values,
// unsupported versions, ...), the card's own validateProperties() failures, and every property the
// library drops when it writes the card back (a misspelt name such as "fonttype" is silently
// ignored by the parser; "msteams" is a Teams host extension and allowed). Prints one JSON
// line per file ({"file", "ok", "problems"}); exits 1 when any file has a problem.
"use strict";

const fs = require("fs");
const path = require("path");
// lib/ is an ES module build without file extensions; the UMD bundle loads in plain Node.
const AC = require(path.join(__dirname, "..", "node_modules", "adaptivecards", "dist", "adaptivecards.js"));

const CONTENT_TYPE = "application/vnd.microsoft.card.adaptive";
const VERSIONS = new Set(["1.4", "1.5"]);
const PHASES = ["Parse", "ToJSON", "Validation"];

function envelopeProblems(message) {
  const problems = [];
  if (message === null || typeof message !== "object") return ["message is not a JSON object"];
  if (message.type !== "message") problems.push('envelope "type" is not "message"');
  if (!Array.isArray(message.attachments) || message.attachments.length !== 1) {
    problems.push("envelope must hold exactly one attachment");
    return problems;
  }
  const att = message.attachments[0];
  if (att.contentType !== CONTENT_TYPE) problems.push(`contentType is not ${CONTENT_TYPE}`);
  if (att.contentUrl !== null) problems.push("contentUrl must be null");
  const card = att.content;
  if (!card || card.type !== "AdaptiveCard") problems.push('content "type" is not "AdaptiveCard"');
  else if (!VERSIONS.has(card.version)) problems.push(`card version ${card.version} not 1.4/1.5`);
  return problems;
}

function describe(event) {
  const phase = PHASES[event.phase] || String(event.phase);
  const kind = AC.ValidationEvent[event.event] || String(event.event);
  return `${phase}/${kind}: ${event.message}`;
}

// Host extensions the adaptivecards library does not model (Teams reads "msteams").
const HOST_EXTENSIONS = new Set([".msteams"]);

function droppedProperties(input, output, where, found) {
  if (Array.isArray(input)) {
    input.forEach((item, i) => droppedProperties(item, (output || [])[i], `${where}[${i}]`, found));
  } else if (input !== null && typeof input === "object") {
    for (const key of Object.keys(input)) {
      const at = `${where}.${key}`;
      if (HOST_EXTENSIONS.has(at)) continue;
      if (!output || typeof output !== "object" || !(key in output)) {
        found.push(`ToJSON/DroppedProperty: ${at} (unknown property or default value)`);
      } else {
        droppedProperties(input[key], output[key], at, found);
      }
    }
  }
  return found;
}

function validateMessage(message) {
  const problems = envelopeProblems(message);
  if (problems.length) return problems;
  const card = new AC.AdaptiveCard();
  const context = new AC.SerializationContext();
  card.parse(message.attachments[0].content, context);
  for (let i = 0; i < context.eventCount; i++) problems.push(describe(context.getEventAt(i)));
  for (const event of card.validateProperties().validationEvents) problems.push(describe(event));
  const written = card.toJSON(new AC.SerializationContext());
  droppedProperties(message.attachments[0].content, written, "", problems);
  return problems;
}

function main(files) {
  if (files.length === 0) {
    console.error("usage: validate.js FILE.json [FILE.json ...]");
    return 2;
  }
  let failed = 0;
  for (const file of files) {
    let problems;
    try {
      problems = validateMessage(JSON.parse(fs.readFileSync(file, "utf8")));
    } catch (err) {
      problems = [`cannot read or parse: ${err.message}`];
    }
    if (problems.length) failed++;
    console.log(JSON.stringify({ file, ok: problems.length === 0, problems }));
  }
  return failed ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
