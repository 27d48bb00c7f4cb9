// A real WebHost for the tests: `webhost up` on a data dir of its own and free ports, a customer
// signed up on the hobby plan, and an API key. Stopped with Ctrl-C (SIGINT) as a user stops it;
// killed with SIGKILL of its process group as a crash does.

import { spawn, execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, openSync, readFileSync, readdirSync, closeSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitFor } from './wait.js'

const REPOSITORY = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..')
// WEBHOST_BIN points the tests at another build of the platform
const WEBHOST_BIN = process.env.WEBHOST_BIN ?? join(REPOSITORY, '.venv/bin/webhost')
const PASSWORD = 'a long password for tests'

export async function freePort () {
  const server = createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

export class Platform {
  constructor () {
    this.home = mkdtempSync(join(tmpdir(), 'webhost-sdk-'))
    this.dataDir = join(this.home, 'data')
    this.process = null
    this.runs = 0
  }

  get controlUrl () {
    return `http://127.0.0.1:${this.port}`
  }

  /** Starts `webhost up` and waits for its banner (the same ports on every restart). */
  async start () {
    if (!existsSync(WEBHOST_BIN)) {
      throw new Error(`${WEBHOST_BIN} not found: run ./dev test once, or set WEBHOST_BIN`)
    }
    this.port ??= await freePort()
    this.dataPort ??= await freePort()
    this.edgePort ??= await freePort()
    this.firstDedicatedPort ??= 30_000 + Math.floor(Math.random() * 3000) * 10
    this.log = join(this.home, `up-${this.runs++}.log`)
    const output = openSync(this.log, 'w')
    const env = { ...process.env, WEBHOST_LOG_LEVEL: 'warning', COLUMNS: '200' }
    delete env.DATABASE_URL
    env.WEBHOST_DEDICATED_PORTS = `${this.firstDedicatedPort}-${this.firstDedicatedPort + 9}`
    const args = [
      'up', '--data-dir', this.dataDir,
      '--port', String(this.port), '--data-port', String(this.dataPort), '--edge-port', String(this.edgePort)
    ]
    const child = spawn(WEBHOST_BIN, args, { env, detached: true, stdio: ['ignore', output, output] })
    closeSync(output)
    this.process = child
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
    let exitedEarly = false
    this.exited.then(() => { exitedEarly = true })
    await waitFor(() => exitedEarly || this.output().includes('Press Ctrl-C'), {
      timeout: 180_000,
      message: 'webhost up to start'
    })
    if (exitedEarly) throw new Error(`webhost up exited:\n${this.output()}`)
  }

  output () {
    return existsSync(this.log) ? readFileSync(this.log, 'utf8') : ''
  }

  /** Ctrl-C, then waits for it to exit; a server that hangs is killed. */
  async stop () {
    if (!this.process) return
    const child = this.process
    this.process = null
    child.kill('SIGINT')
    let timer
    const hung = new Promise((resolve) => { timer = setTimeout(() => resolve('hung'), 90_000) })
    const outcome = await Promise.race([this.exited, hung])
    clearTimeout(timer)
    if (outcome === 'hung') {
      killGroup(child.pid)
      await this.exited
    }
    stopLeftoverPostgres(join(this.dataDir, 'postgres'))
  }

  /** kill -9 of the whole process group, as a crash does. */
  async kill () {
    const child = this.process
    this.process = null
    killGroup(child.pid)
    await this.exited
  }

  async remove () {
    await this.stop()
    rmSync(this.home, { recursive: true, force: true })
  }

  /** A new customer on the hobby plan, its active deployment and an API key. */
  async signUp (name = 'sdk') {
    const unique = `${name}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`
    const signup = await this.api('POST', '/api/signup', null, {
      email: `${unique}@example.com`,
      password: PASSWORD,
      name: 'Ada',
      organization: `Org ${unique}`,
      plan: 'hobby'
    })
    const token = signup.token
    const deployment = await waitFor(async () => {
      const current = await this.api('GET', `/api/deployments/${signup.deployment.id}`, token)
      if (current.status === 'failed') throw new Error(`provisioning failed: ${JSON.stringify(current)}`)
      return current.status === 'active' ? current : null
    }, { timeout: 120_000, message: 'deployment active' })
    const { key } = await this.api('POST', '/api/keys', token, { name: 'tests' })
    return { apiUrl: deployment.api_url, syncUrl: deployment.sync_url, apiKey: key }
  }

  async api (method, path, token, body) {
    const headers = { 'content-type': 'application/json' }
    if (token) headers.authorization = `Bearer ${token}`
    const response = await fetch(this.controlUrl + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body)
    })
    const text = await response.text()
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`)
    return JSON.parse(text)
  }
}

function killGroup (pid) {
  try {
    process.kill(-pid, 'SIGKILL')
  } catch (error) {
    if (error.code !== 'ESRCH') throw error
  }
}

// The embedded PostgreSQL outlives a killed `webhost up` by design; the last clean stop ends
// it. A test that failed half-way may not get there, so this makes sure nothing is left.
function stopLeftoverPostgres (pgdata) {
  if (!existsSync(join(pgdata, 'postmaster.pid'))) return
  const site = join(REPOSITORY, '.venv/lib')
  const python = existsSync(site) ? readdirSync(site).find((entry) => entry.startsWith('python')) : null
  const pgCtl = python && join(site, python, 'site-packages/pgserver/pginstall/bin/pg_ctl')
  if (!pgCtl || !existsSync(pgCtl)) return
  try {
    execFileSync(pgCtl, ['-D', pgdata, 'stop', '-m', 'fast'], { stdio: 'ignore' })
  } catch {
    // it was not running after all
  }
}
