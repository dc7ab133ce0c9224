import { execFileSync } from 'node:child_process';

/** Which code figures are for: the commit, and whether src differed from it when the run began. */
export function revision() {
  const git = (...args) => execFileSync('git', args, { encoding: 'utf8' }).trim();
  try {
    return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--', 'src') ? ' with uncommitted changes in src' : ''}`;
  } catch {
    return 'an unknown commit (no git)';
  }
}
