/**
 * Tunnel names. A name is also the VM's name and a tag or label value in every cloud, so it keeps
 * to what all of them accept: lowercase letters, digits and hyphens, starting with a letter, at
 * most 63 characters (a DNS label).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { UsageError } from '../errors.js';

const ADJECTIVES = [
  'amber', 'brave', 'calm', 'clever', 'cosy', 'crisp', 'eager', 'fancy', 'gentle', 'happy',
  'jolly', 'keen', 'lively', 'lucky', 'merry', 'nimble', 'polite', 'proud', 'quick', 'quiet',
  'rapid', 'shiny', 'silent', 'smart', 'steady', 'sunny', 'swift', 'tidy', 'witty', 'zesty',
];
const NOUNS = [
  'badger', 'beaver', 'condor', 'dolphin', 'falcon', 'ferret', 'gecko', 'heron', 'ibex', 'jackal',
  'koala', 'lemur', 'lynx', 'marten', 'moose', 'narwhal', 'ocelot', 'otter', 'panda', 'puffin',
  'quokka', 'raven', 'salmon', 'stoat', 'tapir', 'toucan', 'walrus', 'wombat', 'yak', 'zebra',
];

const NAME_PATTERN = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A readable, probably unique name: `inlets-<adjective>-<noun>-<4 hex>`. */
export function generateName(): string {
  const adjective = ADJECTIVES[randomInt(ADJECTIVES.length)];
  const noun = NOUNS[randomInt(NOUNS.length)];
  return `inlets-${adjective}-${noun}-${randomBytes(2).toString('hex')}`;
}

/** Throws a {@link UsageError} (`BAD_NAME`) unless `name` is a valid tunnel name. */
export function validateName(name: string): string {
  if (!NAME_PATTERN.test(name) || name.includes('--')) {
    throw new UsageError(
      `invalid tunnel name "${name}": use 1-63 lowercase letters, digits and single hyphens, starting with a letter`,
      'BAD_NAME',
    );
  }
  return name;
}
