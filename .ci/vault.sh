#!/usr/bin/env bash
# Builds HashiCorp Vault (pinned) for the vault: delivery tests and prints
# the binary's path. Built once per machine and cached next to geth.
#
# Vault's module on the Go module proxy replaces its api and sdk modules
# with its own directories, which the module zip leaves out; this takes
# the published sdk and api whose APIs match the tag instead (found by
# building: sdk v0.12.0 and go-ldap v3.4.6 for Vault v1.16.3), with the
# replace directives dropped. Nothing else of Vault's source is changed.
set -euo pipefail
version=1.16.3
sdk=v0.12.0
ldap=v3.4.6
gobin="$(go env GOBIN)"
if [ -z "$gobin" ]; then
	gobin="$(go env GOPATH | cut -d: -f1)/bin"
fi
bin="$gobin/vault-$version"
if [ -x "$bin" ] && "$bin" version 2>/dev/null | grep -q "^Vault v${version} "; then
	echo "$bin"
	exit 0
fi
work="$(mktemp -d)"
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
(
	cd "$work"
	go mod init vaultbuild >/dev/null 2>&1
	dir="$(go mod download -json "github.com/hashicorp/vault@v${version}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
	cp -r "$dir" src
	chmod -R u+w src
	cd src
	go mod edit \
		-dropreplace github.com/hashicorp/vault/api \
		-dropreplace github.com/hashicorp/vault/sdk \
		-dropreplace github.com/hashicorp/vault/api/auth/approle \
		-dropreplace github.com/hashicorp/vault/api/auth/kubernetes \
		-dropreplace github.com/hashicorp/vault/api/auth/userpass \
		-require "github.com/hashicorp/vault/sdk@${sdk}" \
		-require "github.com/go-ldap/ldap/v3@${ldap}"
	GOFLAGS=-mod=mod GOTOOLCHAIN=local go build -o "$bin.tmp" . >&2
	mv "$bin.tmp" "$bin"
)
"$bin" version >&2
echo "$bin"
