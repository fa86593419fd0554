// Encodes texts with the reference GPT-2 encoder in JavaScript (npm gpt-3-encoder), for parity
// tests and the tokenizer benchmark.
//
//   node gpt2_reference_encode.js ENCODER_DIR INPUT...
//
// ENCODER_DIR holds Encoder.js (deps/node_modules/gpt-3-encoder). Each INPUT is either a JSON
// file holding an array of strings (one id list per string) or any other file, read as UTF-8 and
// encoded whole (one id list). Prints {"ids": [[...], ...], "seconds": S} where S is the time
// spent in encode() alone, without start-up and loading.
'use strict';
const fs = require('fs');
const path = require('path');

if (process.argv.length < 4) {
  process.stderr.write('usage: node gpt2_reference_encode.js ENCODER_DIR INPUT...\n');
  process.exit(2);
}
const { encode } = require(path.resolve(process.argv[2], 'Encoder.js'));

const texts = [];
for (const file of process.argv.slice(3)) {
  const content = fs.readFileSync(file, 'utf-8');
  if (file.endsWith('.json')) {
    for (const s of JSON.parse(content)) texts.push(s);
  } else {
    texts.push(content);
  }
}

const start = process.hrtime.bigint();
const ids = texts.map(t => encode(t));
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
process.stdout.write(JSON.stringify({ ids, seconds }) + '\n');
