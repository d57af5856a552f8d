// Compiles contracts/src with the solc pinned in package.json and writes the
// committed artifacts (artifacts/<Name>.json) and Go bindings
// (bindings/<name>.go). The output depends only on the sources, the pinned
// solc and the go-ethereum version in go.mod, so check.sh can rebuild into a
// temporary directory and compare byte for byte.
//
// Usage: node build.mjs [--out DIR]   (DIR defaults to this directory)

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import solc from "solc";

// Contracts that get an artifact and a Go binding; each lives in src/<Name>.sol.
// Adding a contract to the build is one line here.
const CONTRACTS = [
  "DemoToken",
  "WETH9",
  "DemoPair",
  "DemoRouter",
  "AgentKeyDelegate",
];

const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "prague",
  // Without a metadata hash the bytecode does not change when comments,
  // file paths or unrelated sources change, which keeps the check meaningful.
  metadata: { bytecodeHash: "none" },
};

const here = path.dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  let out = here;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--out" && i + 1 < argv.length) {
      out = path.resolve(argv[++i]);
    } else {
      throw new Error(`unknown argument ${argv[i]}; usage: node build.mjs [--out DIR]`);
    }
  }
  return { out };
}

// Every .sol file under src/, keyed by its path relative to this directory,
// so imports resolve without a callback and no absolute path reaches solc.
function readSources() {
  const sources = {};
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".sol")) {
        const key = path.relative(here, full).split(path.sep).join("/");
        sources[key] = { content: fs.readFileSync(full, "utf8") };
      }
    }
  };
  walk(path.join(here, "src"));
  return sources;
}

function compile(sources) {
  const outputSelection = {};
  for (const name of CONTRACTS) {
    const file = `src/${name}.sol`;
    if (!sources[file]) throw new Error(`contract ${name}: ${file} not found`);
    outputSelection[file] = { [name]: ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] };
  }
  const input = { language: "Solidity", sources, settings: { ...SETTINGS, outputSelection } };
  const output = JSON.parse(
    solc.compile(JSON.stringify(input), {
      import: (p) => ({ error: `import ${p} is outside contracts/src` }),
    }),
  );
  const problems = output.errors ?? [];
  for (const p of problems) process.stderr.write(p.formattedMessage ?? p.message);
  // Warnings fail the build too: the artifacts are committed, so anything
  // solc complains about would be shipped.
  if (problems.length > 0) throw new Error(`solc reported ${problems.length} problem(s)`);
  return output;
}

function writeArtifacts(output, dir) {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(dir)) if (f.endsWith(".json")) fs.rmSync(path.join(dir, f));
  const artifacts = {};
  for (const name of CONTRACTS) {
    const sourceName = `src/${name}.sol`;
    const c = output.contracts[sourceName][name];
    const artifact = {
      contractName: name,
      sourceName,
      compiler: { version: solc.version(), settings: SETTINGS },
      abi: c.abi,
      bytecode: "0x" + c.evm.bytecode.object,
      deployedBytecode: "0x" + c.evm.deployedBytecode.object,
    };
    fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(artifact, null, 2) + "\n");
    artifacts[name] = artifact;
  }
  return artifacts;
}

// DemoToken -> demo_token, WETH9 -> weth9.
function fileName(name) {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase() + ".go";
}

function writeBindings(artifacts, dir) {
  fs.mkdirSync(dir, { recursive: true });
  // Remove only generated files, so hand-written ones (doc.go) survive and
  // bindings of removed contracts disappear.
  for (const f of fs.readdirSync(dir)) {
    const full = path.join(dir, f);
    if (f.endsWith(".go") && fs.readFileSync(full, "utf8").startsWith("// Code generated")) fs.rmSync(full);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "agentkeys-abigen-"));
  try {
    // abigen is built from the go-ethereum version that go.mod pins, so the
    // bindings match the library they are compiled against.
    const abigen = path.join(tmp, "abigen");
    execFileSync("go", ["build", "-o", abigen, "github.com/ethereum/go-ethereum/cmd/abigen"], {
      cwd: here,
      stdio: "inherit",
    });
    for (const [name, a] of Object.entries(artifacts)) {
      const abiFile = path.join(tmp, `${name}.abi`);
      const binFile = path.join(tmp, `${name}.bin`);
      fs.writeFileSync(abiFile, JSON.stringify(a.abi));
      fs.writeFileSync(binFile, a.bytecode.slice(2));
      execFileSync(
        abigen,
        ["--v2", "--abi", abiFile, "--bin", binFile, "--pkg", "bindings", "--type", name, "--out", path.join(dir, fileName(name))],
        { stdio: "inherit" },
      );
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

const { out } = parseArgs(process.argv.slice(2));
const artifacts = writeArtifacts(compile(readSources()), path.join(out, "artifacts"));
writeBindings(artifacts, path.join(out, "bindings"));
console.log(`built ${CONTRACTS.length} contracts with solc ${solc.version()} into ${out}`);
