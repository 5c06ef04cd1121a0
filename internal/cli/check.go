package cli

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/truce-mvm/truce/internal/audit"
	"github.com/truce-mvm/truce/internal/client"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/receipt"
	"github.com/truce-mvm/truce/internal/tlog"
	"github.com/truce-mvm/truce/internal/wire"
)

// openData parses --data and opens that instance's database for reading;
// it returns the remaining arguments.
func openData(e *env, name string, args []string) (*instance.Instance, []string, error) {
	fs := e.flags(name)
	fs.String("data", "", "data directory")
	dbFlag(fs, "")
	in, err := openStore(e, fs, args)
	return in, fs.Args(), err
}

// openStore parses a command's flags, which include --data, checks that
// --data and the flags named in need are given, and opens that instance's
// database (beside a serving process too).
func openStore(e *env, fs *flag.FlagSet, args []string, need ...string) (*instance.Instance, error) {
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	if err := required(fs, append([]string{"data"}, need...)...); err != nil {
		return nil, err
	}
	var db string
	if f := fs.Lookup("db"); f != nil {
		db = f.Value.String()
	}
	return instance.OpenStoreAt(e.ctx, fs.Lookup("data").Value.String(), db)
}

// dbFlag adds --db: the PostgreSQL database an instance keeps its log in.
func dbFlag(fs *flag.FlagSet, usage string) *string {
	if usage == "" {
		usage = "the PostgreSQL database (postgres://…) holding the log (default: the one DIR/database names, else DIR/truce.db)"
	}
	return fs.String("db", "", usage)
}

func cmdVerify(e *env, args []string) error {
	in, _, err := openData(e, "verify", args)
	if err != nil {
		return err
	}
	defer in.Close()
	start := time.Now()
	rep, err := audit.Verify(e.ctx, in.Store, in.Origin, in.Verifier, progress(e, "verified"))
	if err != nil {
		return fmt.Errorf("FAILED: %w", err)
	}
	el := time.Since(start)
	for _, k := range rep.Unconsented {
		fmt.Fprintln(e.stdout, audit.UnconsentedNote(k))
	}
	fmt.Fprintf(e.stdout, "ok: %d entries (%d sealed, every one opened and checked), %d signatures, %d checkpoints; root %s; %.0f entries/s\n",
		rep.Size, rep.Sealed, rep.Signatures, rep.Checkpoints, rep.Root, float64(rep.Size)/el.Seconds())
	return nil
}

func cmdReplay(e *env, args []string) error {
	in, _, err := openData(e, "replay", args)
	if err != nil {
		return err
	}
	defer in.Close()
	rep, err := audit.Replay(e.ctx, in.Store)
	if err != nil {
		return fmt.Errorf("FAILED: %w", err)
	}
	fmt.Fprintf(e.stdout, "ok: %d entries replay to the live state: %d records, %d history rows, digest %x\n",
		rep.Entries, rep.Records, rep.History, rep.Digest)
	return nil
}

func cmdReceipt(e *env, args []string) error {
	fs := e.flags("receipt")
	data := fs.String("data", "", "data directory: print the tlog-proof of entry INDEX")
	server := fs.String("server", envDefault("TRUCE_SERVER", ""), "server: fetch the receipt of record TYPE/ID (default $TRUCE_SERVER)")
	token := fs.String("token", os.Getenv("TRUCE_TOKEN"), "API token (default $TRUCE_TOKEN)")
	pos, err := parseMixed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || (*data == "") == (*server == "") {
		fmt.Fprintln(e.stderr, "usage: truce receipt --data DIR INDEX | truce receipt --server URL TYPE/ID (e.g. finding/FD-0001)")
		return errUsage
	}
	if *server != "" {
		typ, id, ok := strings.Cut(pos[0], "/")
		path := wire.ListPath(strings.TrimSuffix(typ, "s"))
		if !ok || path == "" || id == "" {
			return fmt.Errorf("name a record as TYPE/ID, such as finding/FD-0001")
		}
		var b []byte
		if err := client.New(*server, *token).Do(e.ctx, "GET", path+"/"+url.PathEscape(id)+"/receipt", nil, &b); err != nil {
			return err
		}
		_, err := e.stdout.Write(append(b, '\n'))
		return err
	}
	in, err := instance.OpenStore(e.ctx, *data)
	if err != nil {
		return err
	}
	defer in.Close()
	index, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || index < 0 {
		return fmt.Errorf("bad index %q", pos[0])
	}
	// The newest cosigned checkpoint, if the log has witnesses.
	signed, size, err := in.Store.Cosigned(e.ctx)
	if err == nil && index >= size {
		signed, size, err = in.Store.Checkpoint(e.ctx)
	}
	if err != nil {
		return err
	}
	if index >= size {
		return fmt.Errorf("entry %d is not covered by the newest checkpoint (size %d)", index, size)
	}
	leaf, err := tlog.Leaf(e.ctx, in.Store, index)
	if err != nil {
		return err
	}
	proof, err := tlog.InclusionProof(e.ctx, in.Store, index, size)
	if err != nil {
		return err
	}
	r := tlog.Receipt{Index: index, Proof: proof, Checkpoint: signed, Extra: leaf}
	if _, err := r.Verify(in.Origin, in.Verifier, r.Extra); err != nil {
		return fmt.Errorf("the receipt does not verify: %w", err)
	}
	_, err = e.stdout.Write(r.Marshal())
	return err
}

func cmdVerifyReceipt(e *env, args []string) error {
	fs := e.flags("verify-receipt")
	logKey := fs.String("log-key", "", "the log's verifier key (as /log/vkey gives it)")
	var witnessKeys listFlag
	fs.Var(&witnessKeys, "witness-key", "a witness's cosignature key (repeatable)")
	quorum := fs.Int("quorum", -1, "how many witness cosignatures are required (default: one per --witness-key)")
	pos, err := parseMixed(fs, args)
	if err != nil {
		return err
	}
	if err := required(fs, "log-key"); err != nil {
		return err
	}
	if len(pos) != 1 {
		fmt.Fprintln(e.stderr, "usage: truce verify-receipt FILE --log-key VKEY [--witness-key VKEY...]")
		return errUsage
	}
	b, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	if *quorum < 0 {
		*quorum = len(witnessKeys)
	}
	r, c, err := receipt.Verify(b, *logKey, witnessKeys, *quorum)
	if err != nil {
		return fmt.Errorf("FAILED: %w", err)
	}
	fmt.Fprintf(e.stdout, "ok: %s %s rests on %d entries of %s, in its checkpoint of %d entries cosigned by %s\n",
		r.Type, r.ID, len(c.Entries), c.Origin, c.Size, cosigners(c.Cosigners))
	for _, en := range c.Entries {
		fmt.Fprintf(e.stdout, "  entry %-6d %-6s %-22s by %-14s logged %s\n", en.Index, en.Role, en.Kind, en.Author, en.Logged.Format(time.RFC3339))
	}
	fmt.Fprintln(e.stdout, "(the entries and their signatures are proven; the document is the server's rendering of them, which truce audit checks against the whole log)")
	return nil
}

// progress reports on stderr, at most every second, when stderr is a
// terminal.
func progress(e *env, verb string) audit.Progress {
	f, ok := e.stderr.(*os.File)
	if !ok {
		return nil
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	var last time.Time
	return func(done, total int64) {
		if time.Since(last) < time.Second && done < total {
			return
		}
		last = time.Now()
		fmt.Fprintf(f, "\r%s %d of %d entries (%.0f%%)", verb, done, total, 100*float64(done)/float64(max(total, 1)))
		if done == total {
			fmt.Fprintln(f)
		}
	}
}

func cmdAudit(e *env, args []string) error {
	fs := e.flags("audit")
	logURL := fs.String("log", "", "the server (http://host:port)")
	stateDir := fs.String("state", "", "directory keeping what was verified between runs (trusted keys and checkpoint, checked entries)")
	follow := fs.Bool("follow", false, "keep checking, every --interval, until interrupted or a problem is found")
	interval := fs.Duration("interval", 30*time.Second, "time between checks with --follow")
	token := fs.String("token", os.Getenv("TRUCE_TOKEN"), "a member's API token, to compare the API's records with the log's (default $TRUCE_TOKEN)")
	logKey := fs.String("log-key", "", "the log's verifier key (default: the state directory's, else the server's, trusted on first use)")
	var witnessKeys listFlag
	fs.Var(&witnessKeys, "witness-key", "a witness's cosignature key to require (repeatable; default: the state directory's, else the server's list)")
	quorum := fs.Int("quorum", -1, "how many of the witness keys must cosign (default: all)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "log"); err != nil {
		return err
	}
	cfg := audit.AuditorConfig{URL: *logURL, Token: *token, StateDir: *stateDir, LogKey: *logKey, Quorum: *quorum,
		Progress: progress(e, "audited"), Logger: e.log}
	if witnessKeys != nil {
		cfg.WitnessKeys = witnessKeys
	}
	a, err := audit.NewAuditor(e.ctx, cfg)
	if err != nil {
		return auditFailure(err)
	}
	defer a.Close()
	report := func(r *audit.Round, err error) {
		for _, n := range r.Notes {
			fmt.Fprintf(e.stdout, "note: %s\n", n)
		}
		if err == nil {
			fmt.Fprintf(e.stdout, "ok: %d entries (%d new), root %s, cosigned by %s; %d sealed entries opened and checked; %s\n", r.Size, r.New, r.Root,
				cosigners(r.Cosigners), r.Sealed, compared(r))
			if len(r.Unchecked) > 0 {
				fmt.Fprintf(e.stdout, "not checked: %d entries whose bodies this member cannot open, or that build on them; their signatures, keys, authors' roles, seqs and times were checked, their rules were not:\n", len(r.Unchecked))
				for _, u := range r.Unchecked {
					fmt.Fprintf(e.stdout, "  entry %d (%s): %s\n", u.Index, u.Kind, u.Why)
				}
			}
			if r.Uncompared > 0 {
				fmt.Fprintf(e.stdout, "not compared: %d records those entries may have changed\n", r.Uncompared)
			}
		} else if !audit.IsProblem(err) {
			fmt.Fprintf(e.stderr, "truce audit: %v (trying again)\n", err)
		}
	}
	if *follow {
		return auditFailure(a.Follow(e.ctx, *interval, report))
	}
	r, err := a.Check(e.ctx)
	if err != nil {
		return auditFailure(err)
	}
	report(r, nil)
	return nil
}

func auditFailure(err error) error {
	if audit.IsProblem(err) {
		return fmt.Errorf("FAILED: %w", err)
	}
	return err
}

func cosigners(names []string) string {
	if len(names) == 0 {
		return "no witness"
	}
	return strings.Join(names, ", ")
}

func compared(r *audit.Round) string {
	if r.Records == 0 {
		return "API not compared"
	}
	s := fmt.Sprintf("%d records match the API", r.Records)
	if r.Overdue >= 0 {
		s += fmt.Sprintf(", and %d overdue items", r.Overdue)
	}
	return s
}
