/**
 * The VS Code configuration shipped in docs/vscode/ (launch.json for the
 * Microsoft C/C++ extension's gdb mode, tasks.json to start the stub),
 * driven the way the extension's debug adapter (MIEngine) drives gdb/MI for
 * it: the launch sequence of DebuggedProcess.GetInitializeCommands for a
 * "launch" with miDebuggerServerAddress, then the requests the editor makes
 * at each stop (threads, stack, variables, registers) and the step buttons.
 */
import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CLI, GdbMI, ROOT, startStub } from './helpers.js';
import { need } from '../helpers/tools.js';

const HAVE_GDB = need('gdb') !== null;

const DIR = path.join(ROOT, 'docs', 'vscode');
const launch = JSON.parse(fs.readFileSync(path.join(DIR, 'launch.json'), 'utf8'));
const tasks = JSON.parse(fs.readFileSync(path.join(DIR, 'tasks.json'), 'utf8'));
const config = launch.configurations.find((c: { type: string }) => c.type === 'cppdbg');
const task = tasks.tasks.find((t: { label: string }) => t.label === config?.preLaunchTask);

/** ${workspaceFolder} as VS Code substitutes it. */
const subst = (s: string) => s.replaceAll('${workspaceFolder}', ROOT);

/** The task's command line, minus the installed `entrystub` (README: npm install -g .): the arguments of dist/cli.js. */
function taskArgs(): string[] {
  const words = (task.command as string).split(/\s+/).concat(task.args ?? []);
  expect(words.slice(0, 2)).toEqual(['entrystub', 'serve']);
  return words.slice(1);
}

/**
 * The task's `serve` arguments for startStub, which would add `--entry direct`:
 * the CLI's default entry model (nommu) made explicit, before the program
 * (everything after the program is the program's own arguments).
 */
function serveArgs(): string[] {
  const a = taskArgs().slice(1);
  return a.includes('--entry') ? a : ['--entry', 'nommu', ...a];
}

/** MI's C-string escaping, for -interpreter-exec console "...". */
const miQuote = (s: string) => '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';

describe('docs/vscode: the launch and task configuration', () => {
  it('is a cppdbg gdb launch against the stub, with the stub as its pre-launch task', () => {
    expect(config).toBeDefined();
    expect(config.request).toBe('launch');
    expect(config.MIMode).toBe('gdb');
    expect(config.miDebuggerServerAddress).toBe('localhost:1234');
    expect(fs.existsSync(subst(config.program))).toBe(true);
    expect(fs.statSync(subst(config.cwd)).isDirectory()).toBe(true);
    expect(task).toBeDefined();
    expect(task.isBackground).toBe(true);
    // the task serves the program the configuration debugs
    expect(path.resolve(ROOT, taskArgs()[1])).toBe(subst(config.program));
  });

  it("the task's problem matcher recognises the stub's start and its errors", async () => {
    const bg = task.problemMatcher.background;
    const stub = await startStub(serveArgs());
    try {
      expect(stub.stderr()).toMatch(new RegExp(bg.beginsPattern));
      // the task listens on 1234; here the stub got a free port
      expect(stub.stderr()).toMatch(new RegExp(bg.endsPattern.replace('1234', String(stub.port))));
    } finally {
      await stub.stop();
    }
    const bad = spawnSync(process.execPath, [CLI, 'serve', '--port', '0', 'no-such-program'], { cwd: ROOT, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    const m = new RegExp(task.problemMatcher.pattern.regexp).exec(bad.stderr.trim());
    expect(m?.[task.problemMatcher.pattern.file]).toBe('no-such-program');
    expect(m?.[task.problemMatcher.pattern.message]).toMatch(/^no such file; give the path of an x86-64 Linux program/);
  });
});

describe.skipIf(!HAVE_GDB)('docs/vscode/launch.json driven as the C/C++ extension drives gdb/MI', () => {
  it('launch, stop at main, stack, variables, registers, next, step, finish, a kernel breakpoint, exit code', async () => {
    const stub = await startStub(serveArgs());
    const mi = new GdbMI();
    const program = subst(config.program);
    const ok = async (cmd: string, want = 'done') => {
      const r = await mi.cmd(cmd);
      expect(r, cmd).toMatch(new RegExp(`^${want}`));
      return r;
    };
    try {
      await mi.wait(/\(gdb\)/);
      // MICore: EnableTargetAsyncOption, then the launch commands in order
      expect(await mi.cmd('-gdb-set mi-async on')).toBe('done');
      for (const sc of config.setupCommands ?? []) {
        const text: string = sc.text;
        const r = await mi.cmd(text.startsWith('-') ? text : `-interpreter-exec console ${miQuote(text)}`);
        if (!sc.ignoreFailures) expect(r, text).toBe('done');
      }
      await ok(`-interpreter-exec console ${miQuote('set pagination off')}`);
      await ok(`-environment-cd ${subst(config.cwd)}`);
      await ok(`-file-exec-and-symbols ${program}`);
      // the architecture query; the adapter looks for "x86-64" in the console output
      await ok(`-interpreter-exec console ${miQuote('show architecture')}`);
      expect(mi.log).toMatch(/~"The target architecture is set to .*x86-64/);
      // the entry breakpoint (stopAtEntry), before connecting
      const entry = await ok('-break-insert main');
      expect(entry).toMatch(/bkpt=\{number="1",type="breakpoint".*func="main",file="gdbdemo\.c",fullname="[^"]*gdbdemo\.c",line="25"/);
      const [host, port] = (config.miDebuggerServerAddress as string).split(':');
      expect(port).toBe('1234');
      // ^connected, and the stop at the first instruction (which the adapter ignores for a gdbserver connection)
      mi.send(`-target-select remote ${host}:${stub.port}`);
      const conn = await mi.wait(/\*stopped,([^\n]*)\n[^]*?\^connected|\^connected[^]*?\*stopped,([^\n]*)\n|\^error[^\n]*/);
      expect(conn[0]).not.toMatch(/^\^error/);
      expect(conn[1] ?? conn[2]).toMatch(/^frame=\{addr="0x[0-9a-f]+",func="_start"/);
      let stop: RegExpExecArray;

      // a breakpoint set in the editor: full path of the open file, mapped back by sourceFileMap
      let editorFile = path.join(ROOT, 'test', 'gdb', 'fixtures', 'gdbdemo.c');
      for (const [built, local] of Object.entries(config.sourceFileMap ?? {}) as [string, string][]) {
        const l = subst(local);
        if (editorFile.startsWith(l + '/')) editorFile = built + editorFile.slice(l.length);
      }
      const bp = await ok(`-break-insert -f ${editorFile}:27`);
      expect(bp).toMatch(/bkpt=\{number="2",type="breakpoint".*func="main",file="gdbdemo\.c".*line="27"/);

      // the start of the session: the adapter resumes from the connection stop
      expect(await mi.cmd('-exec-continue')).toBe('running');
      stop = await mi.wait(/\*stopped,([^\n]*)\n/);
      expect(stop[1]).toMatch(/^reason="breakpoint-hit",disp="keep",bkptno="1",frame=\{addr="0x[0-9a-f]+",func="main",args=\[\{name="argc",value="1"\},\{name="argv",value="0x[0-9a-f]+"\}\],file="gdbdemo\.c",fullname="[^"]*gdbdemo\.c",line="25",arch="i386:x86-64"\},thread-id="1"/);

      // what the editor asks for at a stop: threads, the call stack, the locals, the registers
      const threads = await ok('-thread-info');
      expect(threads).toMatch(/threads=\[\{id="1",target-id="[^"]+".*func="main".*\}\],current-thread-id="1"/);
      const frames = await ok('-stack-list-frames 0 1000');
      // (gdb stops the backtrace at main: "backtrace past-main" is off)
      expect(frames).toMatch(/^done,stack=\[frame=\{level="0",addr="0x[0-9a-f]+",func="main",file="gdbdemo\.c",fullname="[^"]*gdbdemo\.c",line="25",arch="i386:x86-64"\}\]$/);
      const argsList = await ok('-stack-list-arguments 0 0 0');
      expect(argsList).toBe('done,stack-args=[frame={level="0",args=[name="argc",name="argv"]}]');
      const vars = await ok('-stack-list-variables 0');
      expect(vars).toBe('done,variables=[{name="argc",arg="1"},{name="argv",arg="1"},{name="n"},{name="s"}]');
      expect(await ok('-var-create - * "argc"')).toMatch(/name="var1",numchild="0",value="1",type="int"/);
      // argv[0] is the program as the task named it
      expect(await ok('-var-create - * "argv[0]"')).toMatch(new RegExp(`value="0x[0-9a-f]+ \\\\"${taskArgs()[1].replace(/[/.]/g, '\\$&')}\\\\"",type="char \\*"`));
      const names = JSON.parse(/register-names=(\[.*\])/.exec(await ok('-data-list-register-names'))![1]) as string[];
      for (const n of ['rax', 'rip', 'eflags', 'cs', 'orig_rax', 'fs_base', 'xmm0', 'mxcsr']) expect(names).toContain(n);
      const regs = await ok('-data-list-register-values x');
      const reg = (n: string) => new RegExp(`\\{number="${names.indexOf(n)}",value="([^"]*)"\\}`).exec(regs)?.[1];
      const mainAddr = /bkpt=\{[^}]*addr="(0x[0-9a-f]+)"/.exec(entry)![1];
      expect(BigInt(reg('rip')!)).toBe(BigInt(mainAddr));
      expect(reg('cs')).toBe('0x33');
      expect(reg('orig_rax')).toBe('0xffffffffffffffff');

      // Step Over: line 25 -> 26, then over write(2) (a syscall through the entry path) to the editor's breakpoint at 27
      expect(await mi.cmd('-exec-next')).toBe('running');
      stop = await mi.wait(/\*stopped,([^\n]*)\n/);
      expect(stop[1]).toMatch(/^reason="end-stepping-range",frame=\{.*func="main".*line="26"/);
      expect(await ok('-var-create - * "n"')).toMatch(/value="1000",type="long"/);
      expect(await mi.cmd('-exec-next')).toBe('running');
      stop = await mi.wait(/\*stopped,([^\n]*)\n/);
      expect(stop[1]).toMatch(/^reason="breakpoint-hit",disp="keep",bkptno="2",frame=\{.*func="main".*line="27"/);
      await expect.poll(() => stub.stdout()).toContain('gdbdemo: hello\n');

      // Step Into add(), then Step Out with its return value
      expect(await mi.cmd('-exec-step')).toBe('running');
      stop = await mi.wait(/\*stopped,([^\n]*)\n/);
      expect(stop[1]).toMatch(/^reason="end-stepping-range",frame=\{addr="0x[0-9a-f]+",func="add",args=\[\{name="a",value="1"\},\{name="b",value="2"\}\],file="gdbdemo\.c",fullname="[^"]*",line="20"/);
      expect(await ok('-stack-list-frames 0 1000')).toMatch(/^done,stack=\[frame=\{level="0",[^}]*func="add"[^}]*line="20"[^}]*\},frame=\{level="1",[^}]*func="main"[^}]*line="27"[^}]*\}\]$/);
      expect(await mi.cmd('-exec-finish')).toBe('running');
      stop = await mi.wait(/\*stopped,([^\n]*)\n/);
      expect(stop[1]).toMatch(/^reason="function-finished",frame=\{.*func="main".*line="27".*\},.*return-value="3"/);

      // a function breakpoint in the guest kernel: its source and frames, a gdb command from the Debug Console (-exec)
      // gdb puts it at the function's opening brace: the first `{` line after its definition in syscall.c
      const src = fs.readFileSync(path.join(ROOT, 'src/guest/syscall.c'), 'utf8').split('\n');
      const def = src.findIndex((l) => /^\w.*\bdo_syscall_64\(/.test(l));
      const brace = src.findIndex((l, k) => k > def && l === '{') + 1;
      expect(await ok('-break-insert -f do_syscall_64')).toMatch(new RegExp(`bkpt=\\{number="3",.*func="do_syscall_64",file="src/guest/syscall\\.c",.*line="${brace}"`));
      expect(await mi.cmd('-exec-continue')).toBe('running');
      stop = await mi.wait(/\*stopped,([^\n]*)\n/);
      expect(stop[1]).toMatch(/^reason="breakpoint-hit",disp="keep",bkptno="3",frame=\{addr="0x[0-9a-f]+",func="do_syscall_64",args=\[\{name="regs",value="0x[0-9a-f]+ <task_regs>"\}\],file="src\/guest\/syscall\.c",fullname="[^"]*src\/guest\/syscall\.c",line="\d+"/);
      expect(stop[1]).toContain(`line="${brace}"`);
      // the call stack: the kernel's frame, the entry's call into C (a signal frame: src/guest/cfi.h), the program's
      expect(await ok('-stack-list-frames 0 1000')).toMatch(/^done,stack=\[frame=\{level="0",[^}]*func="do_syscall_64"[^}]*\},frame=\{level="1",addr="0x[0-9a-f]+",func="<signal handler called>"\},frame=\{level="2",[^}]*func="_Exit"/);
      expect(await ok('-data-evaluate-expression regs->orig_ax')).toBe('done,value="231"'); // exit_group
      await ok(`-interpreter-exec console ${miQuote('monitor mode')}`);
      expect(mi.log).toContain('@"entry model: nommu\\n"');
      await ok('-break-delete 3');

      // Continue to the end: the exit code is gdbdemo's 3
      expect(await mi.cmd('-exec-continue')).toBe('running');
      stop = await mi.wait(/\*stopped,([^\n]*)\n/);
      expect(stop[1]).toMatch(/^reason="exited",exit-code="03"/);
    } finally {
      await mi.quit();
      await stub.stop();
    }
  });
});
