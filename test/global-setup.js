// Before any test: fetch the third-party PDF fixtures when they are missing (they come from
// Debian packages and are not committed), so their tests always run.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

module.exports = async () => {
  const dir = path.join(__dirname, 'fixtures', 'pdfs', 'third-party');
  const ready = path.join(dir, 'gnuplot.pdf');
  if (fs.existsSync(ready)) return;
  execFileSync('bash', [path.join(__dirname, 'fixtures', 'fetch-pdfs.sh')], { stdio: 'inherit', timeout: 300_000 });
};
