#!/usr/bin/env node
'use strict';
// The installed `remoted` command: the compiled CLI in dist/.
require('../dist/cli/main.js')
  .main(process.argv)
  .then((code) => process.exit(code));
