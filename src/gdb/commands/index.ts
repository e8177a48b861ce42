/** Every packet the stub knows, grouped by the module that handles it. */
import type { Command } from './command.js';
import { baseCommands } from './base.js';
import { breakpointCommands } from './breakpoints.js';
import { extendedCommands } from './extended.js';
import { hostIoCommands } from './host-io.js';
import { monitorCommands } from './monitor.js';
import { memoryCommands, registerCommands } from './registers.js';
import { resumeCommands } from './resume.js';
import { signalCommands } from './signals.js';
import { threadCommands } from './threads.js';
import { xferCommands } from './xfer.js';

export const COMMANDS: readonly Command[] = [
  ...baseCommands,
  ...registerCommands,
  ...memoryCommands,
  ...threadCommands,
  ...resumeCommands,
  ...breakpointCommands,
  ...xferCommands,
  ...signalCommands,
  ...hostIoCommands,
  ...monitorCommands,
  ...extendedCommands,
];
