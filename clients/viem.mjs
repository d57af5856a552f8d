// viem, unmodified, against agentkeys' /rpc: the bearer credential rides
// in the HTTP transport's headers and the wallet client's account is the
// owner's address as a JSON-RPC account, so viem asks the node (agentkeys)
// to sign with eth_sendTransaction and eth_signTypedData_v4.
//
//   node viem.mjs '{"rpc_url":..., "token":..., "owner":..., "router":...,
//                   "weth":..., "usdc":..., "chain_id":..., "stranger":...}'

import { readFileSync } from 'node:fs'
import { createPublicClient, createWalletClient, defineChain, http, parseAbi, parseEther, recoverTypedDataAddress } from 'viem'
import { check, expectRefusal, main, observe, permit2Single, sameAddress } from './lib.mjs'

const version = JSON.parse(readFileSync(new URL('./node_modules/viem/package.json', import.meta.url), 'utf8')).version

const routerAbi = parseAbi([
  'function swapExactETHForTokens(uint256 amountOutMin, address[] path, address to, uint256 deadline) payable returns (uint256[] amounts)',
])
const erc20Abi = parseAbi([
  'function balanceOf(address) view returns (uint256)',
  'function transfer(address to, uint256 amount) returns (bool)',
])

await main('viem', version, async (cfg, out) => {
  const chain = defineChain({
    id: cfg.chain_id,
    name: 'agentkeys sandbox',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [cfg.rpc_url] } },
  })
  const transport = http(cfg.rpc_url, {
    fetchOptions: { headers: { Authorization: `Bearer ${cfg.token}` } },
    timeout: 30_000,
  })
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 100 })
  const wallet = createWalletClient({ account: cfg.owner, chain, transport, pollingInterval: 100 })
  check(wallet.account.type === 'json-rpc', `wallet account type ${wallet.account.type}, want json-rpc`)

  // (1) chain id and accounts.
  out.chain_id = await publicClient.getChainId()
  check(out.chain_id === cfg.chain_id, `eth_chainId ${out.chain_id}, want ${cfg.chain_id}`)
  out.addresses = await wallet.getAddresses() // eth_accounts
  check(out.addresses.length === 1 && sameAddress(out.addresses[0], cfg.owner), `eth_accounts ${out.addresses}, want [${cfg.owner}]`)
  out.requested_addresses = await wallet.requestAddresses() // eth_requestAccounts
  check(sameAddress(out.requested_addresses[0], cfg.owner), `eth_requestAccounts ${out.requested_addresses}`)

  // (2) balances.
  const balance = await publicClient.getBalance({ address: cfg.owner })
  check(balance > 0n, `eth_getBalance of the owner is ${balance}`)
  out.balance_wei = balance.toString()
  const usdcBalance = () => publicClient.readContract({ address: cfg.usdc, abi: erc20Abi, functionName: 'balanceOf', args: [cfg.owner] })
  const usdcBefore = await usdcBalance()

  // (3) a swap through the router, paid out to the owner: simulated with
  // eth_call, sent with eth_sendTransaction, mined.
  const { request } = await publicClient.simulateContract({
    account: cfg.owner,
    address: cfg.router,
    abi: routerAbi,
    functionName: 'swapExactETHForTokens',
    args: [1n, [cfg.weth, cfg.usdc], cfg.owner, 4_000_000_000n],
    value: parseEther('0.01'),
  })
  const hash = await wallet.writeContract(request)
  const receipt = await publicClient.waitForTransactionReceipt({ hash, timeout: 30_000 })
  check(receipt.status === 'success', `swap receipt status ${receipt.status}`)
  check(sameAddress(receipt.from, cfg.owner), `swap sent from ${receipt.from}`)
  const usdcAfter = await usdcBalance()
  check(usdcAfter > usdcBefore, `USDC balance did not grow: ${usdcBefore} -> ${usdcAfter}`)
  out.swap = { hash, status: receipt.status, block: receipt.blockNumber, usdc_before: usdcBefore, usdc_after: usdcAfter }

  // (4) a USDC transfer to a stranger: refused with 4001 and data.reasons.
  out.transfer_refusal = await expectRefusal('USDC transfer to a stranger', () => wallet.writeContract({
    address: cfg.usdc,
    abi: erc20Abi,
    functionName: 'transfer',
    args: [cfg.stranger, 1_000_000n],
  }), 'blocks token transfers')

  // (5) EIP-712 typed data the policy refuses: an EIP-2612 permit letting
  // the stranger take USDC.
  out.typed_data_refusal = await expectRefusal('EIP-712 permit to a stranger', () => wallet.signTypedData({
    domain: { name: 'USD Coin', version: '2', chainId: cfg.chain_id, verifyingContract: cfg.usdc },
    types: {
      Permit: [
        { name: 'owner', type: 'address' },
        { name: 'spender', type: 'address' },
        { name: 'value', type: 'uint256' },
        { name: 'nonce', type: 'uint256' },
        { name: 'deadline', type: 'uint256' },
      ],
    },
    primaryType: 'Permit',
    message: { owner: cfg.owner, spender: cfg.stranger, value: 1_000_000_000n, nonce: 0n, deadline: 1_800_000_000n },
  }), 'typed')


  // (5b) EIP-712 typed data the policy allows: a Permit2 PermitSingle
  // letting the router (and only the router) take 50 USDC; the signature
  // recovers to the owner, and the 50 USDC count against the daily cap.
  const permit2Typed = permit2Single(cfg)
  const signature = await wallet.signTypedData(permit2Typed)
  const recovered = await recoverTypedDataAddress({ ...permit2Typed, signature })
  check(sameAddress(recovered, cfg.owner), `Permit2 signature recovers to ${recovered}, want the owner ${cfg.owner}`)
  out.typed_data_signed = { signature, recovered }

  // (6) agentkeys' own method through viem's raw request.
  const perms = await wallet.request({ method: 'agentkeys_getPermissions' })
  check(sameAddress(perms.address, cfg.owner), `agentkeys_getPermissions address ${perms.address}`)
  const eth = perms.budget?.find((b) => b.symbol === 'ETH')
  // The 0.01 ETH swap and its fee count against the budget: pending until the
  // daemon sees it mined, then spent at the actual fee.
  const charged = eth ? BigInt(eth.raw_spent) + BigInt(eth.raw_pending) : 0n
  check(charged > 10n ** 16n && charged < 2n * 10n ** 16n, `agentkeys_getPermissions ETH budget ${JSON.stringify(eth)}, want the 0.01 ETH swap plus its fee charged`)
  out.permissions = { agent: perms.agent, profile: perms.profile, budget: perms.budget, may: perms.may?.length, may_not: perms.may_not }

  // Observed, not judged: a request agentkeys rejects as bad parameters
  // (-32602: it allocates nonces itself) as viem's JSON-RPC account path
  // shows it. viem retries eth_sendTransaction on -32602 as
  // wallet_sendTransaction.
  out.observed_nonce_param = await observe(() => wallet.sendTransaction({ to: cfg.weth, value: 1n, nonce: 0 }))
})
