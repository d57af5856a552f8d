package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/agentkeys/agentkeys/internal/admin"
	"github.com/agentkeys/agentkeys/internal/atomicfile"
	"github.com/agentkeys/agentkeys/internal/bound"
	"github.com/agentkeys/agentkeys/internal/home"
	"github.com/agentkeys/agentkeys/internal/sandbox"
)

// Credential delivery: agentkeys key grant --deliver TARGET writes a new
// key's credential (and the agents' endpoint) where the agent reads it, so
// the token is never printed. The targets of each key are remembered in
// the home of the CLI that delivered them (deliveries/KEY_ID.json, mode
// 0600, the targets and never the token), not in the daemon: the files
// and commands are on the CLI's machine, which may not be the daemon's,
// and agentkeys key revoke --clear-delivery on that machine clears them.

// deliveryForms are the --deliver forms, in the order the help names them.
const deliveryForms = "env-file:PATH, file:PATH, vault:MOUNT/PATH or exec:COMMAND"

// target is one place a credential is delivered.
type target struct {
	Kind string `json:"kind"`           // env-file, file, vault or exec
	Path string `json:"path,omitempty"` // absolute, for env-file and file; MOUNT/PATH for vault
	Cmd  string `json:"command,omitempty"`
}

func (t target) String() string {
	if t.Kind == "exec" {
		return "exec:" + t.Cmd
	}
	return t.Kind + ":" + t.Path
}

// deliveryRecord is what the home remembers of one key's delivery.
type deliveryRecord struct {
	KeyID   string    `json:"key_id"`
	At      time.Time `json:"delivered_at"`
	Targets []target  `json:"targets"`
}

// parseTargets reads the --deliver values and checks each file target's
// place before anything is granted: an absolute path in an existing
// directory, not a symbolic link or anything but a regular file.
func parseTargets(values []string) ([]target, error) {
	var out []target
	seen := map[string]bool{}
	for _, v := range values {
		kind, arg, ok := strings.Cut(v, ":")
		var t target
		switch {
		case !ok || strings.TrimSpace(arg) == "":
			return nil, fmt.Errorf("--deliver: expected %s, got %s", deliveryForms, bound.Quote(v))
		case kind == "exec":
			t = target{Kind: kind, Cmd: arg}
		case kind == "vault":
			var err error
			if t, err = parseVaultTarget(arg); err != nil {
				return nil, err
			}
		case kind == "env-file" || kind == "file":
			if rest, ok := strings.CutPrefix(arg, "~/"); ok {
				// The shell leaves a ~ after "env-file:" as it is.
				h, err := os.UserHomeDir()
				if err != nil {
					return nil, fmt.Errorf("--deliver %s: %w", kind, err)
				}
				arg = filepath.Join(h, rest)
			}
			p, err := filepath.Abs(arg)
			if err != nil {
				return nil, fmt.Errorf("--deliver %s: %w", kind, err)
			}
			t = target{Kind: kind, Path: p}
			if err := checkFileTarget(p); err != nil {
				return nil, fmt.Errorf("--deliver %s: %w", t, err)
			}
		default:
			return nil, fmt.Errorf("--deliver: unknown target %s: expected %s", bound.Quote(kind), deliveryForms)
		}
		if seen[t.String()] {
			return nil, fmt.Errorf("--deliver %s is given twice", t)
		}
		seen[t.String()] = true
		out = append(out, t)
	}
	return out, nil
}

func checkFileTarget(path string) error {
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
		return fmt.Errorf("directory %s does not exist", filepath.Dir(path))
	}
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Mode()&fs.ModeSymlink != 0:
		return errors.New("is a symbolic link, which agentkeys does not follow: give the real path, or remove the link")
	case !fi.Mode().IsRegular():
		return errors.New("exists and is not a regular file")
	}
	return nil
}

// agentsURL is the endpoint written next to the credential: --rpc-url,
// else $AGENTKEYS_RPC_URL, else the home's sandbox or serve listener. It
// must be safe unquoted in an env file (shells, systemd and docker read
// the same value).
func agentsURL(flag, dir string) (string, error) {
	u := flag
	if u == "" {
		u = os.Getenv("AGENTKEYS_RPC_URL")
	}
	if u == "" {
		u = homeRPCURL(dir)
	}
	if u == "" {
		return "", errors.New("--deliver needs the agents' endpoint: pass --rpc-url, like https://agentkeys.example.com/rpc")
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || !envSafe.MatchString(u) {
		return "", fmt.Errorf("--rpc-url: expected an http(s) URL of letters, digits and :/._~%%+=@,- only, got %s", bound.Quote(u))
	}
	if p.User != nil {
		// It is written next to the token and printed: the agent's only
		// secret is the token.
		return "", errors.New("--rpc-url: the agents' endpoint must not carry a user or password")
	}
	return u, nil
}

var envSafe = regexp.MustCompile(`^[A-Za-z0-9:/._~%+=@,-]+$`)

// homeRPCURL is the agents' endpoint of the sandbox or serve of the home.
func homeRPCURL(dir string) string {
	var info sandbox.Info
	if b, err := os.ReadFile(filepath.Join(dir, sandbox.InfoFile)); err == nil && json.Unmarshal(b, &info) == nil && info.RPCURL != "" {
		return info.RPCURL
	}
	cfg, err := home.ReadConfig(dir)
	if err != nil || cfg.Listen == "" {
		return ""
	}
	host := cfg.Listen
	if strings.HasSuffix(host, ":0") {
		return "" // a port chosen at start is not known here
	}
	// A wildcard listener is reached on this machine through loopback;
	// agents elsewhere need --rpc-url with the real name.
	for _, wild := range []string{"0.0.0.0:", "[::]:", ":"} {
		if strings.HasPrefix(host, wild) {
			host = "127.0.0.1:" + strings.TrimPrefix(host, wild)
			break
		}
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	return scheme + "://" + host + "/rpc"
}

// deliver writes the credential to t. token never appears in its errors.
func deliver(ctx context.Context, t target, token, rpcURL string) error {
	switch t.Kind {
	case "env-file":
		return writeSecretFile(t.Path, []byte("AGENTKEYS_TOKEN="+token+"\nAGENTKEYS_RPC_URL="+rpcURL+"\n"))
	case "file":
		return writeSecretFile(t.Path, []byte(token+"\n"))
	case "vault":
		return deliverVault(ctx, t, token, rpcURL)
	case "exec":
		return deliverExec(ctx, t.Cmd, token)
	}
	return fmt.Errorf("unknown target kind %q", t.Kind)
}

// writeSecretFile replaces path atomically with a 0600 file holding data:
// a temporary file in the same directory, synced, then renamed over path.
// A reader sees the old file or the whole new one, never a part; a
// symbolic link at path is refused rather than followed or replaced.
func writeSecretFile(path string, data []byte) error {
	if err := checkFileTarget(path); err != nil {
		return err
	}
	return atomicfile.Write(path, data, 0o600)
}

// execTimeout bounds a delivery command (a secrets manager's CLI).
const execTimeout = 2 * time.Minute

// deliverExec runs command with sh -c, the token alone (no newline) on its
// standard input. Its arguments and environment hold no token, and the
// environment loses the admin credential and any agent credential of the
// owner's shell. Its output is shown on failure, with the token redacted.
func deliverExec(ctx context.Context, command, token string) error {
	ctx, cancel := context.WithTimeout(ctx, execTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	cmd.Stdin = strings.NewReader(token)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AGENTKEYS_ADMIN_TOKEN=") && !strings.HasPrefix(kv, "AGENTKEYS_TOKEN=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out := &capped{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	// A command killed at the timeout may leave children holding its
	// output open; stop waiting for them soon after.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if err == nil {
		return nil
	}
	msg := strings.TrimSpace(strings.ReplaceAll(out.buf.String(), token, "[redacted]"))
	msg = secretShapes.ReplaceAllString(msg, "[redacted]")
	if len(msg) > 500 {
		msg = "..." + msg[len(msg)-500:]
	}
	if msg != "" {
		return fmt.Errorf("%w: %s", err, bound.Escape(msg))
	}
	return err
}

// capped keeps the first max bytes written to it and drops the rest, so a
// chatty command cannot fill the CLI's memory.
type capped struct {
	buf bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// deliveriesDir is where the home remembers deliveries.
func deliveriesDir(dir string) string { return filepath.Join(dir, "deliveries") }

func recordPath(dir, keyID string) (string, error) {
	if !keyIDShape.MatchString(keyID) {
		return "", fmt.Errorf("key id: expected letters and digits, got %s", bound.Quote(keyID))
	}
	return filepath.Join(deliveriesDir(dir), keyID+".json"), nil
}

var keyIDShape = regexp.MustCompile(`^[A-Za-z0-9]{1,64}$`)

func saveDelivery(dir string, r deliveryRecord) error {
	p, err := recordPath(dir, r.KeyID)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("remember the delivery: %w", err)
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	if err := writeSecretFile(p, append(b, '\n')); err != nil {
		return fmt.Errorf("remember the delivery: %w", err)
	}
	return nil
}

// loadDelivery reads a key's delivery record; ok is false if it has none.
func loadDelivery(dir, keyID string) (r deliveryRecord, ok bool, err error) {
	p, err := recordPath(dir, keyID)
	if err != nil {
		return r, false, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return r, false, nil
	}
	if err == nil {
		err = json.Unmarshal(b, &r)
	}
	if err != nil {
		return r, false, fmt.Errorf("read %s: %w", p, err)
	}
	return r, true, nil
}

// clearOutcome says what clearing one target did.
type clearOutcome struct {
	Target  string `json:"target"`
	Cleared bool   `json:"cleared"`
	Note    string `json:"note,omitempty"`
	retry   bool   // a file that could not be read or removed
}

// clearTargets removes the files delivered for keyID that still hold its
// credential. A file since rewritten with another credential is left, and
// a command's delivery cannot be undone from here: both are reported.
func clearTargets(ctx context.Context, keyID string, targets []target) []clearOutcome {
	var out []clearOutcome
	for _, t := range targets {
		o := clearOutcome{Target: t.String()}
		switch t.Kind {
		case "exec":
			o.Note = "a command's delivery is not undone by agentkeys: remove the secret where the command stored it"
		case "vault":
			o.Cleared, o.Note, o.retry = clearVault(ctx, t, keyID)
		default:
			o.Cleared, o.Note, o.retry = clearFile(t, keyID)
		}
		out = append(out, o)
	}
	return out
}

func clearFile(t target, keyID string) (cleared bool, note string, retry bool) {
	if err := checkFileTarget(t.Path); err != nil {
		return false, err.Error(), true
	}
	b, err := os.ReadFile(t.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return true, "already gone", false
	case err != nil:
		return false, err.Error(), true
	}
	prefix := "ak_" + keyID + "_"
	if t.Kind == "env-file" {
		prefix = "AGENTKEYS_TOKEN=" + prefix
	}
	if !bytes.HasPrefix(b, []byte(prefix)) {
		return false, "left in place: it no longer holds this key's credential", false
	}
	if err := os.Remove(t.Path); err != nil {
		return false, err.Error(), true
	}
	return true, "", false
}

// deliverGrant remembers where keyID's credential goes, then delivers it
// to each target in order. If anything fails, the key is revoked (and what
// was written removed), so no working credential is left that no agent
// holds; if even the revocation fails, the error says what to run.
func deliverGrant(ctx context.Context, c *admin.Client, dir, keyID, token string, targets []target, rpcURL string, now time.Time) error {
	if err := saveDelivery(dir, deliveryRecord{KeyID: keyID, At: now.UTC(), Targets: targets}); err != nil {
		return undoGrant(ctx, c, dir, keyID, nil, err)
	}
	for i, t := range targets {
		if err := deliver(ctx, t, token, rpcURL); err != nil {
			return undoGrant(ctx, c, dir, keyID, targets[:i], fmt.Errorf("deliver to %s: %w", t, err))
		}
	}
	return nil
}

func undoGrant(ctx context.Context, c *admin.Client, dir, keyID string, done []target, cause error) error {
	// Revoke even if the command was interrupted: the key must not outlive
	// a delivery that did not happen.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var v admin.GrantView
	if err := c.Do(rctx, "POST", "/v1/grants/"+keyID+"/revoke", nil, &v); err != nil {
		return fmt.Errorf("%w; key %s was granted but could not be revoked (%v): run agentkeys key revoke %s --clear-delivery", cause, keyID, err, keyID)
	}
	var notes []string
	for _, o := range clearTargets(rctx, keyID, done) {
		if !o.Cleared {
			notes = append(notes, o.Target+" still holds the revoked credential ("+o.Note+")")
		}
	}
	if p, err := recordPath(dir, keyID); err == nil && len(notes) == 0 {
		os.Remove(p)
	}
	msg := fmt.Sprintf("%v; key %s was revoked, so no working credential is left", cause, keyID)
	if len(notes) > 0 {
		msg += "; " + strings.Join(notes, "; ")
	}
	return errors.New(msg)
}

// clearDelivery clears what was delivered for keyID, as remembered in the
// home dir, and forgets the record once no file is left to retry. found
// is false if the home remembers no delivery of keyID.
func clearDelivery(ctx context.Context, dir, keyID string) (outcomes []clearOutcome, found bool, err error) {
	r, ok, err := loadDelivery(dir, keyID)
	if err != nil || !ok {
		return nil, ok, err
	}
	outcomes = clearTargets(ctx, keyID, r.Targets)
	for _, o := range outcomes {
		if o.retry {
			return outcomes, true, fmt.Errorf("%s was not cleared (%s); the delivery is remembered, so run the command again once it can be", o.Target, o.Note)
		}
	}
	p, _ := recordPath(dir, keyID)
	if err := os.Remove(p); err != nil {
		return outcomes, true, err
	}
	return outcomes, true, nil
}

// deliveredKeys lists the keys the home remembers deliveries of.
func deliveredKeys(dir string) ([]string, error) {
	es, err := os.ReadDir(deliveriesDir(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	var ids []string
	for _, e := range es {
		if id, ok := strings.CutSuffix(e.Name(), ".json"); ok && keyIDShape.MatchString(id) {
			ids = append(ids, id)
		}
	}
	return ids, err
}

// clearText writes what clearing did, one line a target.
func clearText(w io.Writer, keyID string, outcomes []clearOutcome) {
	for _, o := range outcomes {
		state := "cleared"
		if !o.Cleared {
			state = "not cleared"
		}
		line := fmt.Sprintf("%s %s: %s", keyID, state, o.Target)
		if o.Note != "" {
			line += " (" + o.Note + ")"
		}
		fmt.Fprintln(w, bound.Escape(line))
	}
}

// clearDeliveries clears the deliveries of the keys ids (revoked by the
// caller); keys the home remembers no delivery of are left out of the
// answer.
func clearDeliveries(ctx context.Context, dir string, ids []string) (map[string][]clearOutcome, error) {
	out := map[string][]clearOutcome{}
	var errs []error
	for _, id := range ids {
		o, found, err := clearDelivery(ctx, dir, id)
		if err != nil {
			errs = append(errs, fmt.Errorf("clear the delivery of %s: %w", id, err))
		}
		if found {
			out[id] = o
		}
	}
	return out, errors.Join(errs...)
}
