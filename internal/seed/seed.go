// Package seed fills a store quickly with synthetic keys and audit
// records, for scale tests: `agentkeys bench seed` and the bench's
// --grants and --records use it. What it writes looks like a busy home:
// keys granted over the last 30 days under the bench's policy, and agents'
// signing requests over the last day, chained like every record (audit
// verify passes). No credential opens a seeded key (each one's hash is of
// random bytes thrown away). Only the bench and the CLI import it.
package seed

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/audit"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/store"
)

// DefaultBatch is how many keys or records go into one store transaction.
const DefaultBatch = 10_000

// Max bounds what one run writes.
const (
	MaxGrants  = 10_000_000
	MaxRecords = 100_000_000
)

// Sink receives the bench's transfers (1 wei each); the seeded keys may
// send to it alone, as the bench's keys may.
var Sink = common.HexToAddress("0x000000000000000000000000000000000000bEEF")

// PolicyYAML is the bench's policy on chainID: transfers of at most
// 0.001 ETH to Sink, under caps no run reaches.
func PolicyYAML(chainID uint64) string {
	return fmt.Sprintf(`name: bench
description: the bench's transfers of 1 wei to the sink; caps no run reaches
chains: [%d]
valid_for: 24h
limits:
  - asset: native
    per_tx: 0.001
    per_period: 1000000
    period: 24h
allow:
  - contract: %q
    functions: ["receive"]
`, chainID, Sink.Hex())
}

// Options say what to write, and for whom.
type Options struct {
	Grants  int // keys to add
	Records int // audit records to append, spread over the keys
	ChainID uint64
	// Address is the account the keys act for and SignerKeyID the stored
	// key that signs for them: the home's wallet.
	Address     string
	SignerKeyID string
	// Now places what is written: keys created over the 30 days before
	// the last day, expiring 30 days after Now (one in twenty revoked,
	// one in twenty expired), and records over the day before Now.
	Now time.Time
	// Seal, if set, seals each key as the daemon would (the home's master
	// key's Seal); without it the seeded keys carry no seal, and a daemon
	// refuses them (they still load the store).
	Seal func(recordID string, plaintext []byte) ([]byte, error)
	// Batch is how many keys or records one transaction holds
	// (DefaultBatch if 0).
	Batch int
	// Progress, if set, is told after each transaction how many keys and
	// records are written so far.
	Progress func(grants, records int)
}

func (o *Options) check() error {
	switch {
	case o.Grants < 0 || o.Grants > MaxGrants:
		return fmt.Errorf("--grants: expected 0 to %d, got %d", MaxGrants, o.Grants)
	case o.Records < 0 || o.Records > MaxRecords:
		return fmt.Errorf("--records: expected 0 to %d, got %d", MaxRecords, o.Records)
	case o.Records > 0 && o.Grants == 0:
		return errors.New("--records: the records are the seeded keys' requests: give --grants too")
	case o.ChainID == 0:
		return errors.New("seed: no chain id")
	case o.Now.IsZero():
		return errors.New("seed: no time")
	case o.Batch < 0:
		return fmt.Errorf("seed: negative batch %d", o.Batch)
	}
	if o.Batch == 0 {
		o.Batch = DefaultBatch
	}
	return nil
}

// Result is what a run wrote and how long each part took.
type Result struct {
	Grants      int           `json:"grants"`
	Records     int           `json:"records"`
	GrantsTook  time.Duration `json:"grants_ns"`
	RecordsTook time.Duration `json:"records_ns"`
	Head        audit.Head    `json:"head"` // the audit head after the last record
}

// Run writes o.Grants keys, then o.Records audit records, in
// transactions of o.Batch through st's Bulk methods. A failure leaves
// what earlier transactions wrote.
func Run(ctx context.Context, st store.Store, o Options) (Result, error) {
	if err := o.check(); err != nil {
		return Result{}, err
	}
	bulk, ok := st.(store.Bulk)
	if !ok {
		return Result{}, fmt.Errorf("seed: the store (%T) cannot load in bulk", st)
	}
	p, err := policy.Parse([]byte(PolicyYAML(o.ChainID)), policy.Options{})
	if err != nil {
		return Result{}, fmt.Errorf("seed: the bench policy: %w", err)
	}
	doc, err := json.Marshal(p.Document())
	if err != nil {
		return Result{}, err
	}
	var res Result
	start := time.Now()
	ids := make([]string, o.Grants)
	for from := 0; from < o.Grants; from += o.Batch {
		gs := make([]store.Grant, 0, min(o.Batch, o.Grants-from))
		for i := from; i < from+cap(gs); i++ {
			g, err := grant(o, i, doc)
			if err != nil {
				return res, err
			}
			ids[i] = g.ID
			gs = append(gs, g)
		}
		if err := bulk.CreateGrants(ctx, gs); err != nil {
			return res, fmt.Errorf("seed keys: %w", err)
		}
		res.Grants += len(gs)
		if o.Progress != nil {
			o.Progress(res.Grants, 0)
		}
	}
	res.GrantsTook = time.Since(start)

	start = time.Now()
	if res.Head, err = st.AuditHead(ctx); err != nil {
		return res, err
	}
	rs := make([]audit.Record, 0, o.Batch)
	for from := 0; from < o.Records; from += o.Batch {
		rs = rs[:0]
		for i := from; i < min(from+o.Batch, o.Records); i++ {
			rs = append(rs, record(o, i, ids[i%len(ids)]))
		}
		if res.Head, err = bulk.AppendAudits(ctx, rs); err != nil {
			return res, fmt.Errorf("seed audit records: %w", err)
		}
		res.Records += len(rs)
		if o.Progress != nil {
			o.Progress(res.Grants, res.Records)
		}
	}
	res.RecordsTook = time.Since(start)
	return res, nil
}

const (
	day        = 24 * time.Hour
	grantSpan  = 30 * day // keys are created over this span before the last day
	grantsLife = 30 * day // and expire this long after Now
)

// spread places item i of n evenly over span: from 0 up to before span,
// in order. (span*i would overflow time.Duration for a day and a million
// items.)
func spread(span time.Duration, i, n int) time.Duration {
	return span / time.Duration(n) * time.Duration(i)
}

// grant is seeded key i of o.Grants.
func grant(o Options, i int, doc []byte) (store.Grant, error) {
	var secret [32]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return store.Grant{}, err
	}
	hash := sha256.Sum256(secret[:])
	created := o.Now.Add(-day - grantSpan + spread(grantSpan, i, o.Grants))
	g := store.Grant{ID: fmt.Sprintf("seed%08d", i), Agent: fmt.Sprintf("seed-%d", i), Mode: store.ModeWallet, Chains: []uint64{o.ChainID},
		Policy: doc, Address: o.Address, SignerKeyID: o.SignerKeyID, CredentialHash: hash[:], CreatedAt: created,
		ExpiresAt: o.Now.Add(grantsLife), Meta: map[string]string{"seeded": "agentkeys bench seed"}}
	switch i % 20 {
	case 7:
		revoked := created.Add(time.Hour)
		g.RevokedAt = &revoked
	case 13:
		g.ExpiresAt = created.Add(day)
	}
	if o.Seal != nil {
		seal, err := o.Seal(store.GrantSealID(g), nil)
		if err != nil {
			return store.Grant{}, fmt.Errorf("seal key: %w", err)
		}
		g.Seal = seal
	}
	return g, nil
}

// record is seeded audit record i of o.Records: the request of key id, as
// the daemon audits an allowed transfer of 1 wei to Sink; about one in
// fifty (5 in 256, by a hash of i, so not always the same keys') is
// refused, as one over the key's cap per transaction is.
func record(o Options, i int, id string) audit.Record {
	at := o.Now.Add(-day + spread(day, i, o.Records))
	txh := sha256.Sum256(fmt.Appendf(nil, "seed tx %d", i))
	method, send := "eth_signTransaction", false
	if i%2 == 1 {
		method, send = "eth_sendTransaction", true
	}
	r := audit.Record{Time: at, KeyID: id, Method: method, Decision: audit.DecisionAllow, Reasons: []string{},
		CallerIP: "127.0.0.1", UserAgent: "Go-http-client/1.1"}
	if txh[0] < 5 {
		r.Decision = audit.DecisionDeny
		r.Reasons = []string{"value 1 ETH is over the limit of 0.001 ETH per transaction"}
		r.Call = fmt.Appendf(nil, `{"calls":[{"to":%q,"value":"1000000000000000000","function":"plain value transfer"}],"kind":"transaction","mode":"wallet","send":%v}`,
			Sink.Hex(), send)
		return r
	}
	r.TxHash = "0x" + fmt.Sprintf("%x", txh[:])
	r.Call = fmt.Appendf(nil, `{"calls":[{"to":%q,"value":"1","function":"plain value transfer"}],"kind":"transaction","mode":"wallet","send":%v,`+
		`"spend":[{"asset":"native","symbol":"ETH","decimals":18,"raw":"1","amount":"0.000000000000000001"},`+
		`{"asset":"native","symbol":"ETH","decimals":18,"fee":true,"raw":"40884124890000","amount":"0.00004088412489"}]}`, Sink.Hex(), send)
	return r
}
