// Package contracts holds the agentkeys Solidity sources (src/), the
// artifacts compiled from them with a pinned solc (artifacts/) and the
// generated Go bindings (package bindings). It is the one place Go code gets
// contract ABIs and bytecode from: devchain deploys with it, and the daemon,
// sandbox, demo and tests may import it or its bindings. It imports nothing
// from internal/.
//
// Artifacts and bindings are generated: edit src/ and run build.sh; check.sh
// fails when the committed output no longer matches a fresh build.
package contracts

//go:generate ./build.sh

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

//go:embed artifacts/*.json
var artifactFiles embed.FS

// Artifact is one compiled contract.
type Artifact struct {
	Name string
	// ABI is shared between callers and must not be modified.
	ABI abi.ABI
	// Bytecode is the creation code, without constructor arguments.
	Bytecode []byte
	// DeployedBytecode is the runtime code, with immutables left as zeros.
	DeployedBytecode []byte
}

// DeployData returns the creation code followed by the ABI-encoded
// constructor arguments: the data of a contract-creation transaction.
func (a *Artifact) DeployData(args ...any) ([]byte, error) {
	packed, err := a.ABI.Pack("", args...)
	if err != nil {
		return nil, fmt.Errorf("pack %s constructor: %w", a.Name, err)
	}
	return append(bytes.Clone(a.Bytecode), packed...), nil
}

type artifactJSON struct {
	ContractName     string          `json:"contractName"`
	ABI              json.RawMessage `json:"abi"`
	Bytecode         hexutil.Bytes   `json:"bytecode"`
	DeployedBytecode hexutil.Bytes   `json:"deployedBytecode"`
}

// The embedded files cannot change at run time, so they are parsed once;
// an error here means build.mjs wrote something this file cannot read.
var loadAll = sync.OnceValues(func() (map[string]*Artifact, error) {
	entries, err := artifactFiles.ReadDir("artifacts")
	if err != nil {
		return nil, err
	}
	all := make(map[string]*Artifact, len(entries))
	for _, e := range entries {
		raw, err := artifactFiles.ReadFile(path.Join("artifacts", e.Name()))
		if err != nil {
			return nil, err
		}
		var aj artifactJSON
		if err := json.Unmarshal(raw, &aj); err != nil {
			return nil, fmt.Errorf("parse artifact %s: %w", e.Name(), err)
		}
		parsed, err := abi.JSON(bytes.NewReader(aj.ABI))
		if err != nil {
			return nil, fmt.Errorf("parse ABI of %s: %w", aj.ContractName, err)
		}
		all[aj.ContractName] = &Artifact{
			Name:             aj.ContractName,
			ABI:              parsed,
			Bytecode:         aj.Bytecode,
			DeployedBytecode: aj.DeployedBytecode,
		}
	}
	return all, nil
})

// Load returns the artifact of the named contract ("DemoRouter").
// The returned byte slices are copies; the ABI is shared.
func Load(name string) (*Artifact, error) {
	all, err := loadAll()
	if err != nil {
		return nil, fmt.Errorf("load contract artifacts: %w", err)
	}
	a, ok := all[name]
	if !ok {
		return nil, fmt.Errorf("no artifact for contract %q (have %s)", name, strings.Join(names(all), ", "))
	}
	return &Artifact{
		Name:             a.Name,
		ABI:              a.ABI,
		Bytecode:         bytes.Clone(a.Bytecode),
		DeployedBytecode: bytes.Clone(a.DeployedBytecode),
	}, nil
}

// MustLoad is Load for names fixed in the program, where a missing artifact
// is a build mistake rather than a run-time condition.
func MustLoad(name string) *Artifact {
	a, err := Load(name)
	if err != nil {
		panic(err)
	}
	return a
}

// Names lists the contracts that have artifacts, sorted.
func Names() []string {
	all, err := loadAll()
	if err != nil {
		return nil
	}
	return names(all)
}

func names(all map[string]*Artifact) []string {
	out := make([]string, 0, len(all))
	for n := range all {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
