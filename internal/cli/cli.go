// Package cli is the truce command: one function per subcommand, each
// parsing its own flags and wiring the pieces from the other packages.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	"github.com/truce-mvm/truce"
)

// env is what a subcommand runs with.
type env struct {
	ctx    context.Context
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
}

type command struct {
	name, args, summary string
	run                 func(e *env, args []string) error
}

var commands []command

func init() {
	commands = []command{
		{"init", "--data DIR [--db postgres://...] --origin ORIGIN --agreement FILE [--members FILE]", "create an instance: keys, database (DIR/truce.db, or a PostgreSQL database with --db, which keeps the evidence files too; keys stay in DIR), and the first entries of its log", cmdInit},
		{"serve", "--data DIR [--db URL] [--addr HOST:PORT] [--config FILE] [--tls-cert FILE --tls-key FILE | --autocert DOMAIN] [--trusted-proxies CIDR,...] [--log-format json] [--metrics-addr ADDR | --metrics-token FILE]", "serve an instance: the log under /log/, the API under /api/v1/, /healthz and /readyz", cmdServe},
		{"demo", "[--addr HOST:PORT] [--data DIR]", "create (if needed) and serve the exercise instance (EXERCISE DATA)", cmdDemo},
		{"demo-env", "[--data DIR] [--server URL] MEMBER", "print the shell exports that act as a demo member (eval \"$(truce demo-env pk-liaison)\")", cmdDemoEnv},
		{"migrate", "--data DIR [--db URL]", "bring an instance's database schema up to date", cmdMigrate},
		{"rules", "--data DIR [--adopt VERSION]", "the version of the rules the log is derived under; --adopt moves it to a newer one, from the next entry on", cmdRules},
		{"key", "generate --out FILE [--member ID]", "write a new Ed25519 signing key (mode 0600) and print its public key", cmdKey},
		{"token", "issue --data DIR --member ID [--expires DURATION]", "issue an API token for a member (printed once, stored hashed)", cmdToken},
		{"member", "invite|list|suspend|email --data DIR ...", "give a member a one-time link to set a password (to enrol, or after forgetting it); list the members; suspend one from this server; set where its e-mail notifications go", cmdMember},
		{"allege", "--key FILE (--server URL | --out FILE) [fields]", "sign an allegation and submit it, or write it for later", cmdAllege},
		{"submit", "--server URL FILE...", "submit envelopes signed earlier (offline) with --out", cmdSubmit},
		{"receipt", "--server URL TYPE/ID | --data DIR INDEX", "print a record's receipt (its entries, proven under a cosigned checkpoint), or one entry's C2SP tlog-proof", cmdReceipt},
		{"verify-receipt", "FILE --log-key VKEY [--witness-key VKEY...]", "check a receipt offline: checkpoint, cosignatures, inclusion proofs, signatures", cmdVerifyReceipt},
		{"verify", "--data DIR [--db URL]", "check the whole log offline: tiles, roots, checkpoints, signatures, rules", cmdVerify},
		{"replay", "--data DIR [--db URL]", "rebuild every projection from the log and compare with the live state", cmdReplay},
		{"ingest", "(--data DIR | --server URL [--key FILE]) [--outlet NAME] [--watch] SOURCE...", "read open-source reports (feed or page URLs, .html/.txt/.xml files, directories) into the log: one signed entry per page, placed in a story", cmdIngest},
		{"discrepancies", "(--data DIR | --server URL) [--story ID] [--kind KIND]", "where the sources of a story disagree, side by side with their quoted sentences", cmdDiscrepancies},
		{"report", "(--data DIR [--for WHO] | --server URL) [--from WHEN] [--to WHEN] [--format json|html|pdf] [--out FILE] [--publish --key FILE]", "a situation report of a period (default: the last 24 hours): counts, new and open allegations, overdue replies, findings with receipts, consequences, commitments, a chart and a map; --publish logs its hash (mediator)", cmdReport},
		{"extract", "PATH|URL", "print a page's article: title, date and body, without the page's boilerplate", cmdExtract},
		{"backup", "--data DIR [--db URL] --out FILE (--passphrase-file F | --recipient AGE1…) | key --out FILE", "write a backup of an instance, serving or not: its database, evidence files and keys, encrypted (age), with a manifest to check it by; backup key makes an age identity to encrypt to and prints its public key", cmdBackup},
		{"restore", "--in FILE --data NEWDIR [--db URL] (--passphrase-file F | --identity F) [--check]", "restore a backup into a new data directory (and an empty PostgreSQL schema, for a PostgreSQL backup), checking every part and the log against the manifest", cmdRestore},
		{"export-log", "--data DIR [--db URL] --out DIR2", "write the whole log as C2SP tlog-tiles files (checkpoint, tile/…) that any static web server can serve as a mirror", cmdExportLog},
		{"audit", "--log URL [--state DIR] [--follow] [--token T] [--log-key VKEY] [--witness-key VKEY...]", "check a log over HTTP as a party would: tiles, checkpoints and cosignatures, signatures, rules, and the API against the log", cmdAudit},
		{"bench", "[--clients 64,512] [--entries N] [--sealed] [--db postgres://...] | scale [--db postgres://...] [--entries N] [--against FILE] | extract --dataset DIR | claims --dataset DIR", "measure durable entries/s over HTTP on a fresh instance; or grow a log to N entries and measure it as it grows (scale); or score article extraction, or claim extraction", cmdBench},
		{"witness", "init|add-log|serve|attach|detach|list ...", "run a witness that cosigns a log's checkpoints, or set an instance's witnesses", cmdWitness},
		{"help", "", "list the commands", cmdHelp},
	}
}

// Main runs the truce command with args (without the program name) and
// returns the exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{ctx: ctx, stdout: stdout, stderr: stderr,
		log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	if len(args) == 0 {
		cmdHelp(e, nil)
		return 2
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(e, args[1:])
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.Is(err, errUsage):
				return 2
			}
			fmt.Fprintf(stderr, "truce %s: %s\n", c.name, message(err))
			return 1
		}
	}
	fmt.Fprintf(stderr, "truce: unknown command %q (truce help lists them)\n", args[0])
	return 2
}

// errUsage means the flags were wrong and the flag package said so.
var errUsage = errors.New("usage")

func message(err error) string {
	var te *truce.Error
	if errors.As(err, &te) {
		return fmt.Sprintf("%s (%s)", te.Error(), te.Code)
	}
	return err.Error()
}

func cmdHelp(e *env, _ []string) error {
	fmt.Fprintln(e.stdout, "truce: the record of a ceasefire's joint monitoring and verification mechanism")
	fmt.Fprintln(e.stdout, "\nCommands:")
	sorted := append([]command(nil), commands...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	for _, c := range sorted {
		fmt.Fprintf(e.stdout, "  %-18s %s\n  %-18s %s\n", c.name, c.summary, "", c.args)
	}
	fmt.Fprintln(e.stdout, "\ntruce COMMAND -h shows a command's flags.")
	return nil
}

// flags returns a FlagSet that reports errors to e.stderr.
func (e *env) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("truce "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// parse parses args, turning flag errors into errUsage.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// parseMixed parses flags placed before, between or after positional
// arguments, and returns the positional ones.
func parseMixed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parse(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// required checks that flags were given.
func required(fs *flag.FlagSet, names ...string) error {
	for _, n := range names {
		if f := fs.Lookup(n); f == nil || f.Value.String() == "" {
			fmt.Fprintf(fs.Output(), "%s: --%s is required\n", fs.Name(), n)
			fs.Usage()
			return errUsage
		}
	}
	return nil
}

// envDefault returns the environment variable or def.
func envDefault(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// listFlag collects a repeatable or comma-separated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}
