// ULIDs: 48 bits of milliseconds, then 80 random bits, as 26 characters of Crockford base32.
// Ids made in the same millisecond increase by one, so they sort in the order they were made.

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const RANDOM_BYTES = 10

/** A generator of ULIDs that increase monotonically, even within one millisecond. */
export class UlidGenerator {
  constructor (now = Date.now) {
    this.now = now
    this.lastTime = -1
    this.lastRandom = new Uint8Array(RANDOM_BYTES)
  }

  next () {
    const time = this.now()
    if (time > this.lastTime) {
      this.lastTime = time
      globalThis.crypto.getRandomValues(this.lastRandom)
    } else if (!incrementBytes(this.lastRandom)) {
      // 2^80 ids in one millisecond is out of reach; borrowing the next millisecond keeps order
      this.lastTime += 1
      globalThis.crypto.getRandomValues(this.lastRandom)
    }
    return encodeTime(this.lastTime) + encodeRandom(this.lastRandom)
  }
}

const shared = new UlidGenerator()

/** A new ULID from the process-wide generator. */
export function ulid () {
  return shared.next()
}

/** The millisecond timestamp a ULID carries. */
export function ulidTime (id) {
  let time = 0
  for (const char of id.slice(0, 10)) time = time * 32 + ALPHABET.indexOf(char)
  return time
}

function encodeTime (time) {
  let text = ''
  for (let position = 0; position < 10; position++) {
    text = ALPHABET[time % 32] + text
    time = Math.floor(time / 32)
  }
  return text
}

function encodeRandom (bytes) {
  let value = 0n
  for (const byte of bytes) value = (value << 8n) | BigInt(byte)
  let text = ''
  for (let position = 0; position < 16; position++) {
    text = ALPHABET[Number(value & 31n)] + text
    value >>= 5n
  }
  return text
}

// false when every byte overflowed (the random part was all ones)
function incrementBytes (bytes) {
  for (let index = bytes.length - 1; index >= 0; index--) {
    if (bytes[index] < 255) {
      bytes[index] += 1
      return true
    }
    bytes[index] = 0
  }
  return false
}
