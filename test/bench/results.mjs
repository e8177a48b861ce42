// Where `npm run bench` keeps what it measured: bench/results/<date>-<commit>.json,
// one file per commit and day, each script (bench.mjs, gdb-bench.mjs) its own
// section. With the figures go what they depend on: the commit (and whether
// the tree had changes), the CPU, the Node version, and the load average
// before and after (another job on the machine slows every row).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The command as installed (package.json's bin: the bundle `npm run build` makes), as users start it. */
export const CLI = path.join(ROOT, JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).bin.entrystub);
const git = (args) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout.trim();

export function machineFacts() {
  return {
    commit: git(['rev-parse', 'HEAD']),
    dirty: git(['status', '--porcelain', '--untracked-files=no']) !== '',
    // (not `cpu`: that is bench.mjs's section, which this would overwrite)
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.availableParallelism(),
    node: process.version,
    loadavg: os.loadavg().map((x) => Number(x.toFixed(2))),
  };
}

/** Write one script's section (its rows and the facts around them); returns the file. */
export function record(section, rows, startFacts) {
  const facts = machineFacts();
  const dir = path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${new Date().toISOString().slice(0, 10)}-${facts.commit.slice(0, 12)}.json`);
  const doc = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  const { loadavg, ...rest } = facts;
  Object.assign(doc, rest);
  doc[section] = { measured: new Date().toISOString(), loadavgBefore: startFacts.loadavg, loadavgAfter: loadavg, rows };
  fs.writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
  return file;
}
