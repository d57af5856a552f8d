// Helpers shared by viem.mjs and ethers.mjs: reading the config, checking
// outcomes, describing how a library surfaced a JSON-RPC error, and
// printing the one JSON line each script ends with.

import { readFileSync } from 'node:fs'

const FIELDS = ['rpc_url', 'token', 'owner', 'router', 'weth', 'usdc', 'chain_id', 'stranger']

// readConfig takes the JSON config from argv[2] (inline JSON or a file
// path) or from $AGENTKEYS_CLIENT_CONFIG.
export function readConfig() {
  let src = process.argv[2] ?? process.env.AGENTKEYS_CLIENT_CONFIG
  if (!src) {
    throw new Error('config: pass JSON as the first argument or in $AGENTKEYS_CLIENT_CONFIG')
  }
  if (!src.trimStart().startsWith('{')) src = readFileSync(src, 'utf8')
  const cfg = JSON.parse(src)
  for (const f of FIELDS) {
    if (cfg[f] === undefined || cfg[f] === '') throw new Error(`config: ${f} is missing`)
  }
  cfg.chain_id = Number(cfg.chain_id)
  return cfg
}

// permit2Single is the EIP-712 document both clients sign as the allowed
// typed data: a Permit2 PermitSingle letting the router (and only the
// router) take 50 USDC.
export function permit2Single(cfg) {
  return {
    domain: { name: 'Permit2', chainId: cfg.chain_id, verifyingContract: cfg.permit2 },
    types: {
      PermitDetails: [
        { name: 'token', type: 'address' },
        { name: 'amount', type: 'uint160' },
        { name: 'expiration', type: 'uint48' },
        { name: 'nonce', type: 'uint48' },
      ],
      PermitSingle: [
        { name: 'details', type: 'PermitDetails' },
        { name: 'spender', type: 'address' },
        { name: 'sigDeadline', type: 'uint256' },
      ],
    },
    primaryType: 'PermitSingle',
    message: {
      details: { token: cfg.usdc, amount: 50_000_000n, expiration: 1_800_000_000, nonce: 0 },
      spender: cfg.router,
      sigDeadline: 1_800_000_000n,
    },
  }
}

export function check(cond, what) {
  if (!cond) throw new Error(`unexpected: ${what}`)
}

export const sameAddress = (a, b) => typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase()

// causes lists err and everything below it, following .cause and .error
// (viem nests causes; ethers puts the JSON-RPC error object in .error),
// each with the path from the top-level error.
export function causes(err) {
  const out = []
  const seen = new Set()
  const walk = (e, path) => {
    if (e === null || typeof e !== 'object' || seen.has(e) || out.length > 20) return
    seen.add(e)
    out.push({ path, e })
    walk(e.cause, `${path}.cause`)
    walk(e.error, `${path}.error`)
    walk(e.info?.error, `${path}.info.error`)
  }
  walk(err, 'err')
  return out
}

// surfaced describes how a library showed a JSON-RPC error: the chain of
// error types, where the numeric code and data.reasons were found, and
// what the top-level error said.
export function surfaced(err) {
  const chain = causes(err)
  const withCode = chain.find(({ e }) => typeof e.code === 'number')
  const withReasons = chain.find(({ e }) => Array.isArray(e.data?.reasons))
  return {
    chain: chain.map(({ path, e }) => `${path}: ${e.name ?? e.constructor?.name ?? 'object'}` +
      (e.code !== undefined ? ` code=${JSON.stringify(e.code)}` : '')),
    top: { name: err?.name, code: err?.code, message: firstLine(err?.shortMessage ?? err?.message) },
    code: withCode?.e.code,
    code_path: withCode ? `${withCode.path}.code` : undefined,
    reasons: withReasons?.e.data.reasons,
    reasons_path: withReasons ? `${withReasons.path}.data.reasons` : undefined,
    rpc_message: chain.find(({ e }) => e.code === withCode?.e.code && typeof e.message === 'string' && !e.name)?.e.message,
  }
}

function firstLine(s) {
  return typeof s === 'string' ? s.split('\n')[0] : s
}

// expectRefusal runs fn, which must fail with JSON-RPC error 4001 carrying
// data.reasons, one of which contains want.
export async function expectRefusal(what, fn, want) {
  let err
  try {
    const result = await fn()
    throw new Error(`unexpected: ${what} succeeded (${JSON.stringify(result, bigints)})`)
  } catch (e) {
    if (e?.message?.startsWith?.('unexpected:')) throw e
    err = e
  }
  const s = surfaced(err)
  check(s.code === 4001, `${what}: error code ${s.code}, want 4001 (${s.top.name}: ${s.top.message})`)
  check(Array.isArray(s.reasons) && s.reasons.length > 0, `${what}: no data.reasons in the error (${s.chain.join(' > ')})`)
  check(s.reasons.some((r) => r.includes(want)), `${what}: reasons ${JSON.stringify(s.reasons)} lack ${JSON.stringify(want)}`)
  return s
}

// observe runs fn and reports how it ended, without judging it.
export async function observe(fn) {
  try {
    return { ok: true, result: await fn() }
  } catch (err) {
    return { ok: false, ...surfaced(err) }
  }
}

export function bigints(_k, v) {
  return typeof v === 'bigint' ? v.toString() : v
}

// main runs the script's body and prints one JSON line: the results, or
// the error; the exit code is non-zero on any unexpected outcome.
export async function main(library, version, body) {
  const out = { library, version, ok: false }
  try {
    Object.assign(out, await body(readConfig(), out))
    out.ok = true
  } catch (err) {
    out.error = err?.stack ?? String(err)
  }
  process.stdout.write(JSON.stringify(out, bigints) + '\n')
  process.exitCode = out.ok ? 0 : 1
}
