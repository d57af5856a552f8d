// ethers v6, unmodified, against agentkeys' /rpc: the bearer credential is
// a header on the FetchRequest the JsonRpcProvider uses, and the signer is
// provider.getSigner(owner), a JsonRpcSigner, so ethers asks the node
// (agentkeys) to sign with eth_sendTransaction and eth_signTypedData_v4.
//
//   node ethers.mjs '{"rpc_url":..., "token":..., "owner":..., "router":...,
//                     "weth":..., "usdc":..., "chain_id":..., "stranger":...}'

import { Contract, FetchRequest, JsonRpcProvider, JsonRpcSigner, Network, parseEther, verifyTypedData, version } from 'ethers'
import { check, expectRefusal, main, observe, permit2Single, sameAddress } from './lib.mjs'

const routerAbi = [
  'function swapExactETHForTokens(uint256 amountOutMin, address[] path, address to, uint256 deadline) payable returns (uint256[] amounts)',
]
const erc20Abi = [
  'function balanceOf(address) view returns (uint256)',
  'function transfer(address to, uint256 amount) returns (bool)',
]

await main('ethers', version, async (cfg, out) => {
  const req = new FetchRequest(cfg.rpc_url)
  req.setHeader('Authorization', `Bearer ${cfg.token}`)
  req.timeout = 30_000
  const provider = new JsonRpcProvider(req, new Network('agentkeys sandbox', cfg.chain_id), { pollingInterval: 100 })
  try {
    // (1) chain id and accounts.
    out.chain_id = Number((await provider.getNetwork()).chainId)
    check(out.chain_id === cfg.chain_id, `eth_chainId ${out.chain_id}, want ${cfg.chain_id}`)
    out.accounts = (await provider.listAccounts()).map((s) => s.address) // eth_accounts
    check(out.accounts.length === 1 && sameAddress(out.accounts[0], cfg.owner), `eth_accounts ${out.accounts}, want [${cfg.owner}]`)
    const signer = await provider.getSigner(cfg.owner) // checks eth_accounts holds the owner
    check(signer instanceof JsonRpcSigner, 'getSigner did not return a JsonRpcSigner')

    // (2) balances; ethers sends these three together as one JSON-RPC batch.
    const usdc = new Contract(cfg.usdc, erc20Abi, signer)
    const [balance, blockNumber, usdcBefore] = await Promise.all([
      provider.getBalance(cfg.owner), provider.getBlockNumber(), usdc.balanceOf(cfg.owner),
    ])
    check(balance > 0n, `eth_getBalance of the owner is ${balance}`)
    out.balance_wei = balance.toString()
    out.block_number = blockNumber

    // (3) a swap through the router, paid out to the owner: simulated with
    // eth_call, sent (eth_estimateGas, eth_sendTransaction), mined.
    const router = new Contract(cfg.router, routerAbi, signer)
    const swapArgs = [1n, [cfg.weth, cfg.usdc], cfg.owner, 4_000_000_000n, { value: parseEther('0.01') }]
    const amounts = await router.swapExactETHForTokens.staticCall(...swapArgs)
    check(amounts.length === 2 && amounts[1] > 0n, `staticCall returned ${amounts}`)
    const tx = await router.swapExactETHForTokens(...swapArgs)
    const receipt = await tx.wait(1, 30_000)
    check(receipt.status === 1, `swap receipt status ${receipt.status}`)
    check(sameAddress(receipt.from, cfg.owner), `swap sent from ${receipt.from}`)
    const usdcAfter = await usdc.balanceOf(cfg.owner)
    check(usdcAfter > usdcBefore, `USDC balance did not grow: ${usdcBefore} -> ${usdcAfter}`)
    out.swap = { hash: tx.hash, status: receipt.status, block: receipt.blockNumber, usdc_before: usdcBefore, usdc_after: usdcAfter }

    // (4) a USDC transfer to a stranger: refused with 4001 and data.reasons.
    out.transfer_refusal = await expectRefusal('USDC transfer to a stranger',
      () => usdc.transfer(cfg.stranger, 1_000_000n), 'blocks token transfers')

    // (5) EIP-712 typed data the policy refuses: an EIP-2612 permit letting
    // the stranger take USDC.
    out.typed_data_refusal = await expectRefusal('EIP-712 permit to a stranger', () => signer.signTypedData(
      { name: 'USD Coin', version: '2', chainId: cfg.chain_id, verifyingContract: cfg.usdc },
      {
        Permit: [
          { name: 'owner', type: 'address' },
          { name: 'spender', type: 'address' },
          { name: 'value', type: 'uint256' },
          { name: 'nonce', type: 'uint256' },
          { name: 'deadline', type: 'uint256' },
        ],
      },
      { owner: cfg.owner, spender: cfg.stranger, value: 1_000_000_000n, nonce: 0n, deadline: 1_800_000_000n },
    ), 'typed')

    // (5b) EIP-712 typed data the policy allows: a Permit2 PermitSingle
    // letting the router (and only the router) take 50 USDC; the signature
    // recovers to the owner, and the 50 USDC count against the daily cap.
    const { domain: permit2Domain, types: permit2Types, message: permit2Value } = permit2Single(cfg)
    const signature = await signer.signTypedData(permit2Domain, permit2Types, permit2Value)
    const recovered = verifyTypedData(permit2Domain, permit2Types, permit2Value, signature)
    check(sameAddress(recovered, cfg.owner), `Permit2 signature recovers to ${recovered}, want the owner ${cfg.owner}`)
    out.typed_data_signed = { signature, recovered }

    // (6) agentkeys' own method through ethers' raw send.
    const perms = await provider.send('agentkeys_getPermissions', [])
    check(sameAddress(perms.address, cfg.owner), `agentkeys_getPermissions address ${perms.address}`)
    const eth = perms.budget?.find((b) => b.symbol === 'ETH')
    // The 0.01 ETH swap and its fee count against the budget: pending until the
    // daemon sees it mined, then spent at the actual fee.
    const charged = eth ? BigInt(eth.raw_spent) + BigInt(eth.raw_pending) : 0n
    check(charged > 10n ** 16n && charged < 2n * 10n ** 16n, `agentkeys_getPermissions ETH budget ${JSON.stringify(eth)}, want the 0.01 ETH swap plus its fee charged`)
    out.permissions = { agent: perms.agent, profile: perms.profile, budget: perms.budget, may: perms.may?.length, may_not: perms.may_not }

    // Observed, not judged: a request agentkeys rejects as bad parameters
    // (-32602: it allocates nonces itself), as ethers shows it.
    out.observed_nonce_param = await observe(() => signer.sendTransaction({ to: cfg.weth, value: 1n, nonce: 0 }))
  } finally {
    provider.destroy()
  }
})
