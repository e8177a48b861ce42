/**
 * CPU exceptions. A fault is thrown from deep inside an instruction and caught by
 * the run loop; because handlers write architectural state only after their last
 * memory access can fault, RIP and registers are those of the faulting instruction.
 */
export const enum Vector {
  DE = 0, // divide error
  DB = 1, // debug (single step)
  BP = 3, // int3
  UD = 6, // invalid opcode
  NM = 7,
  GP = 13, // general protection
  PF = 14, // page fault
  MF = 16,
  XM = 19, // SIMD floating point
}

/** Page-fault error code bits, as the CPU pushes them. */
export const PF_PRESENT = 1;
export const PF_WRITE = 2;
export const PF_USER = 4;
export const PF_FETCH = 16;

export class CpuFault extends Error {
  constructor(
    readonly vector: Vector,
    /** Faulting linear address for #PF (CR2); 0 otherwise. */
    readonly addr: number = 0,
    readonly errorCode: number = 0,
  ) {
    super(`cpu fault vector ${vector}`);
  }
}

/** Raised by the decoder for bytes it cannot decode, carrying them for the report. */
export class UndefinedOpcode extends CpuFault {
  constructor(readonly bytes: number[]) {
    super(Vector.UD);
  }
}
