# A 32-bit program's half, for gdb 13 connected to `entrystub serve` (loaded by entrystub.py).
#
# gdb 13 keeps one architecture per connection, and the stub's target description is i386:x86-64,
# the guest kernel's (README: gdb and a 32-bit program). So gdb's own disassembler reads 32-bit code
# as 64-bit, and gdb's vDSO support (an image read from memory at AT_SYSINFO_EHDR) does not take an
# i386 image. This module adds both, for a process whose auxiliary vector has AT_SYSINFO (Linux
# gives it to 32-bit programs only: the address of __kernel_vsyscall):
#   - a disassembler (gdb 13's Python disassembler API) that shows the user half of a 32-bit
#     process as 32-bit code, decoded by the stub (`monitor disassemble32 ADDR att|intel`), the
#     flavor gdb is set to, branch targets named as gdb names them; the kernel's half (above
#     4 GiB) stays with gdb's own disassembler;
#   - the 32-bit vDSO's symbols (__kernel_vsyscall, __kernel_sigreturn, __kernel_rt_sigreturn),
#     read from the process's memory at AT_SYSINFO_EHDR with add-symbol-file-from-memory, as gdb
#     reads a 64-bit program's vDSO, so `break __kernel_vsyscall` resolves.

import re

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
    """The vDSO's symbols, once per process image: gdb names its from-memory objfile after the address."""
    try:
        if not PROCESS.is32() or PROCESS.ehdr is None:
            return
        name = "system-supplied DSO at 0x%x" % PROCESS.ehdr
        if any(o.filename == name for o in gdb.objfiles()):
            return
        gdb.execute("add-symbol-file-from-memory 0x%x" % PROCESS.ehdr, to_string=True)
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
    for registry, fn in ((gdb.events.stop, ensure_vdso32), (gdb.events.exited, PROCESS.forget),
                         (gdb.events.new_inferior, PROCESS.forget)):
        registry.connect(fn)
        handlers.append((registry, fn))
    ensure_vdso32()
