#!/usr/bin/env python3
"""x87 oracle: sequences of raw x87 instructions run on this CPU; write x87_data.json.

usage: gen-x87.py [OUTDIR] [SEED]
"""
import random, struct, subprocess, json, os, sys

OUT = sys.argv[1] if len(sys.argv) > 1 else '/tmp/sse-oracle'
os.makedirs(OUT, exist_ok=True)
random.seed(int(sys.argv[2]) if len(sys.argv) > 2 else 777)

def L(reg, slot):   # memory load from input slot: modrm mod=01 reg rm=7 ([rdi+disp8])
    return (0x47 | (reg << 3), slot)
def S(reg, slot):   # memory store to output slot ([rsi+disp8])
    return (0x46 | (reg << 3), slot)

TEMPL = []  # (name, code list [(opc, modrm, slot)], input types)
def t(name, code, types):
    TEMPL.append((name, code, types))

FLD80 = lambda k: (0xdb, *L(5, k))
FSTP80 = lambda k: (0xdb, *S(7, k))
FNSTSW = lambda k: (0xdd, *S(7, k))

ARITH = ['add', 'mul', 'com', 'comp', 'sub', 'subr', 'div', 'divr']
for op in [0, 1, 4, 5, 6, 7]:
    t(f'd8_{ARITH[op]}_st1', [FLD80(0), FLD80(1), (0xd8, 0xc1 | (op << 3), 0), FSTP80(0), FSTP80(1), FNSTSW(2)], 'ee')
    t(f'dc_{ARITH[op]}_st1', [FLD80(0), FLD80(1), (0xdc, 0xc1 | (op << 3), 0), FSTP80(0), FSTP80(1)], 'ee')
    t(f'de_{ARITH[op]}p', [FLD80(0), FLD80(1), (0xde, 0xc1 | (op << 3), 0), FSTP80(0), FNSTSW(1)], 'ee')
    t(f'd8_{ARITH[op]}_m32', [FLD80(0), (0xd8, *L(op, 1)), FSTP80(0)], 'ef')
    t(f'dc_{ARITH[op]}_m64', [FLD80(0), (0xdc, *L(op, 1)), FSTP80(0)], 'ed')
    t(f'da_{ARITH[op]}_m32i', [FLD80(0), (0xda, *L(op, 1)), FSTP80(0)], 'ei')
    t(f'de_{ARITH[op]}_m16i', [FLD80(0), (0xde, *L(op, 1)), FSTP80(0)], 'ew')
for name, code in [('fcom', (0xd8, 0xd1)), ('fcomp', (0xd8, 0xd9)), ('fucom', (0xdd, 0xe1)), ('fucomp', (0xdd, 0xe9)),
                   ('fcompp', (0xde, 0xd9)), ('fucompp', (0xda, 0xe9))]:
    t(name, [FLD80(1), FLD80(0), (*code, 0), FNSTSW(0)], 'ee')
for name, code in [('fcomi', (0xdb, 0xf1)), ('fucomi', (0xdb, 0xe9)), ('fcomip', (0xdf, 0xf1)), ('fucomip', (0xdf, 0xe9))]:
    t(name, [FLD80(1), FLD80(0), (*code, 0), FNSTSW(0)], 'ee')
t('fcom_m64', [FLD80(0), (0xdc, *L(2, 1)), FNSTSW(0)], 'ed')
t('ficom_m32', [FLD80(0), (0xda, *L(2, 1)), FNSTSW(0)], 'ei')
for name, m in [('fchs', 0xe0), ('fabs', 0xe1), ('fsqrt', 0xfa), ('frndint', 0xfc), ('fxtract', 0xf4)]:
    t(name, [FLD80(0), (0xd9, m, 0), FSTP80(0), FNSTSW(1)] + ([FSTP80(2)] if name == 'fxtract' else []), 'e')
for name, m in [('ftst', 0xe4), ('fxam', 0xe5)]:
    t(name, [FLD80(0), (0xd9, m, 0), FNSTSW(0)], 'e')
t('fxam_empty', [(0xd9, 0xe5, 0), FNSTSW(0)], '')
for name, m in [('fscale', 0xfd), ('fprem', 0xf8), ('fprem1', 0xf5)]:
    t(name, [FLD80(1), FLD80(0), (0xd9, m, 0), FSTP80(0), FNSTSW(1), FSTP80(2)], 'ee')
# stores
t('fst_m64', [FLD80(0), (0xdd, *S(2, 0)), FSTP80(1)], 'e')
t('fstp_m32', [FLD80(0), (0xd9, *S(3, 0)), FNSTSW(1)], 'e')
t('fistp_m64', [FLD80(0), (0xdf, *S(7, 0)), FNSTSW(1)], 'e')
t('fistp_m32', [FLD80(0), (0xdb, *S(3, 0)), FNSTSW(1)], 'e')
t('fist_m16', [FLD80(0), (0xdf, *S(2, 0)), FSTP80(1)], 'e')
t('fisttp_m64', [FLD80(0), (0xdd, *S(1, 0))], 'e')
t('fisttp_m32', [FLD80(0), (0xdb, *S(1, 0))], 'e')
t('fisttp_m16', [FLD80(0), (0xdf, *S(1, 0))], 'e')
# loads
t('fld_m64', [(0xdd, *L(0, 0)), FSTP80(0), FNSTSW(1)], 'd')
t('fld_m32', [(0xd9, *L(0, 0)), FSTP80(0)], 'f')
t('fild_m16', [(0xdf, *L(0, 0)), FSTP80(0)], 'w')
t('fild_m32', [(0xdb, *L(0, 0)), FSTP80(0)], 'i')
t('fild_m64', [(0xdf, *L(5, 0)), FSTP80(0)], 'q')
t('consts', [(0xd9, 0xe8 + k, 0) for k in range(7)] + [FSTP80(k) for k in range(7)], '')
t('stack_ops', [FLD80(0), FLD80(1), (0xd9, 0xc1, 0), (0xd9, 0xc9, 0), (0xdd, 0xd2, 0), (0xd9, 0xf7, 0), (0xd9, 0xf6, 0), FSTP80(0), FSTP80(1), FSTP80(2), FNSTSW(3)], 'ee')
t('underflow', [FLD80(0), (0xde, 0xc1, 0), FSTP80(0), FNSTSW(1)], 'e')
t('fcmov', [FLD80(1), FLD80(0), (0xdb, 0xf1, 0), (0xda, 0xc1, 0), (0xdb, 0xd1, 0), FSTP80(0), FSTP80(1)], 'ee')

# ---- inputs ----
def ext(sign, exp, mant):
    return struct.pack('<QH', mant, (sign << 15) | exp).hex()
def rmant():
    return (1 << 63) | random.getrandbits(63)
SPECIAL = [ext(0, 0, 0), ext(1, 0, 0), ext(0, 0x7fff, 1 << 63), ext(1, 0x7fff, 1 << 63), ext(0, 0x7fff, 0xc000000000000000),
           ext(1, 0x7fff, 0xc000000000001234), ext(0, 0x7fff, 0x8000000000000001), ext(0, 0, 1), ext(1, 0, 0x0000123456789abc),
           ext(0, 0x3fff, 1 << 63), ext(1, 0x3fff, 1 << 63), ext(0, 0x3ffe, 1 << 63), ext(0, 0x7ffe, (1 << 64) - 1), ext(0, 1, 1 << 63),
           ext(0, 0x403e, 1 << 63), ext(1, 0x403e, 1 << 63), ext(0, 0x403d, (1 << 64) - 1), ext(0, 0x401d, 0xffffffff00000000),
           ext(0, 0x4000, 0xa000000000000000), ext(0, 0x3ffe, 0xc000000000000000), ext(1, 0x3ffd, 1 << 63), ext(0, 0x3fff, 0xc000000000000000),
           ext(0, 0x403f, 1 << 63), ext(0, 0x3c00, rmant()), ext(0, 0x43ff, rmant()), ext(0, 0x3fff, 0x8000000000000400), ext(0, 0x3fff, 0x8000000000000c00),
           ext(0, 0x3fff, 0x8000000000000401)]
def rext(base_exp=None):
    c = random.random()
    if c < 0.25:
        return random.choice(SPECIAL)
    if base_exp is not None and c < 0.7:
        e = base_exp + random.randint(-3, 3) if random.random() < 0.8 else base_exp + random.randint(-70, 70)
        return ext(random.getrandbits(1), max(1, min(0x7ffe, e)), rmant())
    if c < 0.85:
        return ext(random.getrandbits(1), 0x3fff + random.randint(-40, 70), rmant())
    if c < 0.9:
        # integers and halves
        v = random.randint(-100000, 100000) + random.choice([0, 0.5, 0.25, 0.75])
        if v == 0: return ext(0, 0, 0)
        m, e = abs(v), 0
        while m >= 2: m /= 2; e += 1
        while m < 1: m *= 2; e -= 1
        return ext(1 if v < 0 else 0, 0x3fff + e, int(m * (1 << 63)))
    return ext(random.getrandbits(1), random.choice([random.randint(1, 200), random.randint(0x7f00, 0x7ffe), random.randint(0x3b00, 0x3c10), random.randint(0x43f0, 0x4410)]), rmant())
def rdouble():
    c = random.random()
    if c < 0.3: return random.choice([0, 1 << 63, 0x7ff0000000000000, 0x7ff8000000000000, 0x7ff0000000000001, 1, 0x800fffffffffffff, 0x3ff0000000000000, 0x3fb999999999999a])
    return random.getrandbits(64) if c < 0.6 else struct.unpack('<Q', struct.pack('<d', random.uniform(-1e6, 1e6)))[0]
def rfloat():
    c = random.random()
    if c < 0.3: return random.choice([0, 0x80000000, 0x7f800000, 0x7fc00000, 0x7f800001, 1, 0x807fffff, 0x3f800000])
    return random.getrandbits(32)
def inp(ty, e0):
    if ty == 'e': return rext(e0)
    if ty == 'd': return struct.pack('<Q', rdouble()).hex()
    if ty == 'f': return struct.pack('<I', rfloat()).hex()
    if ty == 'w': return struct.pack('<h', random.choice([0, 1, -1, 32767, -32768, random.randint(-32768, 32767)])).hex()
    if ty == 'i': return struct.pack('<i', random.choice([0, 1, -1, 2 ** 31 - 1, -2 ** 31, random.randint(-2 ** 31, 2 ** 31 - 1)])).hex()
    return struct.pack('<q', random.choice([0, 1, -1, 2 ** 63 - 1, -2 ** 63, random.randint(-2 ** 63, 2 ** 63 - 1), random.randint(-2 ** 40, 2 ** 40)])).hex()
CWS = [0x37f, 0x37f, 0x37f, 0x77f, 0xb7f, 0xf7f, 0x27f, 0x07f, 0x37f]

CASES = []
for ti, (name, code, types) in enumerate(TEMPL):
    n = 6 if name in ('consts', 'fxam_empty') else 60 if name.startswith(('d8_', 'dc_', 'de_', 'da_')) or name in ('fsqrt', 'fprem', 'fprem1', 'fscale', 'frndint') else 40
    for k in range(n):
        cw = CWS[k % len(CWS)]
        if name == 'consts': cw = [0x37f, 0x77f, 0xb7f, 0xf7f, 0x27f, 0x07f][k]
        e0 = 0x3fff + random.randint(-20, 20)
        ins = [inp(ty, e0) for ty in types]
        CASES.append((ti, cw, ins))

def enc(code):
    b = []
    for opc, modrm, slot in code:
        b += [opc, modrm]
        if modrm >> 6 == 1: b.append(16 * slot)
    return b

C = ['#include <stdio.h>', '#include <stdint.h>', '#include <string.h>', '#include <stdlib.h>']
for ti, (name, code, types) in enumerate(TEMPL):
    bytes_ = ','.join(f'0x{x:02x}' for x in enc(code))
    C.append(f'static void t{ti}(void *in, void *out, uint16_t *cw, uint64_t *fl) {{ __asm__ volatile("fninit\\n\\tfldcw (%2)\\n\\t'
             'xor %%eax, %%eax\\n\\t'
             f'.byte {bytes_}\\n\\t'
             'pushfq\\n\\tpopq (%3)\\n\\tfnstsw (%2)\\n\\tfninit" :: "D"(in), "S"(out), "r"(cw), "r"(fl) : "rax", "memory", "cc"); }')
C.append('static void (*T[])(void*, void*, uint16_t*, uint64_t*) = {' + ','.join(f't{k}' for k in range(len(TEMPL))) + '};')
C.append('''static int hexb(const char *s, unsigned char *o) { int n = 0; while (s[0] && s[1]) { unsigned v; sscanf(s, "%2x", &v); o[n++] = v; s += 2; } return n; }
int main(void) { char line[4096];
 while (fgets(line, sizeof line, stdin)) {
  unsigned char in[256] __attribute__((aligned(16))), out[256] __attribute__((aligned(16))); memset(in, 0, sizeof in); memset(out, 0xcc, sizeof out);
  char *p = strtok(line, " \\n"); int ti = atoi(p); p = strtok(0, " \\n"); uint16_t cw = strtol(p, 0, 16); int k = 0;
  while ((p = strtok(0, " \\n"))) { hexb(p, in + 16 * k); k++; }
  uint64_t fl = 0; T[ti](in, out, &cw, &fl);
  printf("%x %llx", cw, (unsigned long long)fl);
  for (int s = 0; s < 16; s++) { printf(" "); for (int b = 0; b < 16; b++) printf("%02x", out[16 * s + b]); }
  printf("\\n"); }
 return 0; }''')
open(OUT + '/x87_oracle.c', 'w').write('\n'.join(C) + '\n')
subprocess.check_call(['gcc', '-O1', '-mno-red-zone', '-o', OUT + '/x87_oracle', OUT + '/x87_oracle.c'])
lines = [f'{ti} {cw:x} ' + ' '.join(ins) for ti, cw, ins in CASES]
res = subprocess.run([OUT + '/x87_oracle'], input='\n'.join(lines) + '\n', capture_output=True, text=True, check=True).stdout.strip().split('\n')
data = []
for (ti, cw, ins), r in zip(CASES, res):
    parts = r.split()
    sw = int(parts[0], 16); fl = int(parts[1], 16)
    name, code, types = TEMPL[ti]
    used = sorted({slot for opc, modrm, slot in code if modrm >> 6 == 1 and (modrm & 7) == 6})
    outs = []
    for s in used:
        h = parts[2 + s]
        while h.endswith('cc'): h = h[:-2]
        outs.append(f'{s}:{h}')
    data.append(dict(name=name, code=[list(c) for c in code], cw=cw, **{'in': ins}, out=' '.join(outs), sw=sw & 0x4700, fl=fl & 0x45))
def cpu_label():
    """The CPU that answered: vendor, family, model and name, from /proc/cpuinfo."""
    info = {}
    for line in open('/proc/cpuinfo'):
        k, _, v = line.partition(':')
        info.setdefault(k.strip(), v.strip())
        if not line.strip():
            break
    return f"{info.get('vendor_id')} family {info.get('cpu family')} model {info.get('model')} ({info.get('model name')})"

json.dump({'cpu': cpu_label(), 'cases': data}, open(OUT + '/x87_data.json', 'w'))
print(len(TEMPL), 'templates', len(data), 'cases')
