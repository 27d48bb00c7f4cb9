// ULIDs and hybrid logical clock stamps, as the protocol defines them.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { UlidGenerator, ulidTime } from '../src/ulid.js'
import { HybridClock } from '../src/hlc.js'

const CROCKFORD = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/

test('a ULID is 26 Crockford characters whose first 10 carry the milliseconds', () => {
  const generator = new UlidGenerator(() => 1_700_000_000_123)
  const id = generator.next()
  assert.match(id, CROCKFORD)
  assert.equal(ulidTime(id), 1_700_000_000_123)
})

test('ULIDs made in one millisecond increase; a later millisecond sorts after', () => {
  let now = 1_700_000_000_000
  const generator = new UlidGenerator(() => now)
  const sameMillisecond = Array.from({ length: 1000 }, () => generator.next())
  assert.deepEqual([...sameMillisecond].sort(), sameMillisecond)
  assert.equal(new Set(sameMillisecond).size, 1000)
  now += 1
  const later = generator.next()
  assert.ok(later > sameMillisecond.at(-1))
  // a clock that steps back does not make ids go back
  now -= 5
  assert.ok(generator.next() > later)
})

test('two generators in the same millisecond make different ids', () => {
  const ids = new Set()
  for (let n = 0; n < 100; n++) ids.add(new UlidGenerator(() => 42).next())
  assert.equal(ids.size, 100)
})

test('stamps are 12 hex digits of milliseconds and 4 of counter, and only grow', () => {
  let now = 0x18c2a4f93a2
  const clock = new HybridClock(() => now)
  assert.equal(clock.next(), '018c2a4f93a20000')
  assert.equal(clock.next(), '018c2a4f93a20001')
  now += 1
  assert.equal(clock.next(), '018c2a4f93a30000')
  now -= 10
  assert.equal(clock.next(), '018c2a4f93a30001')
})

test('observing a later stamp moves the clock past it; an earlier one does nothing', () => {
  const clock = new HybridClock(() => 1000)
  clock.observe('0000000f00000005')
  assert.equal(clock.next(), '0000000f00000006')
  clock.observe('0000000000000001')
  assert.equal(clock.next(), '0000000f00000007')
  clock.observe('not a stamp')
  assert.equal(clock.current(), '0000000f00000007')
})

test('a full counter carries into the next millisecond', () => {
  const clock = new HybridClock(() => 5)
  clock.observe('000000000005fffe')
  assert.equal(clock.next(), '000000000005ffff')
  assert.equal(clock.next(), '0000000000060000')
})
