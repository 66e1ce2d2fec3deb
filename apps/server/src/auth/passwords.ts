import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashes for local accounts: scrypt from node:crypto (no native addon), stored as
 * `scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>`. Generate one with
 * `pnpm --filter @mailroom/server hash-password`.
 */
const DEFAULT = { N: 2 ** 15, r: 8, p: 1, keyLength: 32 };
const FORMAT = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

function scrypt(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCallback(password.normalize('NFC'), salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key))));
}

function memoryFor(N: number, r: number): number {
  return 128 * N * r * 2;
}

export async function hashPassword(password: string, params: Partial<typeof DEFAULT> = {}): Promise<string> {
  const { N, r, p, keyLength } = { ...DEFAULT, ...params };
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, keyLength, { N, r, p, maxmem: memoryFor(N, r) });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Whether `encoded` has the format hashPassword writes (checked when the config loads). */
export function isPasswordHash(encoded: string): boolean {
  const m = FORMAT.exec(encoded);
  if (!m) return false;
  const N = Number(m[1]);
  return N >= 2 ** 14 && N <= 2 ** 20 && (N & (N - 1)) === 0 && Number(m[2]) >= 1 && Number(m[2]) <= 32 && Number(m[3]) >= 1 && Number(m[3]) <= 16;
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const m = FORMAT.exec(encoded);
  if (!m || !isPasswordHash(encoded)) return false;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const expected = Buffer.from(m[5]!, 'base64');
  const actual = await scrypt(password, Buffer.from(m[4]!, 'base64'), expected.length, { N, r, p, maxmem: memoryFor(N, r) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A hash no password matches: verifying against it makes an unknown user cost as much time as a known one. */
export const DUMMY_HASH = `scrypt$${DEFAULT.N}$${DEFAULT.r}$${DEFAULT.p}$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(32).toString('base64')}`;
