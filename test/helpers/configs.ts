/** The four entry configurations every fixture and applet must pass in. */
export const CONFIGS: { name: string; args: string[] }[] = [
  { name: 'nommu/zpoline', args: ['--entry', 'nommu', '--hook', 'zpoline'] },
  { name: 'nommu/lazy', args: ['--entry', 'nommu', '--hook', 'lazy'] },
  { name: 'nommu/seccomp', args: ['--entry', 'nommu', '--hook', 'seccomp'] },
  { name: 'native', args: ['--entry', 'native'] },
  { name: 'direct', args: ['--entry', 'direct'] },
];
