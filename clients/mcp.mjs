// The MCP TypeScript SDK's own client against agentkeys' MCP tools, over
// streamable HTTP (the daemon's /mcp) and over stdio (`agentkeys mcp`),
// as Claude Desktop, Cursor and agent frameworks connect. Run by
// internal/mcp/clients_test.go; prints one JSON line per transport.
//
// Config ($AGENTKEYS_MCP_CONFIG): {"mcp_url", "token", "agentkeys",
// "home", "stranger"}; the credential reaches `agentkeys mcp` in its
// environment, never its arguments.

import { readFileSync } from 'node:fs'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'

const cfg = JSON.parse(process.env.AGENTKEYS_MCP_CONFIG ?? '{}')
for (const f of ['mcp_url', 'token', 'agentkeys', 'home', 'stranger']) {
  if (!cfg[f]) throw new Error(`config: ${f} is missing`)
}
const version = JSON.parse(readFileSync(new URL('./node_modules/@modelcontextprotocol/sdk/package.json', import.meta.url), 'utf8')).version

const text = (res) => (res.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('')

async function session(transportName) {
  const client = new Client({ name: 'agentkeys-clients-test', version: '1' })
  const transport = transportName === 'http'
    ? new StreamableHTTPClientTransport(new URL(cfg.mcp_url), { requestInit: { headers: { Authorization: `Bearer ${cfg.token}` } } })
    : new StdioClientTransport({
      command: cfg.agentkeys,
      args: ['mcp', '--home', cfg.home],
      env: { ...process.env, AGENTKEYS_TOKEN: cfg.token, AGENTKEYS_RPC_URL: '' },
      stderr: 'pipe'
    })
  await client.connect(transport)
  const report = { library: '@modelcontextprotocol/sdk', version, transport: transportName, ok: false }
  try {
    const { tools } = await client.listTools()
    report.tools = tools.map((t) => t.name).sort()
    const info = await client.callTool({ name: 'wallet_info', arguments: {} })
    report.wallet_info = { is_error: !!info.isError, address: info.structuredContent?.address, chain_id: info.structuredContent?.chain_id }
    const swap = await client.callTool({ name: 'swap', arguments: { token_in: 'ETH', token_out: 'USDC', amount: '0.01', max_slippage: 0.01 } })
    report.swap = { is_error: !!swap.isError, text: swap.isError ? text(swap) : undefined, ...(swap.structuredContent ?? {}) }
    const transfer = await client.callTool({ name: 'send_transaction', arguments: { to: cfg.stranger, value: '0.01' } })
    report.transfer = { is_error: !!transfer.isError, text: text(transfer) }
    report.ok = true
  } catch (err) {
    report.error = String(err?.stack ?? err)
  } finally {
    await client.close()
  }
  return report
}

let failed = false
for (const t of ['http', 'stdio']) {
  let rep
  try {
    rep = await session(t)
  } catch (err) {
    rep = { transport: t, ok: false, error: String(err?.stack ?? err) }
  }
  failed ||= !rep.ok
  console.log(JSON.stringify(rep))
}
process.exit(failed ? 1 : 0)
