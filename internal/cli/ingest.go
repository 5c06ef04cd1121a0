package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/client"
	"github.com/truce-mvm/truce/internal/extract"
	"github.com/truce-mvm/truce/internal/fetch"
	"github.com/truce-mvm/truce/internal/ingest"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/read"
)

func cmdIngest(e *env, args []string) error {
	fs := e.flags("ingest")
	data := fs.String("data", "", "data directory of the instance (not while it is served: give the server --ingest instead)")
	var sg signer
	fs.StringVar(&sg.server, "server", "", "or a server to ingest into, as the member whose token is given")
	fs.StringVar(&sg.token, "token", envDefault("TRUCE_TOKEN", ""), "API token, with --server ($TRUCE_TOKEN)")
	fs.StringVar(&sg.keyFile, "key", "", "with --server: sign the entries with this key file (default: the key the server holds for you)")
	outlet := fs.String("outlet", "", "the publisher of every source given, overriding what the pages say")
	watch := fs.Bool("watch", false, "keep reading the sources (new files in a directory, new items in a feed) every --interval")
	interval := fs.Duration("interval", time.Minute, "how often --watch reads the sources again")
	perHost := fs.Duration("per-host", time.Second, "at most one request to a host this often")
	allowPrivate := fs.Bool("allow-private", false, "read pages on loopback, private and link-local addresses too (by default a feed cannot make this machine read its own network)")
	pos, err := parseMixed(fs, args)
	if err != nil {
		return err
	}
	if (*data == "") == (sg.server == "") || len(pos) == 0 {
		fmt.Fprintln(e.stderr, "usage: truce ingest (--data DIR | --server URL [--key FILE]) [--outlet NAME] [--watch] SOURCE... (feed or page URLs, .html/.txt/.xml files, directories)")
		return errUsage
	}
	f := fetch.New(extract.MaxPage, *allowPrivate)
	f.PerHost = *perHost
	g := &ingest.Ingester{Fetch: f, Outlet: *outlet, Clock: utcNow}
	if *data != "" {
		in, err := instance.Open(e.ctx, *data, instance.Options{Logger: e.log})
		if err != nil {
			return err
		}
		defer in.Close()
		if g.Sink, err = ingest.NewLocal(in, utcNow); err != nil {
			return err
		}
	} else {
		remote := &ingest.Remote{Client: client.New(sg.server, sg.token)}
		if sg.keyFile != "" {
			remote.Sign = func(_ context.Context, kind string, body any) (*dsse.Envelope, error) {
				env, _, _, _, err := sg.envelope(e, kind, body)
				return env, err
			}
		}
		g.Sink = remote
	}
	progress := newProgress(e.stderr)
	g.Progress = progress.show
	for {
		g.Run(e.ctx, pos)
		n, failed := progress.summary()
		if !*watch {
			if failed > 0 {
				return fmt.Errorf("%d of %d sources failed", failed, n)
			}
			return nil
		}
		progress.quiet = true // from now on, only what changes
		select {
		case <-e.ctx.Done():
			return nil
		case <-time.After(*interval):
		}
	}
}

func utcNow() time.Time { return time.Now().UTC() }

// scheduleIngest reads sources into a served instance every interval
// until ctx ends, logging what it ingested and what failed.
func scheduleIngest(ctx context.Context, e *env, in *instance.Instance, sources []string, every time.Duration, allowPrivate bool) error {
	sink, err := ingest.NewLocal(in, utcNow)
	if err != nil {
		return err
	}
	g := &ingest.Ingester{Sink: sink, Fetch: fetch.New(extract.MaxPage, allowPrivate), Clock: utcNow}
	// Only the leader ingests: a standby's entries would be refused.
	go in.Seq.WhileLeading(ctx, func(ctx context.Context) {
		for {
			rs := g.Run(ctx, sources)
			n := 0
			for _, r := range rs {
				switch r.Status {
				case ingest.Ingested, ingest.Revised:
					n++
				case ingest.Failed:
					e.log.Warn("ingest: a source failed", "input", r.Input, "error", r.Error)
				}
			}
			e.log.Info("ingest: read the sources", "ingested", n, "read", len(rs))
			select {
			case <-ctx.Done():
				return
			case <-time.After(every):
			}
		}
	}, nil)
	return nil
}

// ingestProgress shows each result as it comes and a summary of each pass.
type ingestProgress struct {
	w                              io.Writer
	n, ingested, unchanged, failed int
	quiet                          bool
	start                          time.Time
	seenFailures                   map[string]bool
}

func newProgress(w io.Writer) *ingestProgress {
	return &ingestProgress{w: w, start: time.Now(), seenFailures: map[string]bool{}}
}

func (p *ingestProgress) show(r ingest.Result) {
	p.n++
	switch r.Status {
	case ingest.Ingested, ingest.Revised:
		p.ingested++
		s := r.Source
		where := "story " + s.Story
		if s.Revises != "" {
			where += ", revising " + s.Revises + " (the page changed since it was read)"
		}
		if s.CopyOf != "" {
			kind := "near copy"
			if s.Exact {
				kind = "exact copy"
			}
			where += ", " + kind + " of " + s.CopyOf
		}
		fmt.Fprintf(p.w, "[%d] %s %s (%s, %d claims): %s\n", p.n, r.Status, s.ID, where, len(s.Claims), r.Input)
	case ingest.Unchanged:
		p.unchanged++
		if !p.quiet {
			fmt.Fprintf(p.w, "[%d] unchanged %s: %s\n", p.n, r.ID, r.Input)
		}
	default:
		p.failed++
		if key := r.Input + r.Error; !p.quiet || !p.seenFailures[key] {
			fmt.Fprintf(p.w, "[%d] failed: %s: %s\n", p.n, r.Input, r.Error)
			p.seenFailures[key] = true
		}
	}
}

// summary prints a pass's counts (a quiet pass only if it ingested
// something), returns how many were read and failed, and starts the next
// pass's counts.
func (p *ingestProgress) summary() (n, failed int) {
	if !p.quiet || p.ingested > 0 {
		fmt.Fprintf(p.w, "%d read in %s: %d ingested, %d unchanged, %d failed\n", p.n, time.Since(p.start).Round(time.Millisecond), p.ingested, p.unchanged, p.failed)
	}
	n, failed = p.n, p.failed
	p.n, p.ingested, p.unchanged, p.failed, p.start = 0, 0, 0, 0, time.Now()
	return n, failed
}

func cmdDiscrepancies(e *env, args []string) error {
	fs := e.flags("discrepancies")
	data := fs.String("data", "", "data directory to read")
	server := fs.String("server", envDefault("TRUCE_SERVER", ""), "server URL ($TRUCE_SERVER)")
	token := fs.String("token", envDefault("TRUCE_TOKEN", ""), "API token ($TRUCE_TOKEN)")
	story := fs.String("story", "", "only this story")
	kind := fs.String("kind", "", "only this kind: weekday_mismatch, duration_vs_range, claimants_disagree, outlets_disagree")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if (*data == "") == (*server == "") {
		fmt.Fprintln(e.stderr, "usage: truce discrepancies (--data DIR | --server URL) [--story ID] [--kind KIND] [--json]")
		return errUsage
	}
	var items []read.Discrepancy
	if *server != "" {
		q := url.Values{}
		for k, v := range map[string]string{"story": *story, "kind": *kind} {
			if v != "" {
				q.Set(k, v)
			}
		}
		var out struct{ Items []read.Discrepancy }
		if err := client.New(*server, *token).Do(e.ctx, "GET", "/api/v1/discrepancies?"+q.Encode(), nil, &out); err != nil {
			return err
		}
		items = out.Items
	} else {
		in, err := instance.OpenStore(e.ctx, *data)
		if err != nil {
			return err
		}
		defer in.Close()
		// The operator of a local instance reads everything.
		if items, err = read.Discrepancies(e.ctx, in.Store, truce.Everything, *story, *kind); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(items)
	}
	if len(items) == 0 {
		fmt.Fprintln(e.stdout, "no discrepancies")
	}
	for _, d := range items {
		fmt.Fprintf(e.stdout, "%s  %s  %s\n", d.Story, d.Kind, d.Subject)
		printQuote(e.stdout, "A", d.A.Outlet, d.A.Article, d.A.Says, d.A.Sentence)
		if d.B != nil {
			printQuote(e.stdout, "B", d.B.Outlet, d.B.Article, d.B.Says, d.B.Sentence)
		}
		fmt.Fprintln(e.stdout)
	}
	return nil
}

func printQuote(w io.Writer, side, outlet, article, says, sentence string) {
	fmt.Fprintf(w, "  %s  %s (%s): %s\n     “%s”\n", side, outlet, article, says, strings.TrimSpace(sentence))
}
