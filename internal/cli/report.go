package cli

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"slices"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/client"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/read"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/sitrep"
)

const reportUsage = "usage: truce report (--data DIR [--for WHO] | --server URL) [--from WHEN] [--to WHEN] [--format json|html|pdf] [--title T] [--out FILE] [--publish --key FILE]"

// cmdReport writes a situation report: from a server, as the token's
// member may see it, or from an instance's data, as --for says (by
// default everything: the operator's own reading). --publish signs the
// report's hash as report.published: the report is then the canonical
// JSON, written to --out, whose SHA-256 is the one logged.
func cmdReport(e *env, args []string) error {
	fs := e.flags("report")
	data := fs.String("data", "", "data directory to read")
	server := fs.String("server", envDefault("TRUCE_SERVER", ""), "server URL ($TRUCE_SERVER)")
	token := fs.String("token", envDefault("TRUCE_TOKEN", ""), "API token ($TRUCE_TOKEN)")
	from := fs.String("from", "", "start: YYYY-MM-DD or RFC 3339 (default: 24 hours before --to)")
	to := fs.String("to", "", "end, excluded; a date runs through its day (default: now)")
	format := fs.String("format", sitrep.FormatJSON, "json, html or pdf")
	title := fs.String("title", sitrep.DefaultTitle, "the report's title")
	out := fs.String("out", "", "write to this file (default: standard output)")
	who := fs.String("for", "", "whose reading: public, parties, mechanism, all (--data only) or a party's code; with --server, at most what you may see (default: --data everything, --server what you see)")
	publish := fs.Bool("publish", false, "publish the report: sign its hash with --key and submit it to --server (mediator)")
	key := fs.String("key", envDefault("TRUCE_KEY", ""), "with --publish, the private key file ($TRUCE_KEY)")
	if err := parse(fs, args); err != nil {
		return err
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	if *data != "" && !explicit["server"] {
		*server = "" // --data given: $TRUCE_SERVER, from an earlier demo-env, is not a second source
	}
	if (*data == "") == (*server == "") || !slices.Contains(sitrep.Formats, *format) {
		fmt.Fprintln(e.stderr, reportUsage)
		return errUsage
	}
	if *publish && (*server == "" || *key == "" || *out == "" || *format != sitrep.FormatJSON || *who == "") {
		return fmt.Errorf("--publish signs the canonical rendering and submits it: give --server, --key, --format json, --out (the file whose hash is logged, to keep and send) and --for, whom it is for (public, parties or a party: a report holds what they may see, nothing more)")
	}
	start, end, err := sitrep.ParsePeriod(*from, *to, time.Now())
	if err != nil {
		return fmt.Errorf("--%s", err) // "--from: must be a date…"
	}
	var b []byte
	if *server != "" {
		q := url.Values{"from": {start.Format(time.RFC3339)}, "to": {end.Format(time.RFC3339)}, "format": {*format}, "title": {*title}}
		if *who != "" {
			q.Set("audience", *who)
		}
		if err := client.New(*server, *token).Do(e.ctx, "GET", "/api/v1/reports/situation?"+q.Encode(), nil, &b); err != nil {
			return err
		}
	} else {
		access, err := read.AudienceAccess(cmp.Or(*who, "all"))
		if err != nil {
			return fmt.Errorf("--for: %w", err)
		}
		in, err := instance.OpenStore(e.ctx, *data)
		if err != nil {
			return err
		}
		defer in.Close()
		if access.Party != "" {
			rec, err := in.Store.Record(e.ctx, rules.TypeAgreement, "current")
			var ag truce.Agreement
			if err != nil || json.Unmarshal(rec.Doc, &ag) != nil {
				return fmt.Errorf("reading the agreement: %v", err)
			}
			if _, ok := ag.Party(access.Party); !ok {
				return fmt.Errorf("--for: %s is not a party to the agreement", access.Party)
			}
		}
		rep, err := read.Situation(e.ctx, in.Store, access, *title, start, end)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := rep.Render(&buf, *format); err != nil {
			return err
		}
		b = buf.Bytes()
	}
	if *out != "" {
		if err := os.WriteFile(*out, b, 0o644); err != nil {
			return err
		}
	} else if _, err := e.stdout.Write(b); err != nil {
		return err
	}
	if !*publish {
		return nil
	}
	sum := sha256.Sum256(b)
	s := signer{keyFile: *key, server: *server, token: *token}
	return s.sign(e, rules.KindReportPublished, rules.ReportPublication{SHA256: hex.EncodeToString(sum[:]), From: start, To: end, Title: *title}, nil)
}
