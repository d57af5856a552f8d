package signer_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// signingCalls are the ways Go code here could sign with raw key material.
var signingCalls = map[string]bool{
	"types.SignTx":        true,
	"types.SignNewTx":     true,
	"types.MustSignNewTx": true,
	"types.SignSetCode":   true,
	"crypto.Sign":         true,
	"secp256k1.Sign":      true,
}

// mayTouchKeys are the packages allowed to hold private key material and
// sign with it, and why.
var mayTouchKeys = map[string]string{
	"internal/signer":   "signs what the service core decided and recorded",
	"internal/secrets":  "defines the key types (ECDSA is its accessor)",
	"internal/devchain": "the throwaway chain signs for its deployer and for accounts acting outside agentkeys in the sandbox and tests",
	"internal/doctor":   "probes EIP-7702 support with an authorization signed by a throwaway key made for that call",
}

// TestOnlySignerTouchesKeys: no code outside the packages above signs
// with, or reaches into, private key material, so every transaction and
// signature of the daemon goes through the one pipeline (decision, store
// nonce, signer.Signer, audit record, then broadcast). Tests are exempt:
// they play agents, owners and thieves.
func TestOnlySignerTouchesKeys(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "node_modules" || strings.HasPrefix(name, ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		pkg := filepath.ToSlash(filepath.Dir(rel))
		if _, ok := mayTouchKeys[pkg]; ok {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			name := sel.Sel.Name
			if x, ok := sel.X.(*ast.Ident); ok && signingCalls[x.Name+"."+name] {
				t.Errorf("%s: %s.%s signs outside internal/signer", fset.Position(sel.Pos()), x.Name, name)
			}
			if name == "ECDSA" {
				t.Errorf("%s: .ECDSA() reaches a private key outside internal/signer", fset.Position(sel.Pos()))
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked only %d files: the walk did not find the module's sources", checked)
	}
}

// TestTransportsSpeakTheService: the transports (cli, rpc, mcp, admin, server, web)
// reach keys, the store and the on-chain compiler only through the service
// core, so no transport can sign, write a grant or skip the pipeline.
func TestTransportsSpeakTheService(t *testing.T) {
	const module = "github.com/agentkeys/agentkeys/internal/"
	forbidden := []string{"store", "store/sqlite", "signer", "secrets", "onchain"}
	fset := token.NewFileSet()
	for _, transport := range []string{"cli", "rpc", "mcp", "admin", "server", "web"} {
		files, err := filepath.Glob(filepath.Join("..", transport, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no sources of internal/%s: %v", transport, err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				for _, pkg := range forbidden {
					if strings.Trim(imp.Path.Value, `"`) == module+pkg {
						t.Errorf("%s imports internal/%s: go through the service", fset.Position(imp.Pos()), pkg)
					}
				}
			}
		}
	}
}
