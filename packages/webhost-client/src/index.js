export { WebHostClient } from './client.js'
export { WebHostError, NetworkError } from './errors.js'
export { ulid } from './ulid.js'
