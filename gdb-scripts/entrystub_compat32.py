# A 32-bit program's half, for gdb 13 connected to `entrystub serve` (loaded by entrystub.py).
#
# gdb 13 keeps one architecture per connection, and the stub's target description is i386:x86-64,
# the guest kernel's (README: gdb and a 32-bit program). So gdb's own disassembler reads 32-bit code
# as 64-bit, and gdb's vDSO support (an image read from memory at AT_SYSINFO_EHDR) does not take an
# i386 image, and its unwinder reads i386 CFI in the x86-64 register numbering. This module adds
# the three, for a process whose auxiliary vector has AT_SYSINFO (Linux
# gives it to 32-bit programs only: the address of __kernel_vsyscall):
#   - a disassembler (gdb 13's Python disassembler API) that shows the user half of a 32-bit
#     process as 32-bit code, decoded by the stub (`monitor disassemble32 ADDR att|intel`), the
#     flavor gdb is set to, branch targets named as gdb names them; the kernel's half (above
#     4 GiB) stays with gdb's own disassembler;
#   - the 32-bit vDSO's symbols (__kernel_vsyscall, __kernel_sigreturn, __kernel_rt_sigreturn),
#     read from the process's memory at AT_SYSINFO_EHDR with add-symbol-file-from-memory, as gdb
#     reads a 64-bit program's vDSO, so `break __kernel_vsyscall` resolves;
#   - an unwinder for 32-bit frames (below).

import re
import sys

import gdb
import gdb.disassembler

AT_SYSINFO = 32
AT_SYSINFO_EHDR = 33
U32_END = 1 << 32


class Process32:
    """What the auxiliary vector says of the selected process, read again when the process or its
    program changes (an exec, a new inferior)."""

    def __init__(self):
        self.key = None
        self.sysinfo = None
        self.ehdr = None

    def refresh(self):
        inf = gdb.selected_inferior()
        if inf.pid == 0:
            self.key, self.sysinfo, self.ehdr = None, None, None
            return
        key = (inf.num, inf.pid, gdb.current_progspace().filename)
        if key == self.key:
            return
        self.key, self.sysinfo, self.ehdr = key, None, None
        try:
            auxv = gdb.execute("info auxv", to_string=True)
        except gdb.error:
            return
        for line in auxv.splitlines():
            m = re.match(r"(\d+)\s+\S+\s.*?(0x[0-9a-f]+)\s*$", line)
            if m and int(m.group(1)) == AT_SYSINFO:
                self.sysinfo = int(m.group(2), 16)
            elif m and int(m.group(1)) == AT_SYSINFO_EHDR:
                self.ehdr = int(m.group(2), 16)

    def is32(self):
        self.refresh()
        return self.sysinfo is not None

    def forget(self, *_):
        self.key = None


PROCESS = Process32()


def _branch_target_named(text):
    """gdb's `0x8049630 <__x86.get_pc_thunk.bx>`: a direct branch's target with its symbol."""
    m = re.search(r"(0x[0-9a-f]+)$", text)
    if not m or not re.match(r"(?:call|j\w+|loop\w*)\s", text):
        return text
    try:
        where = re.search(r"<([^>]*)>", gdb.format_address(int(m.group(1), 16)))
    except gdb.error:
        where = None
    return "%s <%s>" % (text, where.group(1)) if where else text


class Compat32Disassembler(gdb.disassembler.Disassembler):
    def __init__(self):
        super().__init__("entrystub-compat32")

    def __call__(self, info):
        if info.address >= U32_END or not PROCESS.is32():
            return None  # gdb's own disassembler: 64-bit code
        flavor = "intel" if gdb.parameter("disassembly-flavor") == "intel" else "att"
        try:
            out = gdb.execute("monitor disassemble32 0x%x %s" % (info.address, flavor), to_string=True)
        except gdb.error:
            return None
        m = re.match(r"(\d+) (.*)$", out.strip())
        if not m:
            return None
        return gdb.disassembler.DisassemblerResult(int(m.group(1)), _branch_target_named(m.group(2)))


def ensure_vdso32(*_):
    """The vDSO's symbols, once per process image (an objfile already covering the vDSO's
    __kernel_vsyscall is the one loaded before)."""
    try:
        if not PROCESS.is32() or PROCESS.ehdr is None:
            return
        if "read from target memory" in gdb.execute("info symbol 0x%x" % PROCESS.sysinfo, to_string=True):
            return
        gdb.execute("add-symbol-file-from-memory 0x%x" % PROCESS.ehdr, to_string=True)
    except gdb.error:
        pass


# the shared objects of a dynamically linked 32-bit program whose symbols were added: host path -> load bias
LIBRARIES = {}


def ensure_libraries32(ev=None):
    """The symbols of a dynamically linked 32-bit program's libraries (ld-linux.so.2, libc.so.6, what
    dlopen loaded): gdb lists them from the stub's link map but refuses an i386 shared object as a
    solib under the x86-64 description, so each is added with add-symbol-file at its load bias (l_addr),
    as gdb's solib code would. Read again at each stop but a plain step's (dlopen adds objects)."""
    if ev is not None and type(ev) is gdb.StopEvent:
        return
    try:
        if not PROCESS.is32():
            return
        out = gdb.execute("maint packet qXfer:libraries-svr4:read::0,ffff", to_string=True)
    except gdb.error:
        return
    for m in re.finditer(r'<library name="([^"]+)" lm="0x[0-9a-f]+" l_addr="(0x[0-9a-f]+)"', out):
        name, bias = m.group(1), int(m.group(2), 16)
        if not name.startswith("/") or name.startswith("/entrystub/") or LIBRARIES.get(name) == bias:
            continue
        try:
            gdb.execute("add-symbol-file target:%s -o 0x%x" % (name, bias), to_string=True)
        except gdb.error:
            continue
        LIBRARIES[name] = bias
        TABLES.forget()


def forget_libraries(*_):
    LIBRARIES.clear()


# ------------------------------------------------------------------ catch syscall with the i386 numbers
#
# gdb names syscalls from <data-directory>/syscalls/<the architecture's file>: amd64-linux.xml under
# the stub's x86-64 description, whatever the process. For a 32-bit process this module points gdb
# at a data directory of its own, the real one but for syscalls/amd64-linux.xml, which is gdb's own
# i386-linux.xml, and asks the stub to number a 32-bit task's calls by their i386 numbers (`monitor
# syscall-numbers32 i386`; by default it reports an i386 call under its x86-64 counterpart, which
# plain gdb names, and a call without one cannot be caught). gdb reads the table again when the data
# directory changes (xml-syscall.c), so names follow the selected process. A catchpoint keeps the
# numbers it was made with, as gdb's do when a native exec crosses between the ABIs: made for a
# 32-bit process, `catch syscall write` is 4, and after an exec into a 64-bit program it catches
# that program's call 4 (stat), under that name.

import atexit
import os
import shutil
import tempfile

REAL_DATA_DIRECTORY_LINK = "entrystub-real-data-directory"


class SyscallTable:
    def __init__(self):
        self.real = None
        self.overlay = None
        self.told = None  # (the process's key, the numbering) the stub was last told

    def forget(self, *_):
        self.told = None

    def _real(self):
        cur = gdb.parameter("data-directory")
        link = os.path.join(cur, REAL_DATA_DIRECTORY_LINK)  # a re-sourced copy finds its predecessor's overlay
        return os.readlink(link) if os.path.islink(link) else cur

    def _make_overlay(self):
        real = self.real
        i386 = os.path.join(real, "syscalls", "i386-linux.xml")
        if not os.path.isfile(i386):
            return None
        d = tempfile.mkdtemp(prefix="entrystub-gdb-data-")
        atexit.register(shutil.rmtree, d, True)
        for e in os.listdir(real):
            if e != "syscalls":
                os.symlink(os.path.join(real, e), os.path.join(d, e))
        os.mkdir(os.path.join(d, "syscalls"))
        for e in os.listdir(os.path.join(real, "syscalls")):
            os.symlink(i386 if e == "amd64-linux.xml" else os.path.join(real, "syscalls", e), os.path.join(d, "syscalls", e))
        os.symlink(real, os.path.join(d, REAL_DATA_DIRECTORY_LINK))
        return d

    def follow(self, *_):
        """gdb's table and the stub's numbering, as the selected process's ABI wants them."""
        try:
            is32 = PROCESS.is32()
            if self.real is None:
                self.real = self._real()
            if is32 and self.overlay is None:
                self.overlay = self._make_overlay()
            want = self.overlay if is32 and self.overlay else self.real
            if gdb.parameter("data-directory") != want:
                gdb.execute("set data-directory %s" % want, to_string=True)
            if PROCESS.key is None:
                return
            told = (PROCESS.key, "i386" if want is self.overlay else "x86-64")
            if told != self.told:
                gdb.execute("monitor syscall-numbers32 %s" % told[1], to_string=True)
                self.told = told
        except (gdb.error, OSError):
            pass


SYSCALLS = SyscallTable()


# ------------------------------------------------------------------ info registers32
#
# Under the x86-64 description `info registers` shows rax..r15 in every frame, a 32-bit one too (gdb
# 13's Python cannot give a frame an architecture of its own). This command shows what gdb shows for
# an i386 process: the eight general registers as 32 bits, eip, eflags and the segment registers,
# of the selected frame, as its unwinder has them. A frame is 32-bit code when its CS is
# __USER32_CS (the compat entries' CFI gives the interrupted program's from pt_regs).

GP32 = (("eax", "rax"), ("ecx", "rcx"), ("edx", "rdx"), ("ebx", "rbx"), ("esp", "rsp"), ("ebp", "rbp"),
        ("esi", "rsi"), ("edi", "rdi"))
REGISTERS32 = GP32 + (("eip", "rip"), ("eflags", "eflags"), ("cs", "cs"), ("ss", "ss"), ("ds", "ds"),
                      ("es", "es"), ("fs", "fs"), ("gs", "gs"))


def _user32_cs():
    abi = sys.modules.get("entrystub_abi")
    return getattr(abi, "USER32_CS", None)


def _row32(frame, name, reg):
    """gdb's `info registers` line for an i386 register (name, raw hex, natural value)."""
    v = frame.read_register(reg)
    if v.is_optimized_out:
        return "%-15s<not saved>" % name
    raw = int(v) & U32
    if name == "eflags":
        natural = str(v)
    elif name == "eip":
        natural = gdb.format_address(raw)
    elif name in ("esp", "ebp"):
        natural = "0x%x" % raw
    elif name in ("eax", "ecx", "edx", "ebx", "esi", "edi"):
        natural = str(raw - (1 << 32) if raw >> 31 else raw)
    else:
        natural = str(raw)
    return "%-15s%-20s%s" % (name, "0x%x" % raw, natural)


class InfoRegisters32(gdb.Command):
    """The selected frame's registers as a 32-bit program has them.

Usage: info registers32 [REGISTER...]

eax..edi (the low 32 bits), eip, eflags and the segment registers, in the
layout of gdb's `info registers` for an i386 process, for the selected frame
(its values as the unwinder recovers them: in a frame above a compat entry,
from the task's struct pt_regs). Only a frame of 32-bit code (CS =
__USER32_CS) has them; `info registers` shows any frame as x86-64 registers."""

    def __init__(self):
        super().__init__("info registers32", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        try:
            frame = gdb.selected_frame()
        except gdb.error as e:
            raise gdb.GdbError(str(e)) from None
        cs = frame.read_register("cs")
        user32 = _user32_cs()
        if cs.is_optimized_out or user32 is None or int(cs) != user32:
            raise gdb.GdbError("info registers32: frame #%d is not 32-bit code (cs %s, a 32-bit program's is %s); `info registers` shows it"
                               % (frame.level(), "<not saved>" if cs.is_optimized_out else "0x%x" % int(cs),
                                  "0x%x" % user32 if user32 is not None else "__USER32_CS"))
        names = dict(REGISTERS32)
        want = arg.split() or [n for n, _ in REGISTERS32]
        for name in want:
            name = name.lstrip("$")
            if name not in names:
                raise gdb.GdbError("info registers32: no register %s (%s)" % (name, " ".join(n for n, _ in REGISTERS32)))
            gdb.write(_row32(frame, name, names[name]) + "\n")


def pin_architecture(*_):
    """The stub describes x86-64 whatever the program (README: gdb and a 32-bit program). gdb 13 takes
    the architecture of the file it reads unless told otherwise: connected to a 32-bit program it keeps
    the description (with a warning), but after an exec from a 64-bit program into a 32-bit one it
    switches to i386 and refuses the stub's registers ("Remote 'g' packet reply is too long"). So the
    architecture is set to the description's once connected, as `set architecture` would by hand."""
    try:
        inf = gdb.selected_inferior()
        if inf.pid == 0 or inf.architecture().name() != "i386:x86-64":
            return
        if "auto" in gdb.execute("show architecture", to_string=True):
            gdb.execute("set architecture i386:x86-64", to_string=True)
    except gdb.error:
        pass


def install(handlers):
    """Register the disassembler and the hooks; handlers collects (registry, fn) for a re-source."""
    try:
        # a re-sourced copy replaces the previous one (gdb 13 refuses a second for the same architecture)
        gdb.disassembler.register_disassembler(None, None)
    except (ValueError, gdb.error):
        pass
    gdb.disassembler.register_disassembler(Compat32Disassembler(), None)
    for registry, fn in ((gdb.events.stop, ensure_vdso32), (gdb.events.stop, ensure_libraries32),
                         (gdb.events.exited, PROCESS.forget), (gdb.events.new_inferior, PROCESS.forget),
                         (gdb.events.exited, forget_libraries), (gdb.events.clear_objfiles, forget_libraries),
                         (gdb.events.exited, SYSCALLS.forget), (gdb.events.new_inferior, SYSCALLS.forget),
                         (gdb.events.stop, SYSCALLS.follow), (gdb.events.new_objfile, SYSCALLS.follow),
                         (gdb.events.exited, SYSCALLS.follow), (gdb.events.stop, pin_architecture)):
        registry.connect(fn)
        handlers.append((registry, fn))
    install_unwinder(handlers)
    InfoRegisters32()
    pin_architecture()
    ensure_vdso32()
    ensure_libraries32()
    SYSCALLS.follow()


# ------------------------------------------------------------------ unwinding 32-bit frames
#
# gdb's x86-64 architecture would read an i386 .eh_frame with the x86-64 DWARF register numbers
# (4 is esp in i386's, rsi in x86-64's), so its backtraces through 32-bit code are garbage. This
# unwinder takes the frames of a 32-bit process's user half: it finds the FDE of the pc in the
# .eh_frame of the object holding it (the vDSO's, read from memory where the image is; a program's,
# at its address from the ELF file's section headers) and runs its CFA program in the i386 numbering.

import struct

import gdb.unwinder

I386_REGS = {0: "rax", 1: "rcx", 2: "rdx", 3: "rbx", 4: "rsp", 5: "rbp", 6: "rsi", 7: "rdi", 8: "rip"}
RA_COLUMN = 8
# what a 32-bit frame has besides the CFI's columns: its flags and segment registers
SAME_VALUE = ("rax", "rcx", "rdx", "rbx", "rbp", "rsi", "rdi", "eflags", "cs", "ss", "ds", "es", "fs", "gs")
U32 = 0xffffffff


def _leb(b, i, signed):
    """A LEB128 number at b[i]: (value, the index past it)."""
    v = shift = 0
    while True:
        x = b[i]
        i += 1
        v |= (x & 0x7f) << shift
        shift += 7
        if x < 0x80:
            if signed and x & 0x40:
                v -= 1 << shift
            return v, i


def _uleb(b, i):
    return _leb(b, i, False)


def _sleb(b, i):
    return _leb(b, i, True)


def _pointer(enc, b, i, addr_of):
    """A DW_EH_PE-encoded pointer at b[i] (addr_of(i): its address, for pcrel)."""
    if enc == 0xff:
        return None, i
    fmt = enc & 0x0f
    size = {0x0: 4, 0x3: 4, 0xb: 4, 0x2: 2, 0xa: 2, 0x4: 8, 0xc: 8}.get(fmt)
    if size is None:
        raise ValueError("pointer encoding 0x%x" % enc)
    signed = fmt in (0xa, 0xb, 0xc)
    v = int.from_bytes(b[i:i + size], "little", signed=signed)
    if enc & 0x70 == 0x10:
        v += addr_of(i)
    return v & U32, i + size


class Fde:
    __slots__ = ("start", "end", "cie", "insns")

    def __init__(self, start, end, cie, insns):
        self.start, self.end, self.cie, self.insns = start, end, cie, insns


class Cie:
    __slots__ = ("code_align", "data_align", "ra", "enc", "insns")


def parse_eh_frame(b, base):
    """The FDEs of an .eh_frame (bytes b, loaded at base), sorted by start."""
    cies, fdes, i = {}, [], 0
    while i + 4 <= len(b):
        length = struct.unpack_from("<I", b, i)[0]
        if length == 0:
            break
        if length == 0xffffffff:
            return sorted(fdes, key=lambda f: f.start)  # 64-bit lengths: not in i386 objects
        start, body, end = i, i + 4, i + 4 + length
        cie_ptr = struct.unpack_from("<I", b, body)[0]
        if cie_ptr == 0:
            c, j = Cie(), body + 5  # id, version
            aug_end = b.index(0, j)
            aug = b[j:aug_end].decode("latin1")
            j = aug_end + 1
            c.code_align, j = _uleb(b, j)
            c.data_align, j = _sleb(b, j)
            c.ra, j = _uleb(b, j)
            c.enc = 0
            if aug.startswith("z"):
                alen, j = _uleb(b, j)
                k, after = j, j + alen
                for ch in aug[1:]:
                    if ch == "R":
                        c.enc = b[k]
                        k += 1
                    elif ch == "P":
                        penc = b[k]
                        _, k = _pointer(penc & 0x7f, b, k + 1, lambda x: base + x)
                    elif ch == "L":
                        k += 1
                j = after
            c.insns = bytes(b[j:end])
            cies[start] = c
        else:
            c = cies.get(body - cie_ptr)
            if c is not None:
                j = body + 4
                pc0, j = _pointer(c.enc, b, j, lambda x: base + x)
                rng, j = _pointer(c.enc & 0x0f, b, j, lambda x: base + x)
                alen, j = _uleb(b, j)  # "z": augmentation data (LSDA): skipped
                fdes.append(Fde(pc0, (pc0 + rng) & U32, c, bytes(b[j + alen:end])))
        i = end
    return sorted(fdes, key=lambda f: f.start)


def run_cfa(fde, pc):
    """The rules at pc: {"cfa": (register, offset) or ("expr", DWARF expression), "regs": {column:
    offset from the CFA, or ("expr", expression giving the address)}}; None for a rule this unwinder
    does not know."""
    c = fde.cie
    state = {"cfa": (4, 4), "regs": {}}
    initial = None
    stack = []
    loc = fde.start
    for insns, is_cie in ((c.insns, True), (fde.insns, False)):
        i = 0
        while i < len(insns):
            op = insns[i]
            i += 1
            hi, lo = op & 0xc0, op & 0x3f
            if hi == 0x40:
                loc += lo * c.code_align
                if loc > pc:
                    return state
            elif hi == 0x80:
                off, i = _uleb(insns, i)
                state["regs"][lo] = off * c.data_align
            elif hi == 0xc0:
                restore = (initial or {"regs": {}})["regs"]
                if lo in restore:
                    state["regs"][lo] = restore[lo]
                else:
                    state["regs"].pop(lo, None)
            elif op == 0x00:
                pass
            elif op in (0x02, 0x03, 0x04):
                size = {0x02: 1, 0x03: 2, 0x04: 4}[op]
                loc += int.from_bytes(insns[i:i + size], "little") * c.code_align
                i += size
                if loc > pc:
                    return state
            elif op == 0x05:
                r, i = _uleb(insns, i)
                off, i = _uleb(insns, i)
                state["regs"][r] = off * c.data_align
            elif op in (0x06, 0x07, 0x08):
                r, i = _uleb(insns, i)
                state["regs"].pop(r, None)
            elif op == 0x0a:
                stack.append({"cfa": state["cfa"], "regs": dict(state["regs"])})
            elif op == 0x0b:
                if stack:
                    s = stack.pop()
                    state["cfa"], state["regs"] = s["cfa"], s["regs"]
            elif op == 0x0c:
                r, i = _uleb(insns, i)
                off, i = _uleb(insns, i)
                state["cfa"] = (r, off)
            elif op == 0x0d:
                r, i = _uleb(insns, i)
                state["cfa"] = (r, state["cfa"][1])
            elif op == 0x0e:
                off, i = _uleb(insns, i)
                state["cfa"] = (state["cfa"][0], off)
            elif op == 0x11:
                r, i = _uleb(insns, i)
                off, i = _sleb(insns, i)
                state["regs"][r] = off * c.data_align
            elif op == 0x12:
                r, i = _uleb(insns, i)
                off, i = _sleb(insns, i)
                state["cfa"] = (r, off * c.data_align)
            elif op == 0x13:
                off, i = _sleb(insns, i)
                state["cfa"] = (state["cfa"][0], off * c.data_align)
            elif op == 0x0f:
                n, i = _uleb(insns, i)
                state["cfa"] = ("expr", bytes(insns[i:i + n]))
                i += n
            elif op == 0x10:
                r, i = _uleb(insns, i)
                n, i = _uleb(insns, i)
                state["regs"][r] = ("expr", bytes(insns[i:i + n]))
                i += n
            elif op == 0x2e:
                _, i = _uleb(insns, i)
            else:
                return None  # register-to-register and value rules: not this unwinder's
        if is_cie:
            initial = {"cfa": state["cfa"], "regs": dict(state["regs"])}
    return state


def eval_expr(expr, reg, read_u32, push_cfa=None):
    """A DWARF expression of the kinds i386 CFI uses (main's stack realignment: DW_OP_breg5 -4;
    DW_OP_deref): breg, deref, constants, plus, minus, plus_uconst; None for anything else."""
    stack = [] if push_cfa is None else [push_cfa]
    i = 0
    while i < len(expr):
        op = expr[i]
        i += 1
        if 0x70 <= op <= 0x7f:  # DW_OP_breg0..15
            off, i = _sleb(expr, i)
            if op - 0x70 not in I386_REGS:
                return None
            stack.append((reg(op - 0x70) + off) & U32)
        elif 0x30 <= op <= 0x4f:  # DW_OP_lit0..31
            stack.append(op - 0x30)
        elif op == 0x06 and stack:  # deref
            stack.append(read_u32(stack.pop()))
        elif op == 0x11:  # consts
            v, i = _sleb(expr, i)
            stack.append(v & U32)
        elif op == 0x10:  # constu
            v, i = _uleb(expr, i)
            stack.append(v & U32)
        elif op == 0x23 and stack:  # plus_uconst
            v, i = _uleb(expr, i)
            stack.append((stack.pop() + v) & U32)
        elif op in (0x22, 0x1c) and len(stack) >= 2:  # plus, minus
            b, a = stack.pop(), stack.pop()
            stack.append((a + b if op == 0x22 else a - b) & U32)
        else:
            return None
    return stack[-1] if stack else None


class FrameTables:
    """.eh_frame tables by object, kept until the objfiles change."""

    def __init__(self):
        self.tables = None

    def forget(self, *_):
        self.tables = None

    def lookup(self, pc):
        if self.tables is None:
            self.tables = self._load()
        for fdes in self.tables:
            lo, hi = 0, len(fdes)
            while lo < hi:
                mid = (lo + hi) // 2
                if fdes[mid].start <= pc:
                    lo = mid + 1
                else:
                    hi = mid
            if lo and fdes[lo - 1].start <= pc < fdes[lo - 1].end:
                return fdes[lo - 1]
        return None

    def _load(self):
        tables = []
        inf = gdb.selected_inferior()
        # the vDSO: the whole image is mapped at AT_SYSINFO_EHDR, section headers included (gdb's `info
        # files` lists its sections only where the target has an exec file of the same architecture)
        if PROCESS.is32() and PROCESS.ehdr is not None:
            ehdr = PROCESS.ehdr
            at = _eh_frame_of_elf32(lambda off, n: bytes(inf.read_memory(ehdr + off, n)), in_file=True)
            if at:
                try:
                    tables.append(parse_eh_frame(bytes(inf.read_memory(ehdr + at[0], at[1])), ehdr + at[0]))
                except (gdb.error, ValueError, IndexError, struct.error):
                    pass
        # the program: its .eh_frame's address from the file's section headers, the bytes from memory
        for o in gdb.objfiles():
            name = o.filename or ""
            local = name[len("target:"):] if name.startswith("target:") else name
            at = _eh_frame_of_elf32(_file_reader(local))
            if at:
                start = at[0] + LIBRARIES.get(local, 0)  # a shared object's addresses are its bias on
                try:
                    tables.append(parse_eh_frame(bytes(inf.read_memory(start, at[1])), start))
                except (gdb.error, ValueError, IndexError, struct.error):
                    pass
        return tables


def _eh_frame_of_elf32(read, in_file=False):
    """(address, size) of an ELF32 image's .eh_frame, or None; read(offset, n) gives its bytes (a
    file's, or a mapped image's); in_file: the section's offset in the image rather than its address."""
    try:
        eh = read(0, 52)
        if len(eh) < 52 or eh[:4] != b"\x7fELF" or eh[4] != 1:
            return None
        shoff, = struct.unpack_from("<I", eh, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", eh, 0x2e)
        if shentsize != 40 or shnum == 0 or shstrndx >= shnum:
            return None
        sh = read(shoff, shnum * 40)
        strs = struct.unpack_from("<IIIIII", sh, shstrndx * 40)
        names = read(strs[4], strs[5])
        for k in range(shnum):
            name, _typ, _flags, addr, off, size = struct.unpack_from("<IIIIII", sh, k * 40)
            if names[name:names.index(b"\0", name)] == b".eh_frame" and addr:
                return (off if in_file else addr), size
    except (OSError, ValueError, struct.error, gdb.error):
        return None
    return None


def _file_reader(path):
    def read(off, n):
        with open(path, "rb") as f:
            f.seek(off)
            return f.read(n)
    return read


TABLES = FrameTables()


class FrameId:
    # gdb 13 takes the id's parts as gdb.Value only
    def __init__(self, sp, pc):
        self.sp, self.pc = gdb.Value(sp), gdb.Value(pc)


class Compat32Unwinder(gdb.unwinder.Unwinder):
    def __init__(self):
        super().__init__("entrystub-compat32")

    def __call__(self, pending):
        pc = int(pending.read_register("rip"))
        if pc > U32 or not PROCESS.is32():
            return None
        # a caller's pc is a return address, which may be past its function's end (a call to a
        # noreturn function last): the call is what is looked up, as gdb's own unwinders do
        at = pc - 1 if pending.level() > 0 else pc
        fde = TABLES.lookup(at)
        rules = run_cfa(fde, at) if fde else None
        if rules is None or RA_COLUMN not in rules["regs"]:
            return None
        inf = gdb.selected_inferior()

        def reg(n):
            return int(pending.read_register(I386_REGS[n])) & U32

        def read_u32(addr):
            return struct.unpack("<I", bytes(inf.read_memory(addr & U32, 4)))[0]

        rule = rules["cfa"]
        if rule[0] == "expr":
            cfa = eval_expr(rule[1], reg, read_u32)
        else:
            cfa = (reg(rule[0]) + rule[1]) & U32 if rule[0] in I386_REGS else None
        if cfa is None:
            return None
        saved = {}
        for col, how in rules["regs"].items():
            if col not in I386_REGS or col == 4:
                continue
            addr = eval_expr(how[1], reg, read_u32, cfa) if isinstance(how, tuple) else cfa + how
            if addr is None:
                return None
            saved[I386_REGS[col]] = read_u32(addr)
        info = pending.create_unwind_info(FrameId(cfa, fde.start))
        for name, value in saved.items():
            info.add_saved_register(name, gdb.Value(value).cast(pending.read_register(name).type))
        info.add_saved_register("rsp", gdb.Value(cfa).cast(pending.read_register("rsp").type))
        # a register the CFI says nothing of keeps its value in the caller, as gdb's own DWARF unwinder
        # takes it for i386 (else gdb shows "<not saved>" for ebx in every frame above the first)
        for name in SAME_VALUE:
            if name not in saved:
                info.add_saved_register(name, pending.read_register(name))
        return info


def install_unwinder(handlers):
    gdb.unwinder.register_unwinder(None, Compat32Unwinder(), replace=True)
    for registry, fn in ((gdb.events.new_objfile, TABLES.forget), (gdb.events.clear_objfiles, TABLES.forget),
                         (gdb.events.exited, TABLES.forget)):
        registry.connect(fn)
        handlers.append((registry, fn))
