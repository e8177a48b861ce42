#!/usr/bin/env python3
"""Generate a C program that runs SSE instructions with inline asm on this CPU; write sse_data.json.

usage: gen-sse.py [OUTDIR] [SEED]   (needs gcc on an x86-64 host with SSE4.1)
"""
import random, struct, subprocess, sys, json, os

OUT = sys.argv[1] if len(sys.argv) > 1 else '/tmp/sse-oracle'
os.makedirs(OUT, exist_ok=True)
random.seed(int(sys.argv[2]) if len(sys.argv) > 2 else 12345)

# (name, asm, map, opcode, pfx, imm, rexw, reg, rm, kind, inputs)
# kind: xx (xmm0 op= xmm1), gout (rax <- xmm), gin (xmm0 <- rax), fl (flags)
# inputs: 'int', 'f32', 'f64', 'cnt16', 'cnt32', 'cnt64'
OPS = []
def op(name, asm, mp, opc, pfx, imm=0, w=0, reg=0, rm=1, kind='xx', inp='int'):
    OPS.append(dict(name=name, asm=asm, map=mp, op=opc, pfx=pfx, imm=imm, w=w, reg=reg, rm=rm, kind=kind, inp=inp))

# float arithmetic
for base, opc in [('add', 0x58), ('mul', 0x59), ('sub', 0x5c), ('min', 0x5d), ('div', 0x5e), ('max', 0x5f), ('sqrt', 0x51)]:
    op(base + 'ps', f'{base}ps %xmm1, %xmm0', 1, opc, 0, inp='f32')
    op(base + 'pd', f'{base}pd %xmm1, %xmm0', 1, opc, 0x66, inp='f64')
    op(base + 'ss', f'{base}ss %xmm1, %xmm0', 1, opc, 0xf3, inp='f32')
    op(base + 'sd', f'{base}sd %xmm1, %xmm0', 1, opc, 0xf2, inp='f64')
for p in range(8):
    op(f'cmpps{p}', f'cmpps ${p}, %xmm1, %xmm0', 1, 0xc2, 0, imm=p, inp='f32')
    op(f'cmppd{p}', f'cmppd ${p}, %xmm1, %xmm0', 1, 0xc2, 0x66, imm=p, inp='f64')
    op(f'cmpss{p}', f'cmpss ${p}, %xmm1, %xmm0', 1, 0xc2, 0xf3, imm=p, inp='f32')
    op(f'cmpsd{p}', f'cmpsd ${p}, %xmm1, %xmm0', 1, 0xc2, 0xf2, imm=p, inp='f64')
for n, o in [('andps', 0x54), ('andnps', 0x55), ('orps', 0x56), ('xorps', 0x57)]:
    op(n, f'{n} %xmm1, %xmm0', 1, o, 0)
    n2 = n.replace('ps', 'pd')
    op(n2, f'{n2} %xmm1, %xmm0', 1, o, 0x66)
op('unpcklps', 'unpcklps %xmm1, %xmm0', 1, 0x14, 0)
op('unpckhps', 'unpckhps %xmm1, %xmm0', 1, 0x15, 0)
op('unpcklpd', 'unpcklpd %xmm1, %xmm0', 1, 0x14, 0x66)
op('unpckhpd', 'unpckhpd %xmm1, %xmm0', 1, 0x15, 0x66)
for imm in [0x1b, 0xe4, 0x93, 0x4e]:
    op(f'shufps{imm}', f'shufps ${imm}, %xmm1, %xmm0', 1, 0xc6, 0, imm=imm)
for imm in [0, 1, 2, 3]:
    op(f'shufpd{imm}', f'shufpd ${imm}, %xmm1, %xmm0', 1, 0xc6, 0x66, imm=imm)
op('cvtps2pd', 'cvtps2pd %xmm1, %xmm0', 1, 0x5a, 0, inp='f32')
op('cvtpd2ps', 'cvtpd2ps %xmm1, %xmm0', 1, 0x5a, 0x66, inp='f64')
op('cvtss2sd', 'cvtss2sd %xmm1, %xmm0', 1, 0x5a, 0xf3, inp='f32')
op('cvtsd2ss', 'cvtsd2ss %xmm1, %xmm0', 1, 0x5a, 0xf2, inp='f64')
op('cvtdq2ps', 'cvtdq2ps %xmm1, %xmm0', 1, 0x5b, 0)
op('cvtps2dq', 'cvtps2dq %xmm1, %xmm0', 1, 0x5b, 0x66, inp='f32r')
op('cvttps2dq', 'cvttps2dq %xmm1, %xmm0', 1, 0x5b, 0xf3, inp='f32r')
op('cvttpd2dq', 'cvttpd2dq %xmm1, %xmm0', 1, 0xe6, 0x66, inp='f64r')
op('cvtdq2pd', 'cvtdq2pd %xmm1, %xmm0', 1, 0xe6, 0xf3)
op('cvtpd2dq', 'cvtpd2dq %xmm1, %xmm0', 1, 0xe6, 0xf2, inp='f64r')
for imm in [0, 1, 2, 3, 4, 8, 9, 0xa, 0xb]:
    op(f'roundps{imm}', f'roundps ${imm}, %xmm1, %xmm0', 3, 0x08, 0x66, imm=imm, inp='f32r')
    op(f'roundpd{imm}', f'roundpd ${imm}, %xmm1, %xmm0', 3, 0x09, 0x66, imm=imm, inp='f64r')
    op(f'roundss{imm}', f'roundss ${imm}, %xmm1, %xmm0', 3, 0x0a, 0x66, imm=imm, inp='f32r')
    op(f'roundsd{imm}', f'roundsd ${imm}, %xmm1, %xmm0', 3, 0x0b, 0x66, imm=imm, inp='f64r')
op('haddps', 'haddps %xmm1, %xmm0', 1, 0x7c, 0xf2, inp='f32')
op('hsubps', 'hsubps %xmm1, %xmm0', 1, 0x7d, 0xf2, inp='f32')
op('haddpd', 'haddpd %xmm1, %xmm0', 1, 0x7c, 0x66, inp='f64')
op('hsubpd', 'hsubpd %xmm1, %xmm0', 1, 0x7d, 0x66, inp='f64')
op('addsubps', 'addsubps %xmm1, %xmm0', 1, 0xd0, 0xf2, inp='f32')
op('addsubpd', 'addsubpd %xmm1, %xmm0', 1, 0xd0, 0x66, inp='f64')
op('movss', 'movss %xmm1, %xmm0', 1, 0x10, 0xf3)
op('movsd', 'movsd %xmm1, %xmm0', 1, 0x10, 0xf2)
op('movhlps', 'movhlps %xmm1, %xmm0', 1, 0x12, 0)
op('movlhps', 'movlhps %xmm1, %xmm0', 1, 0x16, 0)
op('movddup', 'movddup %xmm1, %xmm0', 1, 0x12, 0xf2)
op('movsldup', 'movsldup %xmm1, %xmm0', 1, 0x12, 0xf3)
op('movshdup', 'movshdup %xmm1, %xmm0', 1, 0x16, 0xf3)
op('movq_f3_7e', 'movq %xmm1, %xmm0', 1, 0x7e, 0xf3)
op('movq_d6', 'movq %xmm0, %xmm1', 1, 0xd6, 0x66, reg=0, rm=1)
op('movaps', 'movaps %xmm1, %xmm0', 1, 0x28, 0)
op('movdqu_st', 'movdqu %xmm0, %xmm1', 1, 0x7f, 0xf3)
for imm in [0x5, 0xa, 0xf, 0x3]:
    op(f'blendps{imm}', f'blendps ${imm}, %xmm1, %xmm0', 3, 0x0c, 0x66, imm=imm)
for imm in [1, 2]:
    op(f'blendpd{imm}', f'blendpd ${imm}, %xmm1, %xmm0', 3, 0x0d, 0x66, imm=imm)
for imm in [0x00, 0x5a, 0xc3, 0x31, 0x9f]:
    op(f'insertps{imm}', f'insertps ${imm}, %xmm1, %xmm0', 3, 0x21, 0x66, imm=imm)
for imm in [0xff, 0x31, 0xf1, 0x49, 0x7f, 0xb2]:
    op(f'dpps{imm}', f'dpps ${imm}, %xmm1, %xmm0', 3, 0x40, 0x66, imm=imm, inp='f32')
for imm in [0x33, 0x31, 0x51, 0x12, 0x23]:
    op(f'dppd{imm}', f'dppd ${imm}, %xmm1, %xmm0', 3, 0x41, 0x66, imm=imm, inp='f64')
# flags
op('comiss', 'comiss %xmm1, %xmm0', 1, 0x2f, 0, kind='fl', inp='f32')
op('ucomiss', 'ucomiss %xmm1, %xmm0', 1, 0x2e, 0, kind='fl', inp='f32')
op('comisd', 'comisd %xmm1, %xmm0', 1, 0x2f, 0x66, kind='fl', inp='f64')
op('ucomisd', 'ucomisd %xmm1, %xmm0', 1, 0x2e, 0x66, kind='fl', inp='f64')
op('ptest', 'ptest %xmm1, %xmm0', 2, 0x17, 0x66, kind='fl', inp='sparse')
# gpr out: reg = rax(0), rm = xmm1
op('cvtss2si32', 'cvtss2si %xmm1, %eax', 1, 0x2d, 0xf3, kind='gout', reg=0, rm=1, inp='f32r')
op('cvtss2si64', 'cvtss2si %xmm1, %rax', 1, 0x2d, 0xf3, w=1, kind='gout', reg=0, rm=1, inp='f32r')
op('cvttss2si32', 'cvttss2si %xmm1, %eax', 1, 0x2c, 0xf3, kind='gout', reg=0, rm=1, inp='f32r')
op('cvttss2si64', 'cvttss2si %xmm1, %rax', 1, 0x2c, 0xf3, w=1, kind='gout', reg=0, rm=1, inp='f32r')
op('cvtsd2si32', 'cvtsd2si %xmm1, %eax', 1, 0x2d, 0xf2, kind='gout', reg=0, rm=1, inp='f64r')
op('cvtsd2si64', 'cvtsd2si %xmm1, %rax', 1, 0x2d, 0xf2, w=1, kind='gout', reg=0, rm=1, inp='f64r')
op('cvttsd2si32', 'cvttsd2si %xmm1, %eax', 1, 0x2c, 0xf2, kind='gout', reg=0, rm=1, inp='f64r')
op('cvttsd2si64', 'cvttsd2si %xmm1, %rax', 1, 0x2c, 0xf2, w=1, kind='gout', reg=0, rm=1, inp='f64r')
op('movmskps', 'movmskps %xmm1, %eax', 1, 0x50, 0, kind='gout', reg=0, rm=1)
op('movmskpd', 'movmskpd %xmm1, %eax', 1, 0x50, 0x66, kind='gout', reg=0, rm=1)
op('pmovmskb', 'pmovmskb %xmm1, %eax', 1, 0xd7, 0x66, kind='gout', reg=0, rm=1)
for imm in [0, 3, 7]:
    op(f'pextrw_c5_{imm}', f'pextrw ${imm}, %xmm1, %eax', 1, 0xc5, 0x66, imm=imm, kind='gout', reg=0, rm=1)
    op(f'pextrw_3a_{imm}', f'pextrw ${imm}, %xmm1, %eax', 3, 0x15, 0x66, imm=imm, kind='gout', reg=1, rm=0)
for imm in [0, 5, 15]:
    op(f'pextrb{imm}', f'pextrb ${imm}, %xmm1, %eax', 3, 0x14, 0x66, imm=imm, kind='gout', reg=1, rm=0)
for imm in [0, 3]:
    op(f'pextrd{imm}', f'pextrd ${imm}, %xmm1, %eax', 3, 0x16, 0x66, imm=imm, kind='gout', reg=1, rm=0)
    op(f'extractps{imm}', f'extractps ${imm}, %xmm1, %eax', 3, 0x17, 0x66, imm=imm, kind='gout', reg=1, rm=0)
for imm in [0, 1]:
    op(f'pextrq{imm}', f'pextrq ${imm}, %xmm1, %rax', 3, 0x16, 0x66, imm=imm, w=1, kind='gout', reg=1, rm=0)
op('movd_out', 'movd %xmm1, %eax', 1, 0x7e, 0x66, kind='gout', reg=1, rm=0)
op('movq_out', 'movq %xmm1, %rax', 1, 0x7e, 0x66, w=1, kind='gout', reg=1, rm=0)
# gpr in: reg = xmm0, rm = rax
op('cvtsi2ss32', 'cvtsi2ss %eax, %xmm0', 1, 0x2a, 0xf3, kind='gin', reg=0, rm=0)
op('cvtsi2ss64', 'cvtsi2ss %rax, %xmm0', 1, 0x2a, 0xf3, w=1, kind='gin', reg=0, rm=0)
op('cvtsi2sd32', 'cvtsi2sd %eax, %xmm0', 1, 0x2a, 0xf2, kind='gin', reg=0, rm=0)
op('cvtsi2sd64', 'cvtsi2sd %rax, %xmm0', 1, 0x2a, 0xf2, w=1, kind='gin', reg=0, rm=0)
op('movd_in', 'movd %eax, %xmm0', 1, 0x6e, 0x66, kind='gin', reg=0, rm=0)
op('movq_in', 'movq %rax, %xmm0', 1, 0x6e, 0x66, w=1, kind='gin', reg=0, rm=0)
op('pinsrw', 'pinsrw $5, %eax, %xmm0', 1, 0xc4, 0x66, imm=5, kind='gin', reg=0, rm=0)
op('pinsrb', 'pinsrb $9, %eax, %xmm0', 3, 0x20, 0x66, imm=9, kind='gin', reg=0, rm=0)
op('pinsrd', 'pinsrd $2, %eax, %xmm0', 3, 0x22, 0x66, imm=2, kind='gin', reg=0, rm=0)
op('pinsrq', 'pinsrq $1, %rax, %xmm0', 3, 0x22, 0x66, imm=1, w=1, kind='gin', reg=0, rm=0)
# integer
INT = [
 ('punpcklbw',0x60),('punpcklwd',0x61),('punpckldq',0x62),('packsswb',0x63),('pcmpgtb',0x64),('pcmpgtw',0x65),('pcmpgtd',0x66),
 ('packuswb',0x67),('punpckhbw',0x68),('punpckhwd',0x69),('punpckhdq',0x6a),('packssdw',0x6b),('punpcklqdq',0x6c),('punpckhqdq',0x6d),
 ('pcmpeqb',0x74),('pcmpeqw',0x75),('pcmpeqd',0x76),('paddq',0xd4),('pmullw',0xd5),('psubusb',0xd8),('psubusw',0xd9),('pminub',0xda),
 ('pand',0xdb),('paddusb',0xdc),('paddusw',0xdd),('pmaxub',0xde),('pandn',0xdf),('pavgb',0xe0),('pavgw',0xe3),('pmulhuw',0xe4),
 ('pmulhw',0xe5),('psubsb',0xe8),('psubsw',0xe9),('pminsw',0xea),('por',0xeb),('paddsb',0xec),('paddsw',0xed),('pmaxsw',0xee),
 ('pxor',0xef),('pmuludq',0xf4),('pmaddwd',0xf5),('psadbw',0xf6),('psubb',0xf8),('psubw',0xf9),('psubd',0xfa),('psubq',0xfb),
 ('paddb',0xfc),('paddw',0xfd),('paddd',0xfe),
]
for n, o in INT:
    op(n, f'{n} %xmm1, %xmm0', 1, o, 0x66, inp='eq' if n.startswith('pcmpeq') else 'int')
for n, o in [('psrlw',0xd1),('psrld',0xd2),('psrlq',0xd3),('psraw',0xe1),('psrad',0xe2),('psllw',0xf1),('pslld',0xf2),('psllq',0xf3)]:
    op(n, f'{n} %xmm1, %xmm0', 1, o, 0x66, inp='cnt')
for n, o, sub in [('psrlw',0x71,2),('psraw',0x71,4),('psllw',0x71,6),('psrld',0x72,2),('psrad',0x72,4),('pslld',0x72,6),
                  ('psrlq',0x73,2),('psrldq',0x73,3),('psllq',0x73,6),('pslldq',0x73,7)]:
    for imm in [0, 1, 7, 15, 16, 31, 33, 63, 64, 200]:
        op(f'{n}_i{imm}', f'{n} ${imm}, %xmm0', 1, o, 0x66, imm=imm, reg=sub, rm=0)
for imm in [0x1b, 0x00, 0xe4, 0x4e, 0xb1]:
    op(f'pshufd{imm}', f'pshufd ${imm}, %xmm1, %xmm0', 1, 0x70, 0x66, imm=imm)
    op(f'pshufhw{imm}', f'pshufhw ${imm}, %xmm1, %xmm0', 1, 0x70, 0xf3, imm=imm)
    op(f'pshuflw{imm}', f'pshuflw ${imm}, %xmm1, %xmm0', 1, 0x70, 0xf2, imm=imm)
M2 = [('pshufb',0x00),('phaddw',0x01),('phaddd',0x02),('phaddsw',0x03),('pmaddubsw',0x04),('phsubw',0x05),('phsubd',0x06),('phsubsw',0x07),
      ('psignb',0x08),('psignw',0x09),('psignd',0x0a),('pmulhrsw',0x0b),('pabsb',0x1c),('pabsw',0x1d),('pabsd',0x1e),
      ('pmovsxbw',0x20),('pmovsxbd',0x21),('pmovsxbq',0x22),('pmovsxwd',0x23),('pmovsxwq',0x24),('pmovsxdq',0x25),
      ('pmuldq',0x28),('pcmpeqq',0x29),('packusdw',0x2b),
      ('pmovzxbw',0x30),('pmovzxbd',0x31),('pmovzxbq',0x32),('pmovzxwd',0x33),('pmovzxwq',0x34),('pmovzxdq',0x35),('pcmpgtq',0x37),
      ('pminsb',0x38),('pminsd',0x39),('pminuw',0x3a),('pminud',0x3b),('pmaxsb',0x3c),('pmaxsd',0x3d),('pmaxuw',0x3e),('pmaxud',0x3f),
      ('pmulld',0x40),('phminposuw',0x41)]
for n, o in M2:
    op(n, f'{n} %xmm1, %xmm0', 2, o, 0x66, inp='eq' if n == 'pcmpeqq' else 'int')
op('pblendvb', 'pblendvb %xmm0, %xmm1, %xmm0', 2, 0x10, 0x66)
op('blendvps', 'blendvps %xmm0, %xmm1, %xmm0', 2, 0x14, 0x66)
op('blendvpd', 'blendvpd %xmm0, %xmm1, %xmm0', 2, 0x15, 0x66)
for imm in [0, 1, 5, 15, 16, 17, 31, 32, 40]:
    op(f'palignr{imm}', f'palignr ${imm}, %xmm1, %xmm0', 3, 0x0f, 0x66, imm=imm)
for imm in [0x00, 0xa5, 0xff, 0x3c]:
    op(f'pblendw{imm}', f'pblendw ${imm}, %xmm1, %xmm0', 3, 0x0e, 0x66, imm=imm)

# ---- inputs ----
def r64(): return random.getrandbits(64)
def f32b(v): return struct.unpack('<I', struct.pack('<f', v))[0]
def f64b(v): return struct.unpack('<Q', struct.pack('<d', v))[0]
F32S = [0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fa00001, 0xff812345, 0x00000001, 0x807fffff, 0x7f7fffff, 0xff7fffff,
        f32b(1.0), f32b(-1.0), f32b(2.5), f32b(-2.5), f32b(0.5), f32b(1.5), f32b(-0.5), f32b(3.0), f32b(1e10), f32b(-3e9), f32b(2147483520.0), f32b(2147483648.0), f32b(-2147483648.0), f32b(9.2233715e18), f32b(-9.223372e18), f32b(1.0/3)]
F64S = [0, 1 << 63, 0x7ff0000000000000, 0xfff0000000000000, 0x7ff8000000000000, 0xfff8000000000000, 0x7ff4000000000001, 0xfff0000000012345,
        1, 0x800fffffffffffff, 0x7fefffffffffffff, 0xffefffffffffffff, f64b(1.0), f64b(-1.0), f64b(2.5), f64b(-2.5), f64b(0.5), f64b(-1.5), f64b(3.5),
        f64b(1e300), f64b(-1e-300), f64b(2147483647.0), f64b(2147483647.5), f64b(-2147483648.5), f64b(-2147483648.0), f64b(9.223372036854775e18), f64b(-9.223372036854775808e18), f64b(0.1), f64b(1.0/3), f64b(4503599627370497.5), f64b(1e-310)]
def rf32():
    c = random.random()
    if c < 0.4: return random.choice(F32S)
    if c < 0.8: return f32b(struct.unpack('<f', struct.pack('<f', random.uniform(-100, 100)))[0])
    return random.getrandbits(32)
def rf64():
    c = random.random()
    if c < 0.4: return random.choice(F64S)
    if c < 0.8: return f64b(random.uniform(-100, 100) * 10 ** random.randint(-5, 5))
    return random.getrandbits(64)
def rf32r():
    c = random.random()
    if c < 0.5: return random.choice(F32S)
    return f32b(struct.unpack('<f', struct.pack('<f', random.choice([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.49, -3.51]) + random.randint(-10, 10)))[0])
def rf64r():
    c = random.random()
    if c < 0.5: return random.choice(F64S)
    return f64b(random.choice([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.49, -3.51, 0.0]) + random.randint(-10, 10))
def v128(kind):
    if kind == 'f32' : return sum(rf32() << (32 * k) for k in range(4))
    if kind == 'f32r': return sum(rf32r() << (32 * k) for k in range(4))
    if kind == 'f64': return rf64() | (rf64() << 64)
    if kind == 'f64r': return rf64r() | (rf64r() << 64)
    if kind == 'sparse': return random.choice([0, 1 << random.randint(0, 127), r64() | (r64() << 64), (1 << 128) - 1])
    if kind == 'byte': # bytes from a small set for saturation
        return sum(random.choice([0, 1, 0x7f, 0x80, 0x81, 0xff, 0xfe, random.getrandbits(8)]) << (8 * k) for k in range(16))
    return r64() | (r64() << 64)
MXS = [0x1f80, 0x3f80, 0x5f80, 0x7f80]
def lanes32(vs): return sum((v & 0xffffffff) << (32 * k) for k, v in enumerate(vs))
def lanes64(vs): return sum((v & M64) << (64 * k) for k, v in enumerate(vs))
M64 = (1 << 64) - 1
def must(o):
    """The cases every float instruction gets whatever the random draw: NaNs in
    both operands (which one propagates: where vendors may differ), NaNs beside
    numbers, denormals (and under DAZ|FTZ), and inexact results under each
    rounding mode."""
    inp = o['inp']
    if not inp.startswith('f'):
        return []
    if inp.startswith('f32'):
        nan_a = lanes32([0x7fc00001, 0x7f800002, 0xffc00003, 0x7fa00004])
        nan_b = lanes32([0xffc00011, 0x7fc00012, 0x7f800013, 0xffa00014])
        mixed_a = lanes32([0x7fc00021, f32b(1.5), 0xff800022, f32b(-2.0)])
        mixed_b = lanes32([f32b(3.0), 0x7fc00031, f32b(0.25), 0x7fa00032])
        den_a = lanes32([0x00000001, 0x807fffff, f32b(1.0), 0x00400000])
        den_b = lanes32([0x00000003, f32b(2.0), 0x80000005, 0x00000001])
        third = lanes32([f32b(1.0 / 3), f32b(-2.0 / 3), f32b(1e-3), f32b(7.1)])
        seventh = lanes32([f32b(1.0 / 7), f32b(3.0 / 7), f32b(-9.7), f32b(0.3)])
    else:
        nan_a = lanes64([0x7ff8000000000001, 0xfff0000000000002])
        nan_b = lanes64([0xfff8000000000011, 0x7ff4000000000012])
        mixed_a = lanes64([0x7ff8000000000021, f64b(-2.0)])
        mixed_b = lanes64([f64b(3.0), 0x7ff4000000000031])
        den_a = lanes64([1, 0x800fffffffffffff])
        den_b = lanes64([3, f64b(2.0)])
        third = lanes64([f64b(1.0 / 3), f64b(-2.0 / 3)])
        seventh = lanes64([f64b(1.0 / 7), f64b(3.0 / 7)])
    out = [[nan_a, nan_b, 0, 0x1f80], [nan_b, nan_a, 0, 0x1f80], [mixed_a, mixed_b, 0, 0x1f80],
           [den_a, den_b, 0, 0x1f80], [den_b, den_a, 0, 0x1f80], [den_a, den_b, 0, 0x9fc0]]
    out += [[third, seventh, 0, mx] for mx in MXS]
    return out
def cases(o):
    out = must(o)
    inp = o['inp']
    n = 24 if inp.startswith('f') else 8
    for k in range(n):
        if inp == 'cnt':
            a = v128('int'); b = random.choice([0, 1, 3, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1 << 40, (1 << 64) - 1]) | (r64() << 64)
        elif inp == 'eq':
            a = v128('int'); b = a ^ random.choice([0, 0xff, 0xff00ff00ff, 1 << 70, 0xffff << 80, r64()])
        elif inp == 'int':
            a = v128('byte' if k % 2 else 'int'); b = v128('byte' if k % 3 == 0 else 'int')
        else:
            a = v128(inp); b = v128(inp)
            if k % 5 == 0: b = a
        mx = MXS[k % 4] if inp in ('f32r', 'f64r') else (0x1f80 if k % 3 else random.choice(MXS))
        rax = r64()
        if o['kind'] == 'gin':
            rax = random.choice([0, 1, (1 << 64) - 1, 1 << 63, (1 << 63) - 1, 0x7fffffff, 0x80000000, 0xffffffff, 16777217, (1 << 53) + 1, 0x123456789abcdef0, r64(), r64(), (1 << 60) + 0xfff, -(1 << 60) - 1 + (1 << 64), ((1 << 54) + 3)])
        out.append([a, b, rax, mx])
    return out

for o in OPS:
    o['cases'] = cases(o)

def cpu_label():
    """The CPU that answered: vendor, family, model and name, from /proc/cpuinfo."""
    info = {}
    for line in open('/proc/cpuinfo'):
        k, _, v = line.partition(':')
        info.setdefault(k.strip(), v.strip())
        if not line.strip():
            break
    return f"{info.get('vendor_id')} family {info.get('cpu family')} model {info.get('model')} ({info.get('model name')})"

# ---- C program ----
C = ['#include <stdio.h>', '#include <stdint.h>', 'typedef struct { uint64_t x0[2], x1[2], rax, fl; uint32_t mx, pad; } st_t;']
for idx, o in enumerate(OPS):
    C.append(f'static void f{idx}(st_t *s) {{ __asm__ volatile('
             '"ldmxcsr 48(%%rdi)\\n\\tmovdqu 0(%%rdi), %%xmm0\\n\\tmovdqu 16(%%rdi), %%xmm1\\n\\tmovq 32(%%rdi), %%rax\\n\\t'
             'xor %%ecx, %%ecx\\n\\t'
             f'{o["asm"].replace("%", "%%")}\\n\\t'
             'pushfq\\n\\tpopq 40(%%rdi)\\n\\tmovdqu %%xmm0, 0(%%rdi)\\n\\tmovdqu %%xmm1, 16(%%rdi)\\n\\tmovq %%rax, 32(%%rdi)\\n\\tstmxcsr 48(%%rdi)\\n\\t'
             '" :: "D"(s) : "rax", "rcx", "xmm0", "xmm1", "cc", "memory"); }')
C.append('static void (*FN[])(st_t *) = {' + ','.join(f'f{k}' for k in range(len(OPS))) + '};')
C.append('int main(void) { st_t s; unsigned idx; unsigned long long a0,a1,b0,b1,rax; unsigned mx;')
C.append(' while (scanf("%u %llx %llx %llx %llx %llx %x", &idx, &a0, &a1, &b0, &b1, &rax, &mx) == 7) {')
C.append('  s.x0[0]=a0; s.x0[1]=a1; s.x1[0]=b0; s.x1[1]=b1; s.rax=rax; s.mx=mx; FN[idx](&s);')
C.append('  printf("%llx %llx %llx %llx %llx %llx %x\\n", (unsigned long long)s.x0[0], (unsigned long long)s.x0[1], (unsigned long long)s.x1[0], (unsigned long long)s.x1[1], (unsigned long long)s.rax, (unsigned long long)s.fl, s.mx); }')
C.append(' return 0; }')
open(OUT + '/sse_oracle.c', 'w').write('\n'.join(C) + '\n')
subprocess.check_call(['gcc', '-O1', '-mno-red-zone', '-o', OUT + '/sse_oracle', OUT + '/sse_oracle.c'])
inp = []
for idx, o in enumerate(OPS):
    for a, b, rax, mx in o['cases']:
        inp.append(f'{idx} {a & M64:x} {a >> 64:x} {b & M64:x} {b >> 64:x} {rax:x} {mx:x}')
res = subprocess.run([OUT + '/sse_oracle'], input='\n'.join(inp) + '\n', capture_output=True, text=True, check=True).stdout.split('\n')
k = 0
data = []
for idx, o in enumerate(OPS):
    rows = []
    for a, b, rax, mx in o['cases']:
        r = res[k].split(); k += 1
        x0 = int(r[0], 16) | (int(r[1], 16) << 64)
        x1 = int(r[2], 16) | (int(r[3], 16) << 64)
        rrax = int(r[4], 16); fl = int(r[5], 16); rmx = int(r[6], 16)
        rows.append([f'{a:032x}', f'{b:032x}', f'{rax:016x}', mx, f'{x0:032x}', f'{x1:032x}', f'{rrax:016x}', fl & 0x8d5, rmx])
    data.append({k2: o[k2] for k2 in ('name', 'map', 'op', 'pfx', 'imm', 'w', 'reg', 'rm', 'kind', 'inp')} | {'rows': rows})
json.dump({'cpu': cpu_label(), 'ops': data}, open(OUT + '/sse_data.json', 'w'))
print(len(OPS), 'ops', k, 'cases')
