import { createInterface } from 'node:readline';
import { hashPassword } from './passwords';

/** Reads a password from stdin (one line) and prints the hash for `auth.users[].passwordHash`. */
async function main(): Promise<void> {
  if (process.stdin.isTTY) process.stderr.write('Password (input is echoed; pipe it in to avoid that): ');
  const rl = createInterface({ input: process.stdin });
  const line = await new Promise<string>((resolve) => rl.once('line', resolve).once('close', () => resolve('')));
  rl.close();
  if (line.length < 8) {
    process.stderr.write('A password needs at least 8 characters.\n');
    process.exit(1);
  }
  process.stdout.write(`${await hashPassword(line)}\n`);
}

void main();
