# gdb commands for `entrystub serve`: the guest kernel's syscall entry path.
#
#   (gdb) source gdb-scripts/entrystub.py     # or auto-loaded: see gdb-scripts/README.md
#   (gdb) ptregs              struct pt_regs of the syscall, fields changed since entry marked
#   (gdb) entry-path          where in the entry path the stop is, and what comes next
#   (gdb) syscall-table [N|NAME|EXPR]
#                             sys_call_table read from guest memory: number -> handler
#   (gdb) set entrystub-snapshot on|off
#                             the copy of pt_regs taken when do_syscall_64 is entered
#
# Everything is read through gdb: the guest kernel image comes with its
# symbols and DWARF types (struct pt_regs, sys_call_table) as a loaded
# object; `monitor mode` is asked only when there is no kernel image (the
# direct entry model). Sourcing this file again replaces the previous copy.

import re

import gdb

# ------------------------------------------------------------------ constants

SLED_PAGE = 0x1000
NR_SYSCALLS_DEFAULT = 462
TAIL_LEN = 14  # movabs $__kernel_vsyscall,%r11 (10); pop %rcx (1); jmp *%r11 (3)
USER_CS, USER_DS = 0x33, 0x2B
KERNEL_RE = re.compile(r"(?:^|/)kernel-(nommu|native)\.elf$")
PT_FIELDS = ["r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8", "ax", "cx",
             "dx", "si", "di", "orig_ax", "ip", "cs", "flags", "sp", "ss"]
ERRNO = {1: "EPERM", 2: "ENOENT", 3: "ESRCH", 4: "EINTR", 5: "EIO", 9: "EBADF", 10: "ECHILD",
         11: "EAGAIN", 12: "ENOMEM", 13: "EACCES", 14: "EFAULT", 17: "EEXIST", 20: "ENOTDIR",
         21: "EISDIR", 22: "EINVAL", 24: "EMFILE", 25: "ENOTTY", 28: "ENOSPC", 29: "ESPIPE",
         32: "EPIPE", 34: "ERANGE", 36: "ENAMETOOLONG", 38: "ENOSYS", 512: "ERESTARTSYS",
         513: "ERESTARTNOINTR", 514: "ERESTARTNOHAND", 516: "ERESTART_RESTARTBLOCK"}
EFLAGS_BITS = [(0, "CF"), (2, "PF"), (4, "AF"), (6, "ZF"), (7, "SF"), (8, "TF"), (9, "IF"),
               (10, "DF"), (11, "OF"), (16, "RF"), (18, "AC"), (21, "ID")]
SYSRET_CHECKS = [
    ("sysret_check_rcx_eq_rip", "RCX slot == RIP slot"),
    ("sysret_check_canonical_rip", "RIP canonical (48-bit)"),
    ("sysret_check_cs", "CS == __USER_CS"),
    ("sysret_check_r11_eq_flags", "R11 slot == EFLAGS slot"),
    ("sysret_check_rf_tf", "neither RF nor TF in R11"),
    ("sysret_check_ss", "SS == __USER_DS"),
]
# labels looked up in the kernel image (the asm ones have no DWARF, only ELF symbols)
KERNEL_LABELS = [
    "__kernel_vsyscall", "entry_SYSCALL_64_after_hwframe", "userspace", "userspace_return",
    "entry_SYSCALL_64", "syscall_return_via_sysret", "entry_SYSRETQ_unsafe_stack",
    "swapgs_restore_regs_and_return_to_usermode", "native_irq_return_iret",
    "do_syscall_64", "syscall_return_slowpath", "interrupt_end", "sys_ni_syscall",
] + [name for name, _ in SYSRET_CHECKS]

U64 = (1 << 64) - 1


def s64(v):
    v &= U64
    return v - (1 << 64) if v >> 63 else v


def hex16(v):
    return "0x%016x" % (v & U64)


def errno_text(v):
    v = s64(v)
    if -4095 <= v < 0:
        return "%d = -%s" % (v, ERRNO.get(-v, "E%d" % -v))
    return str(v)


def styled(text, code):
    """ANSI colour when gdb's styling is on (it is off in batch mode and on dumb terminals)."""
    try:
        on = gdb.parameter("style enabled")
    except gdb.error:
        on = False
    return "\x1b[%sm%s\x1b[0m" % (code, text) if on else text


def symbol_of(addr):
    """'name+off' for an address with a symbol, else ''."""
    try:
        m = re.search(r"<([^>]*)>", gdb.format_address(addr & U64))
    except (gdb.error, OverflowError):
        return ""
    return m.group(1) if m else ""


def read_u64(addr):
    b = bytes(gdb.selected_inferior().read_memory(addr, 8))
    return int.from_bytes(b, "little")


def read_bytes(addr, n):
    try:
        return bytes(gdb.selected_inferior().read_memory(addr, n))
    except gdb.MemoryError:
        return None


# ------------------------------------------------------------------ the machine

class Kernel:
    """The guest kernel image as gdb loaded it: mode, labels, pt_regs, sys_call_table."""

    def __init__(self, objfile, mode):
        self.objfile = objfile
        self.mode = mode
        self._labels = None

    @property
    def labels(self):
        if self._labels is None:
            self._labels = {}
            for name in KERNEL_LABELS:
                try:
                    self._labels[name] = int(gdb.parse_and_eval("(unsigned long)&%s" % name)) & U64
                except gdb.error:
                    pass
        return self._labels

    def contains(self, pc):
        # the image's sections, as gdb relocated them
        try:
            name = gdb.solib_name(pc)
        except gdb.error:
            return False
        return name is not None and (name == self.objfile.filename or KERNEL_RE.search(name) is not None)

    def ptregs_type(self):
        try:
            return gdb.lookup_type("struct pt_regs")
        except gdb.error:
            return None

    def ptregs_addr(self):
        """nommu: current_ptregs (== &task_regs); native: the top of the task's kernel stack."""
        if self.mode == "nommu":
            return int(gdb.parse_and_eval("(unsigned long)current_ptregs")) & U64
        return (int(gdb.parse_and_eval("(unsigned long)current_top_of_stack")) - 8 * len(PT_FIELDS)) & U64

    def read_ptregs(self, addr=None):
        """(address, [(field, value)]) through the DWARF type, or the pt_regs.h layout without it."""
        if addr is None:
            addr = self.ptregs_addr()
        t = self.ptregs_type()
        if t is not None:
            v = gdb.Value(addr).cast(t.pointer()).dereference()
            return addr, [(f.name, int(v[f.name]) & U64) for f in t.fields()]
        raw = bytes(gdb.selected_inferior().read_memory(addr, 8 * len(PT_FIELDS)))
        return addr, [(n, int.from_bytes(raw[8 * k:8 * k + 8], "little")) for k, n in enumerate(PT_FIELDS)]

    def table(self):
        """(address, [handler address]) of sys_call_table, read from guest memory each time."""
        addr = int(gdb.parse_and_eval("(unsigned long)&sys_call_table")) & U64
        n = NR_SYSCALLS_DEFAULT
        try:
            n = int(gdb.parse_and_eval("sizeof(sys_call_table) / sizeof(sys_call_table[0])"))
        except gdb.error:
            pass
        raw = bytes(gdb.selected_inferior().read_memory(addr, 8 * n))
        return addr, [int.from_bytes(raw[8 * k:8 * k + 8], "little") for k in range(n)]

    def nr_syscalls(self):
        try:
            return int(gdb.parse_and_eval("sizeof(sys_call_table) / sizeof(sys_call_table[0])"))
        except gdb.error:
            return NR_SYSCALLS_DEFAULT

    def handler_name(self, nr):
        """The symbol sys_call_table[nr] points at, or None beyond the table."""
        if nr < 0 or nr >= self.nr_syscalls():
            return None
        try:
            addr = int(gdb.parse_and_eval("(unsigned long)&sys_call_table")) & U64
            return symbol_of(read_u64(addr + 8 * nr)) or hex(read_u64(addr + 8 * nr))
        except (gdb.error, gdb.MemoryError):
            return None

    def syscall_name(self, nr):
        h = self.handler_name(nr)
        if h is None:
            return "nr %d" % nr if nr >= 0 else "none"
        return h[len("__x64_sys_"):] if h.startswith("__x64_sys_") else h


def find_kernel():
    """The loaded guest kernel image, or None (direct entry model, or not entrystub)."""
    for o in gdb.objfiles():
        m = KERNEL_RE.search(o.filename or "")
        if m:
            return Kernel(o, m.group(1))
    return None


def monitor_mode():
    try:
        return gdb.execute("monitor mode", to_string=True).strip()
    except gdb.error:
        return ""


def require_process():
    if gdb.selected_inferior().pid == 0:
        raise gdb.GdbError("entrystub: no process (connect with 'target remote :PORT' to entrystub serve first)")


def kernel_or_explain(what):
    """The guest kernel image for a command about `what`, or None after saying why there is none."""
    require_process()
    k = find_kernel()
    if k is None:
        gdb.write(no_kernel_message(what) + "\n")
    return k


def no_kernel_message(what):
    mode = monitor_mode()
    if "direct" in mode:
        return ("entry model direct: no guest kernel, so there is no %s: the host handles each `syscall`\n"
                "instruction in place (monitor ptregs shows the user registers in pt_regs order; serve with\n"
                "--entry nommu or --entry native for the kernel's entry path)" % what)
    return "entrystub: no guest kernel image is loaded, so no %s (%s)" % (what, mode or "is this an entrystub serve target?")


# ------------------------------------------------------------------ where the stop is

class Step:
    def __init__(self, key, title, what):
        self.key, self.title, self.what = key, title, what


def steps_for(mode, hook, handler):
    # the same in every model: the table's stub, and the program again
    host = Step("handler", handler or "__x64_sys_*", "vmcall: the host runs the syscall, the result comes back in rax")
    back = Step("back", "user: back at pt_regs->ip", "rax = the result")
    if mode == "native":
        return [
            Step("user", "user: syscall", "CPL 3 -> 0 through MSR_LSTAR; RCX = return address, R11 = RFLAGS"),
            Step("hwframe", "entry_SYSCALL_64", "swapgs, user RSP to the per-CPU scratch, kernel stack, push ss/sp/flags/cs/ip"),
            Step("regs", "entry_SYSCALL_64_after_hwframe", "push orig_ax, PUSH_AND_CLEAR_REGS (ax = -ENOSYS): pt_regs complete"),
            Step("dispatch", "do_syscall_64", "IRQs on, dispatch through sys_call_table[nr]"),
            host,
            Step("exitwork", "do_syscall_64 -> syscall_return_slowpath", "regs->ax = result, IRQs off, exit work (signal delivery rewrites pt_regs)"),
            Step("checks", "sysret_check_rcx_eq_rip .. sysret_check_ss", "the six v5.8 opportunistic SYSRET checks"),
            Step("sysret", "syscall_return_via_sysret", "POP_REGS (not rcx/r11), trampoline stack, swapgs"),
            Step("sysretq", "entry_SYSRETQ_unsafe_stack: sysretq", "RIP = RCX, RFLAGS = R11, CPL 0 -> 3"),
            Step("iret", "swapgs_restore_regs_and_return_to_usermode", "a check failed: POP_REGS (all), skip orig_ax, swapgs"),
            Step("iretq", "native_irq_return_iret: iretq", "RIP, CS, RFLAGS, RSP, SS from the IRET frame"),
            back,
        ]
    if hook == "seccomp":
        first = [Step("user", "user: syscall (trapped)", "the seccomp hook: RCX = next instruction, RIP = __kernel_vsyscall, nothing pushed")]
    else:
        first = [
            Step("user", "user: call *%rax", "the rewritten syscall (zpoline at exec, lazy on first use); rax = nr"),
            Step("sled", "trampoline: nop sled at address 0", "entered at offset nr; EB 7F at 214 skips 127 nops"),
            Step("tail", "trampoline tail", "movabs $__kernel_vsyscall,%r11; pop %rcx; jmp *%r11"),
        ]
    return first + [
        Step("build", "__kernel_vsyscall", "build pt_regs at current_ptregs: ss=0, sp, flags, cs=0, ip=rcx, orig_ax, PUSH_AND_CLEAR_REGS"),
        Step("call", "__kernel_vsyscall: call do_syscall_64", "pt_regs complete; switched to current_top_of_stack"),
        Step("dispatch", "do_syscall_64", "dispatch through sys_call_table[nr]"),
        host,
        Step("exitwork", "do_syscall_64 -> syscall_return_slowpath", "regs->ax = result, signals_enabled = 0; then jmp userspace"),
        Step("userspace", "userspace", "cld; interrupt_end (signal delivery rewrites pt_regs); POP_REGS; pop %rcx; pop %rsp"),
        Step("jmp", "userspace_return: jmp *%rcx", "back to the program: r11 = user RSP at entry, RFLAGS not restored"),
        back,
    ]


class Where:
    """The stop located on the entry path.

    phase: 'none' (in the program, no syscall), 'entering' (at the syscall
    instruction, in the sled or the tail: pt_regs still holds the previous
    syscall's), 'building' (the entry code is pushing the frame), 'complete'
    (pt_regs belongs to this syscall, until the return instruction), or
    'returned' (at pt_regs->ip just after the return)."""

    def __init__(self):
        self.kernel = None
        self.mode = None
        self.hook = None
        self.pc = 0
        self.key = None  # a Step key, or None outside any syscall
        self.detail = ""
        self.next = ""
        self.nr = None
        self.phase = "none"
        self.building_from = None  # while building: the lowest pt_regs slot written so far

    def at(self, key, phase, nr, detail, nxt=""):
        self.key, self.phase, self.nr, self.detail, self.next = key, phase, nr, detail, nxt
        return self


def insn_at(pc):
    try:
        arch = gdb.newest_frame().architecture()
        d = arch.disassemble(pc, count=1)[0]
        return d["asm"], d["length"]
    except (gdb.error, gdb.MemoryError, IndexError):
        return "", 0


def function_range(fn_addr, limit=4096):
    """(address, instruction) from fn_addr up to the first ret, as gdb's disassembler sees them."""
    arch = gdb.newest_frame().architecture()
    out = []
    pc = fn_addr
    for _ in range(limit):
        try:
            d = arch.disassemble(pc, count=1)[0]
        except (gdb.error, gdb.MemoryError):
            break
        out.append((pc, d["asm"]))
        if d["asm"].split()[0] in ("ret", "retq"):
            break
        pc += d["length"]
    return out


def detect_hook(k):
    """nommu: the hook `monitor mode` names; failing that, zpoline/lazy when the
    trampoline page is there (it can be read through the stub), else seccomp."""
    if k.mode != "nommu":
        return None
    m = re.search(r"^hook: (\w+)", monitor_mode(), re.M)
    if m:
        return m.group(1)
    b = read_bytes(0, 2)
    if b is None:
        return "seccomp"
    return "zpoline/lazy"


def locate():
    require_process()
    w = Where()
    k = find_kernel()
    w.kernel = k
    frame = gdb.newest_frame()
    w.pc = pc = int(frame.pc()) & U64
    if k is None:
        w.mode = "direct"
        return w
    w.mode = k.mode
    w.hook = detect_hook(k)
    reg = lambda r: int(frame.read_register(r)) & U64  # noqa: E731
    rax, rsp = reg("rax"), reg("rsp")
    L = k.labels
    ptregs_at = k.ptregs_addr()
    ptregs_end = ptregs_at + 8 * len(PT_FIELDS)
    regs = dict(k.read_ptregs(ptregs_at)[1])
    cur_nr = s64(regs["orig_ax"])
    name = k.syscall_name

    # --- the trampoline page (nommu, zpoline/lazy)
    if k.mode == "nommu" and w.hook != "seccomp" and 0 <= pc < SLED_PAGE:
        n = k.nr_syscalls()
        if n <= pc < n + TAIL_LEN:
            what = {0: "movabs $__kernel_vsyscall,%r11", 10: "pop %rcx: the return address `call *%rax` pushed",
                    11: "jmp *%r11 to __kernel_vsyscall"}.get(pc - n, "")
            return w.at("tail", "entering", rax, "offset 0x%x of the trampoline: %s" % (pc, what),
                        "__kernel_vsyscall builds pt_regs" if pc - n == 11 else "the rest of the tail, then __kernel_vsyscall")
        if pc >= n:
            return w.at("sled", "entering", rax, "the second sled past the tail (rax = %d is beyond the table)" % rax,
                        "nops to the jmp back to the tail at 0x%x" % n)
        detail = "offset %d of the sled (entered at offset rax = %d: %s)" % (pc, rax, name(rax))
        if pc in (214, 215):
            nxt = "the EB 7F short jump to offset 343, then nops to the tail at 0x%x" % n
        elif pc < 214:
            nxt = "%d nops to the EB 7F at 214 (jumps to 343), then %d more to the tail at 0x%x" % (214 - pc, n - 343, n)
        else:
            nxt = "%d nops to the tail at 0x%x" % (n - pc, n)
        return w.at("sled", "entering", rax, detail, nxt)

    # --- the guest kernel image
    if k.contains(pc):
        sym = symbol_of(pc)
        base = sym.split("+")[0]
        asm, _ = insn_at(pc)
        here = "%s: %s" % (sym or hex(pc), asm)
        # the nearest label at or below pc: labels inside the asm functions have no DWARF of their own
        lab, lab_addr = None, -1
        for nm, a in L.items():
            if lab_addr < a <= pc:
                lab, lab_addr = nm, a
        native = k.mode == "native"

        if base.startswith("__x64_sys_") or base == "sys_ni_syscall":
            return w.at("handler", "complete", cur_nr, here,
                        "return -ENOSYS to do_syscall_64" if base == "sys_ni_syscall"
                        else "vmcall: the host runs %s(%d); then ret to do_syscall_64" % (name(cur_nr), cur_nr)
                        if asm.startswith("mov") or asm.startswith("vmcall") else "ret to do_syscall_64")
        if base == "do_syscall_64":
            call_at = indirect_call_in(L.get("do_syscall_64"))
            if call_at is None or pc <= call_at:
                h = k.handler_name(cur_nr)
                return w.at("dispatch", "complete", cur_nr, here,
                            "sys_call_table[%d] -> %s" % (cur_nr, h) if h is not None
                            else "nr %d >= NR_syscalls (%d): no call, ax stays -ENOSYS" % (cur_nr, k.nr_syscalls()))
            return w.at("exitwork", "complete", cur_nr, here + " (regs->ax = %s)" % errno_text(regs["ax"]),
                        "syscall_return_slowpath, then " + ("the SYSRET checks" if native else "jmp userspace"))
        if base == "syscall_return_slowpath":
            return w.at("exitwork", "complete", cur_nr, here,
                        "exit work (signal delivery may rewrite pt_regs), then the SYSRET checks" if native
                        else "back to do_syscall_64 and __kernel_vsyscall's jmp userspace")
        if base == "interrupt_end":
            return w.at("userspace", "complete", cur_nr, here + " (called from userspace)",
                        "pending signals are delivered by rewriting pt_regs; then POP_REGS")

        def building(key, nxt):
            w.at(key, "building", rax, here, nxt)
            w.building_from = rsp if ptregs_at <= rsp <= ptregs_end else ptregs_end
            return w

        if lab in ("__kernel_vsyscall", "entry_SYSCALL_64"):
            return building("build" if not native else "hwframe",
                            "the interrupt frame (ss, sp, flags, cs, ip), then orig_ax and PUSH_AND_CLEAR_REGS")
        if lab == "entry_SYSCALL_64_after_hwframe":
            if ptregs_at < rsp <= ptregs_end:
                return building("build" if not native else "regs", "the rest of PUSH_AND_CLEAR_REGS, then do_syscall_64")
            if not native and asm.startswith("jmp"):
                return w.at("exitwork", "complete", cur_nr, here + " (do_syscall_64 returned; regs->ax = %s)" % errno_text(regs["ax"]),
                            "userspace")
            return w.at("call" if not native else "regs", "complete", cur_nr,
                        here + " (pt_regs complete at 0x%x)" % ptregs_at,
                        "do_syscall_64(regs)" if asm.startswith("call") else "call do_syscall_64")
        if lab == "userspace":
            return w.at("userspace", "complete", cur_nr, here,
                        "interrupt_end (pending signals rewrite pt_regs), then POP_REGS" if "interrupt_end" in asm or asm.startswith(("cld", "and"))
                        else "POP_REGS, pop %rcx (ip), pop %rsp, then jmp *%rcx")
        if lab == "userspace_return":
            rcx = reg("rcx")
            return w.at("jmp", "complete", cur_nr, here, "rip = rcx = 0x%x%s in the program" % (rcx, fmt_sym(rcx)))
        checks = [c for c, _ in SYSRET_CHECKS]
        if lab in checks:
            i = checks.index(lab)
            route, why = predict_sysret(k)
            return w.at("checks", "complete", cur_nr,
                        "check %d of 6, %s: %s; %s" % (i + 1, lab, SYSRET_CHECKS[i][1], asm),
                        "all six pass: syscall_return_via_sysret, sysretq" if route == "sysretq"
                        else "check %d fails (%s): swapgs_restore_regs_and_return_to_usermode, iretq" % why)
        if lab == "syscall_return_via_sysret":
            return w.at("sysret", "complete", cur_nr, "syscall_return_via_sysret: " + asm,
                        "entry_SYSRETQ_unsafe_stack: sysretq")
        if lab == "entry_SYSRETQ_unsafe_stack":
            rcx, r11 = reg("rcx"), reg("r11")
            return w.at("sysretq", "complete", cur_nr, "entry_SYSRETQ_unsafe_stack: " + asm,
                        "CPL 3 at rip = rcx = 0x%x%s, rflags = r11 = 0x%x" % (rcx, fmt_sym(rcx), r11))
        if lab == "swapgs_restore_regs_and_return_to_usermode":
            why = predict_sysret(k)[1]
            return w.at("iret", "complete", cur_nr, here + ("" if why is None else " (check %d failed: %s)" % why),
                        "native_irq_return_iret: iretq")
        if lab == "native_irq_return_iret":
            rip = read_bytes(rsp, 8)
            nxt = "CPL 3 from the IRET frame"
            if rip is not None:
                rip = int.from_bytes(rip, "little")
                nxt += ": rip = 0x%x%s" % (rip, fmt_sym(rip))
            return w.at("iretq", "complete", cur_nr, "native_irq_return_iret: " + asm, nxt)
        return w.at(None, "none", None, "in the guest kernel at %s, outside the syscall path" % (sym or hex(pc)))

    # --- the program
    code = read_bytes(pc, 2) or b""
    if code == b"\x0f\x05":
        at_sys = "at `syscall` (rax = %d: %s)" % (rax, name(rax))
        if k.mode == "native":
            return w.at("user", "entering", rax, at_sys, "CPL 0 at entry_SYSCALL_64 (MSR_LSTAR)")
        if w.hook == "seccomp":
            return w.at("user", "entering", rax, at_sys, "the trap: RCX = 0x%x, RIP = __kernel_vsyscall" % (pc + 2))
        nxt = {"lazy": "it traps and is rewritten to call *%rax",
               "zpoline": "it bypasses the guest kernel (code written at run time: use --hook lazy)"}.get(
            w.hook, "lazy: it traps and is rewritten to call *%rax; zpoline: it bypasses the guest kernel")
        return w.at("user", "entering", rax, "at a `syscall` not rewritten at exec (rax = %d: %s)" % (rax, name(rax)), nxt)
    if code == b"\xff\xd0" and k.mode == "nommu" and w.hook != "seccomp" and rax < SLED_PAGE:
        return w.at("user", "entering", rax, "at `call *%%rax`, a rewritten syscall (rax = %d: %s)" % (rax, name(rax)),
                    "the sled at offset %d" % rax)
    if cur_nr >= 0 and pc == regs["ip"]:
        return w.at("back", "returned", cur_nr, "at pt_regs->ip 0x%x%s: %s returned %s"
                    % (pc, fmt_sym(pc), name(cur_nr), errno_text(reg("rax"))), "the program goes on")
    detail = "in the program at 0x%x%s, not in a syscall" % (pc, fmt_sym(pc))
    if cur_nr >= 0:
        detail += "; the last one was %s (%d)" % (name(cur_nr), cur_nr)
    return w.at(None, "none", None, detail)


def fmt_sym(addr):
    s = symbol_of(addr)
    return " <%s>" % s if s else ""


_indirect_calls = {}


def indirect_call_in(fn_addr):
    """Address of do_syscall_64's `call *...` (the dispatch through sys_call_table)."""
    if fn_addr is None:
        return None
    if fn_addr not in _indirect_calls:
        at = None
        for a, asm in function_range(fn_addr):
            if asm.startswith("call") and "*" in asm:
                at = a
                break
        _indirect_calls[fn_addr] = at
    return _indirect_calls[fn_addr]


def predict_sysret(k):
    """('sysretq', None) or ('iretq', (check number, why)) from pt_regs, as the six checks will decide."""
    r = dict(k.read_ptregs()[1])
    ip = r["ip"]
    if r["cx"] != ip:
        return "iretq", (1, "RCX != RIP")
    if s64(ip) >= 1 << 47 or s64(ip) < -(1 << 47):
        return "iretq", (2, "RIP not canonical")
    if r["cs"] != USER_CS:
        return "iretq", (3, "CS != __USER_CS")
    if r["r11"] != r["flags"]:
        return "iretq", (4, "R11 != RFLAGS")
    if r["r11"] & 0x10100:
        return "iretq", (5, "RF or TF set")
    if r["ss"] != USER_DS:
        return "iretq", (6, "SS != __USER_DS")
    return "sysretq", None


# ------------------------------------------------------------------ the entry snapshot

class State:
    def __init__(self):
        self.snapshot = None  # {"addr": pt_regs address, "regs": {field: value}} from the last do_syscall_64
        self.bp = None
        self.handlers = []

    def clear(self, *_):
        self.snapshot = None


class EntrySnapshot(gdb.Breakpoint):
    """A silent internal breakpoint on do_syscall_64's first instruction, where pt_regs is first
    complete: it copies pt_regs and lets the program go on (stop() returns False)."""

    def __init__(self, spec):
        super().__init__(spec, type=gdb.BP_BREAKPOINT, internal=True)
        self.silent = True

    def stop(self):
        k = find_kernel()
        if k is not None:
            try:
                addr, regs = k.read_ptregs()
                STATE.snapshot = {"addr": addr, "regs": dict(regs)}
            except (gdb.error, gdb.MemoryError):
                STATE.snapshot = None
        return False


def snapshot_enabled():
    try:
        return bool(gdb.parameter("entrystub-snapshot"))
    except (gdb.error, RuntimeError):
        return True


def ensure_snapshot_bp(*_):
    if not snapshot_enabled():
        return
    if STATE.bp is not None and STATE.bp.is_valid():
        return
    if find_kernel() is None:
        return
    try:
        addr = int(gdb.parse_and_eval("(unsigned long)&do_syscall_64")) & U64
    except gdb.error:
        return
    STATE.bp = EntrySnapshot("*0x%x" % addr)


def drop_snapshot_bp():
    if STATE.bp is not None and STATE.bp.is_valid():
        STATE.bp.delete()
    STATE.bp = None
    STATE.snapshot = None


class SnapshotParam(gdb.Parameter):
    """Copy struct pt_regs when do_syscall_64 is entered (a silent internal breakpoint), so that
`ptregs` can mark the fields changed since entry. On by default."""

    set_doc = "Set whether entrystub.py copies pt_regs at do_syscall_64."
    show_doc = "Show whether entrystub.py copies pt_regs at do_syscall_64."

    def __init__(self):
        super().__init__("entrystub-snapshot", gdb.COMMAND_DATA, gdb.PARAM_BOOLEAN)
        self.value = True

    def get_set_string(self):
        if self.value:
            ensure_snapshot_bp()
        else:
            drop_snapshot_bp()
        return ""

    def get_show_string(self, svalue):
        return "entrystub-snapshot (copy pt_regs when do_syscall_64 is entered) is %s." % svalue


# ------------------------------------------------------------------ commands

def field_note(name, value, k):
    if name == "ip":
        return symbol_of(value)
    if name == "sp":
        return symbol_of(value)
    if name == "orig_ax":
        v = s64(value)
        return "no syscall" if v == -1 else k.syscall_name(v)
    if name == "ax":
        v = s64(value)
        return errno_text(v) if v < 0 else str(v)
    if name == "flags":
        return "[ " + " ".join(n for b, n in EFLAGS_BITS if value >> b & 1) + " ]"
    if name == "cs":
        return {USER_CS: "__USER_CS", 0: "0 (UML: no selectors)" if k.mode == "nommu" else "0"}.get(value, "")
    if name == "ss":
        return {USER_DS: "__USER_DS", 0: "0 (UML: no selectors)" if k.mode == "nommu" else "0"}.get(value, "")
    return ""


class PtregsCommand(gdb.Command):
    """struct pt_regs of the current (or last) syscall, from the guest kernel.

Usage: ptregs

A table of the fields (the DWARF type of the guest kernel image), their hex
values and, for ip and sp, the symbol. Fields that differ from the copy taken
when do_syscall_64 was entered are marked `*` (and coloured when gdb's
styling is on), with their value at entry: ax goes from -ENOSYS to the
result, signal delivery on the way out rewrites ip, sp, di, si, dx...
While __kernel_vsyscall / entry_SYSCALL_64 is still building the frame, the
slots pushed so far are marked `+` and the others still hold the previous
syscall's values. nommu: pt_regs is task_regs (current_ptregs); native: the
top of the task's kernel stack (current_top_of_stack - 168)."""

    def __init__(self):
        super().__init__("ptregs", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        k = kernel_or_explain("struct pt_regs")
        if k is None:
            return
        w = locate()
        addr, regs = k.read_ptregs()
        vals = dict(regs)
        nr = s64(vals.get("orig_ax", -1))
        snap = STATE.snapshot
        building = w.phase == "building"
        compare = (snap is not None and snap["addr"] == addr and not building and nr != -1
                   and s64(snap["regs"].get("orig_ax", -1)) == nr)
        gdb.write("struct pt_regs at 0x%x%s (%s%s)\n" % (addr, fmt_sym(addr), k.mode, ", hook %s" % w.hook if w.hook else ""))
        if building:
            gdb.write("being built for syscall %d (%s): + = pushed by this entry so far, the other slots still hold the previous syscall's\n"
                      % (w.nr, k.syscall_name(w.nr)))
        elif nr == -1:
            gdb.write("no syscall yet (orig_ax = -1)\n")
        elif w.phase == "complete":
            step = next((s for s in steps_for(k.mode, w.hook, None) if s.key == w.key), None)
            gdb.write("syscall %d (%s), in progress%s\n" % (nr, k.syscall_name(nr), ": " + step.title if step else ""))
        else:
            gdb.write("the last syscall, %d (%s), has returned%s\n" % (
                nr, k.syscall_name(nr),
                "; %d (%s) is entering and has not written pt_regs yet" % (w.nr, k.syscall_name(w.nr)) if w.phase == "entering" else ""))
        if not building and nr != -1:
            if compare:
                gdb.write("* = changed since entry (the copy taken when do_syscall_64 was entered)\n")
            elif not snapshot_enabled():
                gdb.write("(no copy from entry: set entrystub-snapshot on)\n")
            else:
                gdb.write("(no copy from entry for this syscall: entrystub.py was loaded after it entered)\n")
        gdb.write("    %-8s %-18s  %s\n" % ("field", "value", "notes"))
        for i, (name, value) in enumerate(regs):
            mark = " "
            note = field_note(name, value, k)
            if building:
                if addr + 8 * i >= w.building_from:
                    mark = "+"
            elif compare and snap["regs"].get(name) != value:
                mark = "*"
                old = snap["regs"].get(name, 0)
                on = field_note(name, old, k)
                note = (note + "; " if note else "") + "at entry " + hex16(old) + (" " + on if on else "")
            line = "  %s %-8s %s  %s" % (mark, name, hex16(value), note)
            gdb.write((styled(line.rstrip(), "1;31") if mark == "*" else line.rstrip()) + "\n")


class EntryPathCommand(gdb.Command):
    """Where the current stop is on the syscall entry path, and what comes next.

Usage: entry-path

Lists the steps of the entry model (nommu with the zpoline/lazy trampoline
or the seccomp trap, or native entry_SYSCALL_64 with its SYSRET/IRET
choice), marks the current one with =>, and says what the next instruction
does."""

    def __init__(self):
        super().__init__("entry-path", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        w = locate()
        if w.mode == "direct":
            gdb.write(no_kernel_message("entry path") + "\n")
            return
        k = w.kernel
        handler = k.handler_name(w.nr) if w.nr is not None and w.nr >= 0 else None
        steps = steps_for(w.mode, w.hook, handler)
        model = w.mode + (", hook " + ("seccomp (syscall traps)" if w.hook == "seccomp" else w.hook + " (call *%rax into the trampoline at 0)")
                          if w.mode == "nommu" else ": SYSCALL through MSR_LSTAR, SYSRET or IRET")
        title = "entry path: %s" % model
        if w.nr is not None and w.key is not None:
            title += "; syscall %d (%s)" % (w.nr, k.syscall_name(w.nr))
        gdb.write(title + "\n")
        route = None
        if w.mode == "native" and w.key in ("checks", "sysret", "sysretq", "iret", "iretq"):
            route = "iret" if w.key in ("iret", "iretq") else ("sysret" if w.key in ("sysret", "sysretq") else predict_sysret(k)[0][:-1])
        for n, s in enumerate(steps, 1):
            cur = s.key == w.key
            skipped = (route == "sysret" and s.key in ("iret", "iretq")) or (route == "iret" and s.key in ("sysret", "sysretq"))
            line = "%s %2d. %-44s %s%s" % ("=>" if cur else "  ", n, s.title, s.what, "  (not taken)" if skipped else "")
            gdb.write((styled(line, "1") if cur else line) + "\n")
        gdb.write("now:  %s\n" % w.detail)
        if w.next:
            gdb.write("next: %s\n" % w.next)


class SyscallTableCommand(gdb.Command):
    """sys_call_table of the guest kernel, read from memory: number -> handler.

Usage: syscall-table            the whole table, compactly (runs of sys_ni_syscall folded)
       syscall-table N          entry N
       syscall-table NAME       the entries whose handler is __x64_sys_NAME (or NAME)
       syscall-table EXPR       entry EXPR, e.g. $orig_rax"""

    def __init__(self):
        super().__init__("syscall-table", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        k = kernel_or_explain("sys_call_table")
        if k is None:
            return
        addr, table = k.table()
        names = [symbol_of(h) for h in table]
        arg = arg.strip()
        if not arg:
            self.whole(addr, table, names)
            return
        nrs = None
        if re.fullmatch(r"-?(0x[0-9a-fA-F]+|\d+)", arg):
            nrs = [int(arg, 0)]
        else:
            want = {arg, "__x64_sys_" + arg}
            if arg.startswith("sys_") and arg != "sys_ni_syscall":
                want.add("__x64_" + arg)
            nrs = [n for n, s in enumerate(names) if s in want]
            if not nrs:
                try:
                    nrs = [s64(int(gdb.parse_and_eval(arg)))]
                except gdb.error:
                    raise gdb.GdbError("syscall-table: no sys_call_table entry points at %s (or __x64_sys_%s)" % (arg, arg))
        for n in nrs:
            if 0 <= n < len(table):
                h = table[n]
                gdb.write("sys_call_table[%d] = 0x%x%s\n" % (n, h, " <%s>" % names[n] if names[n] else ""))
            else:
                gdb.write("%d: beyond sys_call_table (NR_syscalls = %d): do_syscall_64 makes no call, ax stays -ENOSYS\n"
                          % (n, len(table)))

    def whole(self, addr, table, names):
        gdb.write("sys_call_table at 0x%x: %d entries (NR_syscalls); handlers __x64_sys_NAME shown as NAME\n"
                  % (addr, len(table)))
        width = gdb.parameter("width") or 120
        cells = []

        def flush():
            if not cells:
                return
            cw = max(len(c) for c in cells) + 2
            per = max(1, int(width) // cw)
            for i in range(0, len(cells), per):
                gdb.write("  " + "".join(c.ljust(cw) for c in cells[i:i + per]).rstrip() + "\n")
            del cells[:]

        n = 0
        while n < len(table):
            s = names[n]
            if s == "sys_ni_syscall":
                e = n
                while e + 1 < len(table) and names[e + 1] == "sys_ni_syscall":
                    e += 1
                if e > n:
                    flush()
                    gdb.write("  %d-%d: sys_ni_syscall (-ENOSYS), %d entries\n" % (n, e, e - n + 1))
                    n = e + 1
                    continue
            label = s[len("__x64_sys_"):] if s.startswith("__x64_sys_") else (s or "0x%x" % table[n])
            cells.append("%3d %s" % (n, label))
            n += 1
        flush()


# ------------------------------------------------------------------ (re)registration

def _on_new_objfile(ev):
    if KERNEL_RE.search(ev.new_objfile.filename or ""):
        ensure_snapshot_bp()


def _on_stop(ev):
    # the breakpoint may have been deleted with `delete` (internal ones are not) or the objfile reloaded
    ensure_snapshot_bp()


def _on_exited(ev):
    STATE.clear()


def _unload_previous():
    prev = getattr(gdb, "_entrystub_state", None)
    if prev is None:
        return
    for registry, fn in prev.handlers:
        try:
            registry.disconnect(fn)
        except (ValueError, RuntimeError):
            pass
    if prev.bp is not None and prev.bp.is_valid():
        prev.bp.delete()


_unload_previous()
STATE = State()
gdb._entrystub_state = STATE
for _registry, _fn in ((gdb.events.new_objfile, _on_new_objfile), (gdb.events.stop, _on_stop),
                       (gdb.events.exited, _on_exited), (gdb.events.clear_objfiles, STATE.clear)):
    _registry.connect(_fn)
    STATE.handlers.append((_registry, _fn))
SnapshotParam()
PtregsCommand()
EntryPathCommand()
SyscallTableCommand()
try:
    if gdb.selected_inferior().pid != 0:
        ensure_snapshot_bp()
except gdb.error:
    pass
