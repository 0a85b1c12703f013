#!/usr/bin/env node
// npm's "install" script for faxline.
//
// 1. Use the prebuilt addon (prebuilds/<platform>-<arch>/) when it loads here: it is
//    tried in a child process, as node-gyp-build does, so a missing library or a C
//    library too old fails there and not in npm.
// 2. Otherwise build from source with node-gyp (binding.gyp, the system's SpanDSP and
//    libtiff), its output kept in a log in the temporary folder (npm removes the
//    package folder when an install fails, so the log cannot live there).
// 3. If that fails too, print one message: what is missing and the apt-get command.
//
// `npm install --build-from-source` (or FAXLINE_BUILD_FROM_SOURCE=1) skips step 1.
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const pkgDir = path.resolve(__dirname, '..');
const logFile = path.join(os.tmpdir(), `faxline-install-${process.pid}.log`);
const APT = 'apt-get install libspandsp-dev libtiff-dev g++ make python3 pkg-config';
const PROBE_TIMEOUT_MS = 10_000;
const LOAD_TIMEOUT_MS = 60_000;
const BUILD_TIMEOUT_MS = 30 * 60_000;

/** Appends a section to the log; the log is best effort, never a reason to fail. */
function log(title, text) {
  try {
    fs.appendFileSync(logFile, `==== ${title}\n${text ? String(text).trimEnd() + '\n' : ''}`);
  } catch {
    // no writable log: the message on the terminal still stands
  }
}

/** Nothing to look at after a success: no log left behind. */
function removeLog() {
  fs.rmSync(logFile, { force: true });
}

/** Runs a command with a time limit; returns its status (null when it could not run). */
function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { encoding: 'utf8', timeout: PROBE_TIMEOUT_MS, ...options });
  return { status: result.error ? null : result.status, stdout: result.stdout || '', stderr: result.stderr || '' };
}

/** Whether a program answers --version (it exists and runs). */
function runs(cmd) {
  return run(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

function buildFromSourceRequested() {
  return process.env.npm_config_build_from_source === 'true' || process.env.FAXLINE_BUILD_FROM_SOURCE === '1';
}

/** Tries the prebuild in a child node; returns null when it loads, else why not. */
function prebuildFailure() {
  let gypBuild;
  try {
    gypBuild = require.resolve('node-gyp-build');
  } catch {
    return 'node-gyp-build is not installed';
  }
  const script = 'require(require(process.argv[1]).path(process.argv[2]))';
  const result = run(process.execPath, ['-e', script, gypBuild, pkgDir], {
    timeout: LOAD_TIMEOUT_MS,
    env: { ...process.env, PREBUILDS_ONLY: '1' },
  });
  if (result.status === 0) return null;
  const lines = (result.stderr || result.stdout || 'no output').trim().split('\n');
  // The error's own message ("No native build was found ...", or dlopen's "libx.so: cannot
  // open shared object file", "version `GLIBC_2.xx' not found"), not the source line above it.
  const line = lines.find((l) => /^\s*\w*Error: /.test(l)) || lines[0];
  return line
    .replace(/^\s*\w*Error: /, '')
    .trim()
    .slice(0, 300);
}

/** Runs node-gyp rebuild with its output in the log; returns true on success. */
function buildFromSource() {
  let gyp = process.env.npm_config_node_gyp; // npm's own node-gyp, set for install scripts
  if (!gyp || !fs.existsSync(gyp)) {
    try {
      gyp = require.resolve('node-gyp/bin/node-gyp.js');
    } catch {
      gyp = null;
    }
  }
  const [cmd, args] = gyp ? [process.execPath, [gyp, 'rebuild']] : ['node-gyp', ['rebuild']];
  log(`${cmd} ${args.join(' ')} (in ${pkgDir})`, '');
  let fd;
  try {
    fd = fs.openSync(logFile, 'a');
  } catch {
    fd = 'ignore';
  }
  const result = spawnSync(cmd, args, { cwd: pkgDir, stdio: ['ignore', fd, fd], timeout: BUILD_TIMEOUT_MS });
  if (typeof fd === 'number') fs.closeSync(fd);
  log(`node-gyp ${result.error ? `did not run: ${result.error.message}` : `exited with ${result.status}`}`, '');
  return !result.error && result.status === 0;
}

/** A header's presence in the usual include folders (when pkg-config cannot tell). */
function hasHeader(name) {
  const dirs = ['/usr/include', '/usr/local/include'];
  for (const base of ['/usr/include', '/usr/lib']) {
    try {
      for (const d of fs.readdirSync(base)) if (/-linux-gnu/.test(d)) dirs.push(path.join(base, d));
    } catch {
      // not there
    }
  }
  return dirs.some((d) => fs.existsSync(path.join(d, name)));
}

/** What a source build needs and this machine lacks, in words and as Debian packages. */
function missingForSource() {
  const missing = [];
  const cxx = (process.env.CXX || 'g++').trim().split(/\s+/)[0];
  if (!runs(cxx)) missing.push(process.env.CXX ? `a C++ compiler (CXX=${process.env.CXX} does not run)` : 'g++');
  if (!runs('make')) missing.push('make');
  const python = process.env.npm_config_python || process.env.PYTHON || 'python3';
  if (!runs(python)) missing.push('python3');
  const pkgConfig = runs('pkg-config');
  if (!pkgConfig) missing.push('pkg-config');
  const devFiles = [
    ['spandsp', 'spandsp.h', 'SpanDSP development files (libspandsp-dev)'],
    ['libtiff-4', 'tiffio.h', 'libtiff development files (libtiff-dev)'],
  ];
  for (const [module, header, words] of devFiles) {
    const present = pkgConfig ? run('pkg-config', ['--exists', module]).status === 0 : hasHeader(header);
    if (!present) missing.push(words);
  }
  return missing;
}

function main() {
  try {
    fs.writeFileSync(logFile, `faxline install, node ${process.version}, ${process.platform}-${process.arch}\n`);
  } catch {
    // no writable temporary folder: carry on without a log
  }
  let why = 'a build from source was asked for';
  if (!buildFromSourceRequested()) {
    why = prebuildFailure();
    if (why === null) {
      removeLog();
      console.log(`faxline: using the prebuilt addon for ${process.platform}-${process.arch}`);
      return 0;
    }
    log('the prebuilt addon does not load', why);
    console.log(`faxline: the prebuilt addon does not load here (${why}); building from source (log: ${logFile})`);
  }
  if (buildFromSource()) {
    removeLog();
    console.log('faxline: built the addon from source');
    return 0;
  }
  const missing = missingForSource();
  log('missing for a source build', missing.join('\n') || 'nothing found missing');
  const lines = [
    `faxline: cannot install the native addon: ${buildFromSourceRequested() ? 'the build from source that was asked for failed' : 'no prebuild loads here and building it from source failed'}.`,
    missing.length
      ? `  Missing: ${missing.join(', ')}.`
      : '  The tools and libraries were found, so the compile itself failed: see the log.',
    `  On Debian or Ubuntu: sudo ${APT}`,
    `  then run npm install again. Full build output: ${logFile}`,
  ];
  console.error(lines.join('\n'));
  return 1;
}

process.exitCode = main();
