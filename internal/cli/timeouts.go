package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentkeys/agentkeys/internal/home"
	"github.com/agentkeys/agentkeys/internal/upstream"
)

// nodeTimeout is one kind of serve's deadlines of calls to the node: the
// flag --node-KIND-timeout, the setting of the same name (agentkeys
// config) and its key KIND in the home's node_timeouts.
type nodeTimeout struct {
	kind, help string
	def        time.Duration
	field      func(*upstream.Timeouts) *time.Duration
}

var nodeTimeouts = []nodeTimeout{
	{kind: "dial", help: "connecting to the node (for ws:// and wss://, the WebSocket handshake)", def: upstream.DefaultDial,
		field: func(t *upstream.Timeouts) *time.Duration { return &t.Dial }},
	{kind: "read", help: "one read of the chain (balances, eth_call, receipts, nonces, fees, the chain id at start)", def: upstream.DefaultRead,
		field: func(t *upstream.Timeouts) *time.Duration { return &t.Read }},
	{kind: "estimate", help: "one eth_estimateGas", def: upstream.DefaultEstimate,
		field: func(t *upstream.Timeouts) *time.Duration { return &t.Estimate }},
	{kind: "broadcast", help: "one eth_sendRawTransaction (a transaction whose broadcast runs out is sent again or cancelled by the watcher)", def: upstream.DefaultBroadcast,
		field: func(t *upstream.Timeouts) *time.Duration { return &t.Broadcast }},
}

// Bounds of a node timeout: below a tenth of a second no node answers;
// above ten minutes a hanging node would pin requests for too long.
const (
	minNodeTimeout = 100 * time.Millisecond
	maxNodeTimeout = 10 * time.Minute
)

func (n nodeTimeout) name() string { return "node-" + n.kind + "-timeout" }

// parse reads a duration like 10s or 500ms for this kind.
func (n nodeTimeout) parse(v string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d < minNodeTimeout || d > maxNodeTimeout {
		return 0, fmt.Errorf("%s: expected a duration from %s to %s like 10s or 500ms, got %q", n.name(), minNodeTimeout, maxNodeTimeout, bounded(v))
	}
	return d, nil
}

// nodeTimeoutSettings are the config keys of the node timeouts.
func nodeTimeoutSettings() []setting {
	out := make([]setting, len(nodeTimeouts))
	for i, n := range nodeTimeouts {
		out[i] = setting{
			name: n.name(), help: fmt.Sprintf("deadline of %s (default %s)", n.help, n.def),
			get: func(c *home.Config) any { return c.NodeTimeouts[n.kind] },
			set: func(c *home.Config, v string) error {
				d, err := n.parse(v)
				if err != nil {
					return err
				}
				if c.NodeTimeouts == nil {
					c.NodeTimeouts = map[string]string{}
				}
				c.NodeTimeouts[n.kind] = d.String()
				return nil
			},
			unset: func(c *home.Config) {
				delete(c.NodeTimeouts, n.kind)
				if len(c.NodeTimeouts) == 0 {
					c.NodeTimeouts = nil
				}
			},
		}
	}
	return out
}

// nodeTimeoutFlags are serve's --node-KIND-timeout flags.
type nodeTimeoutFlags map[string]*string

func addNodeTimeoutFlags(cmd *cobra.Command) nodeTimeoutFlags {
	f := nodeTimeoutFlags{}
	for _, n := range nodeTimeouts {
		f[n.kind] = cmd.Flags().String(n.name(), "", fmt.Sprintf("deadline of %s (`duration`; default: the home's %s, else %s)", n.help, n.name(), n.def))
	}
	return f
}

// check refuses a malformed flag before anything else happens.
func (f nodeTimeoutFlags) check() error {
	_, err := f.resolve(home.Config{})
	return err
}

// resolve is the deadlines serve uses: a flag wins over the home's
// setting, which wins over the default.
func (f nodeTimeoutFlags) resolve(c home.Config) (upstream.Timeouts, error) {
	var t upstream.Timeouts
	for _, n := range nodeTimeouts {
		v, from := *f[n.kind], "--"
		if v == "" {
			v, from = c.NodeTimeouts[n.kind], home.ConfigFile+": "
		}
		d := n.def
		if v != "" {
			var err error
			if d, err = n.parse(v); err != nil {
				return t, fmt.Errorf("%s%w", from, err)
			}
		}
		*n.field(&t) = d
	}
	return t, nil
}
