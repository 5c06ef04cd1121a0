package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/agreement"
	"github.com/truce-mvm/truce/internal/api"
	"github.com/truce-mvm/truce/internal/auth"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/gate"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/notify"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/server"
	"github.com/truce-mvm/truce/internal/web"
	"github.com/truce-mvm/truce/internal/witness"
)

func cmdInit(e *env, args []string) error {
	fs := e.flags("init")
	data := fs.String("data", "", "data directory to create")
	db := dbFlag(fs, "the PostgreSQL database (postgres://…, empty) to keep the log and the evidence files in, instead of DIR/truce.db and DIR/blobs; keys stay in DIR")
	origin := fs.String("origin", "", "the log's origin, e.g. truce.example.org/log")
	agreementFile := fs.String("agreement", "", "the agreement file (YAML)")
	membersFile := fs.String("members", "", "members to register (YAML list of id, name, role, party, keys, custodial)")
	name := fs.String("name", "", "the instance's name (default: the agreement's title)")
	exercise := fs.Bool("exercise", false, "mark everything in this instance as exercise data")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "data", "origin", "agreement"); err != nil {
		return err
	}
	raw, err := os.ReadFile(*agreementFile)
	if err != nil {
		return err
	}
	ag, err := agreement.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", *agreementFile, err)
	}
	var members []instance.Member
	if *membersFile != "" {
		if members, err = readMembers(*membersFile); err != nil {
			return err
		}
	}
	err = instance.Init(e.ctx, *data, instance.InitOptions{
		Origin: *origin, Name: *name, Exercise: *exercise || ag.Exercise, Agreement: ag, Members: members, Logger: e.log, DB: *db,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "created %s: origin %s, %d members\n", *data, *origin, len(members))
	return nil
}

// readMembers reads a members file.
func readMembers(path string) ([]instance.Member, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var list []struct {
		ID    string     `yaml:"id"`
		Name  string     `yaml:"name"`
		Role  truce.Role `yaml:"role"`
		Party string     `yaml:"party"`
		Keys  []string   `yaml:"keys"`
		// Custodial gives the member a key the server holds, to sign in the
		// browser: a choice the log shows on every entry it signs.
		Custodial bool `yaml:"custodial"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make([]instance.Member, len(list))
	for i, m := range list {
		out[i] = instance.Member{ID: m.ID, Name: m.Name, Role: m.Role, Party: m.Party, PublicKeys: m.Keys, Custodial: m.Custodial}
	}
	return out, nil
}

func cmdMigrate(e *env, args []string) error {
	fs := e.flags("migrate")
	data := fs.String("data", "", "data directory")
	db := dbFlag(fs, "")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "data"); err != nil {
		return err
	}
	in, err := instance.Open(e.ctx, *data, instance.Options{Migrate: true, Logger: e.log, DB: *db})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "schema is up to date")
	return in.Close()
}

// cmdRules says which version of the rules an instance's log is under and
// which this build knows, and with --adopt moves the log to a newer one:
// a signed entry, from which every later entry is derived under it.
func cmdRules(e *env, args []string) error {
	fs := e.flags("rules")
	data := fs.String("data", "", "data directory")
	adopt := fs.Int("adopt", 0, "move the log to this rules version from now on")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "data"); err != nil {
		return err
	}
	if *adopt != 0 {
		in, err := instance.Open(e.ctx, *data, instance.Options{Logger: e.log})
		if err != nil {
			return err
		}
		defer in.Close()
		if !in.Seq.Role().Leading {
			return fmt.Errorf("a truce serve process leads this log: stop every server over it, then adopt the version, then start them")
		}
		ack, err := in.Seq.SubmitSystem(e.ctx, rules.KindRulesAdopted, rules.RulesAdoption{Version: *adopt})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "rules version %d adopted at log index %d\n", *adopt, ack.Index)
		fmt.Fprintf(e.stdout, "rules version %d in force; this build knows versions 1 to %d\n", in.Seq.Snapshot().Rules, rules.LatestVersion)
		return nil
	}
	// Only reading: beside a serving process too.
	in, err := instance.OpenStore(e.ctx, *data)
	if err != nil {
		return err
	}
	defer in.Close()
	rec, err := in.Store.Record(e.ctx, rules.TypeInstance, in.Origin)
	if err != nil {
		return err
	}
	var doc struct {
		Rules   int `json:"rules"`
		InForce int `json:"rules_in_force"`
	}
	if err := json.Unmarshal(rec.Doc, &doc); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "rules version %d in force; this build knows versions 1 to %d\n", max(doc.InForce, doc.Rules, 1), rules.LatestVersion)
	return nil
}

// serveFlags are the flags of every command that serves.
type serveFlags struct {
	addr          string
	publicLog     string
	secureCookies bool
	limits        gate.Limits
	accounts      []web.Account // listed on the sign-in page (the demo's)
	ingest        listFlag
	ingestEvery   time.Duration
	ingestPrivate bool
	smtp          string
	mailFrom      string
	baseURL       string
	hooksPrivate  string
	advertise     string
	ops           opsFlags
}

func (f *serveFlags) register(fs *flag.FlagSet) {
	d := gate.DefaultLimits()
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&f.publicLog, "public-log", "auto", "let anyone read the whole log (tiles, bundles, proofs), not only members and witnesses: true, false, or auto (true for exercise instances)")
	fs.BoolVar(&f.secureCookies, "secure-cookies", false, "mark session cookies Secure on plain HTTP requests too (they are on every HTTPS one: --tls-cert, --autocert, or a trusted proxy's X-Forwarded-Proto)")
	fs.Int64Var(&f.limits.MaxBodyBytes, "max-body", d.MaxBodyBytes, "largest JSON request body, in bytes")
	fs.Int64Var(&f.limits.MaxUploadBytes, "max-upload", d.MaxUploadBytes, "largest evidence file, in bytes")
	fs.Float64Var(&f.limits.MemberRate, "member-rate", d.MemberRate, "requests a second per member (0: no limit)")
	fs.IntVar(&f.limits.MemberBurst, "member-burst", d.MemberBurst, "burst of requests per member")
	fs.Float64Var(&f.limits.AddressRate, "address-rate", d.AddressRate, "requests a second per client address (0: no limit)")
	fs.IntVar(&f.limits.AddressBurst, "address-burst", d.AddressBurst, "burst of requests per address")
	fs.DurationVar(&f.limits.RequestTimeout, "request-timeout", d.RequestTimeout, "time limit on handling one request")
	fs.Var(&f.ingest, "ingest", "read open-source reports from this feed, page, file or directory on a schedule (repeatable)")
	fs.DurationVar(&f.ingestEvery, "ingest-every", 15*time.Minute, "how often to read the --ingest sources")
	fs.BoolVar(&f.ingestPrivate, "ingest-allow-private", false, "let --ingest read pages on loopback, private and link-local addresses")
	fs.StringVar(&f.smtp, "smtp", "", "send e-mail notifications through this SMTP server, smtp://host:port")
	fs.StringVar(&f.mailFrom, "mail-from", "", "the From address of e-mail notifications (with --smtp)")
	fs.StringVar(&f.baseURL, "base-url", "", "the instance's public address, for links in e-mails and feeds (default: http:// or, with TLS, https:// and --addr)")
	fs.StringVar(&f.advertise, "advertise", "", "the URL clients reach this server at, which standbys over the same PostgreSQL database name while it leads")
	fs.StringVar(&f.hooksPrivate, "webhook-allow-private", "auto", "let webhooks reach loopback, private and link-local addresses: true, false, or auto (true for exercise instances)")
	f.ops.register(fs)
}

// setUp checks the flags and makes the command's logger the one they ask
// for: the one logger every part of the server is given.
func (f *serveFlags) setUp(e *env) error {
	if err := f.ops.check(); err != nil {
		return err
	}
	log, err := f.ops.logger(e.stderr)
	if err != nil {
		return err
	}
	e.log = log
	return nil
}

// notifyOptions reads the notification flags.
func (f *serveFlags) notifyOptions(exercise bool, base string) (server.NotifyOptions, error) {
	o := server.NotifyOptions{BaseURL: f.baseURL}
	if o.BaseURL == "" {
		o.BaseURL = base
	}
	switch f.hooksPrivate {
	case "auto":
		o.AllowPrivate = exercise
	case "true", "false":
		o.AllowPrivate = f.hooksPrivate == "true"
	default:
		return o, fmt.Errorf("--webhook-allow-private is true, false or auto")
	}
	if f.smtp != "" || f.mailFrom != "" {
		m, err := notify.ParseSMTP(f.smtp, f.mailFrom)
		if err != nil {
			return o, err
		}
		o.Mail = m
	}
	return o, nil
}

// serveCommand is truce serve's flags.
type serveCommand struct {
	data, db, config *string
	sf               serveFlags
}

func newServeCommand(e *env) (*flag.FlagSet, *serveCommand) {
	fs := e.flags("serve")
	c := &serveCommand{}
	c.data = fs.String("data", "", "data directory")
	c.db = dbFlag(fs, "")
	c.config = fs.String("config", "", "read flags from this YAML file, keyed by flag name (data: /var/lib/truce); flags given on the command line win")
	c.sf.register(fs)
	return fs, c
}

// parse reads the command line, then the configuration file it names.
func (c *serveCommand) parse(fs *flag.FlagSet, args []string) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return errUsage
	}
	if *c.config != "" {
		if err := applyConfig(fs, *c.config); err != nil {
			return err
		}
	}
	return nil
}

func cmdServe(e *env, args []string) error {
	fs, c := newServeCommand(e)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "data"); err != nil {
		return err
	}
	data, db, sf := c.data, c.db, c.sf
	if err := sf.setUp(e); err != nil {
		return err
	}
	in, err := instance.Open(e.ctx, *data, instance.Options{Logger: e.log, DB: *db, Advertise: sf.advertise})
	if err != nil {
		return err
	}
	defer in.Close()
	return serve(e, in, sf, func(url string) {
		fmt.Fprintf(e.stdout, "Truce serving %s at %s\n", in.Origin, url)
	})
}

// serve serves an open instance until e.ctx ends, calling ready with the
// base URL once it listens: over HTTPS with --tls-cert or --autocert,
// with the HTTP redirect and the metrics listeners asked for. With
// witnesses, it publishes checkpoints as they cosign them.
func serve(e *env, in *instance.Instance, sf serveFlags, ready func(url string)) error {
	addr := sf.addr
	var publicLog bool
	switch sf.publicLog {
	case "auto":
		publicLog = in.Seq.Snapshot().Instance.Exercise
	case "true", "false":
		publicLog = sf.publicLog == "true"
	default:
		return fmt.Errorf("--public-log is true, false or auto")
	}
	proxies, err := gate.ParseProxies(sf.ops.trustedProxies)
	if err != nil {
		return err
	}
	metricsToken, err := sf.ops.readMetricsToken()
	if err != nil {
		return err
	}
	tlsConf, acme, err := sf.ops.tlsConfig(e.log, in.Dir)
	if err != nil {
		return err
	}
	scheme := "http://"
	if tlsConf != nil {
		scheme = "https://"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	no, err := sf.notifyOptions(in.Seq.Snapshot().Instance.Exercise, scheme+ln.Addr().String())
	if err != nil {
		ln.Close()
		return err
	}
	pub, err := in.Publisher(e.ctx, e.log)
	if err != nil {
		return fmt.Errorf("witnesses: %w", err)
	}
	if pub != nil {
		// The leader asks the witnesses; a standby reads what they
		// cosigned from the database.
		ctx, cancel := context.WithCancel(e.ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			in.Seq.WhileLeading(ctx, pub.Run, func(ctx context.Context) { pub.Follow(ctx, time.Second) })
		}()
		defer func() { cancel(); <-done }()
		if cp := in.Seq.Checkpoint(); cp != nil {
			awaitPublished(e, pub, cp.Size)
		}
	}
	if len(sf.ingest) > 0 {
		if err := scheduleIngest(e.ctx, e, in, sf.ingest, sf.ingestEvery, sf.ingestPrivate); err != nil {
			return err
		}
	}
	srv, err := server.New(in, server.Options{Witnesses: pub, Policy: policy.Options{PublicLog: publicLog}, Limits: sf.limits,
		Accounts: sf.accounts, SecureCookies: sf.secureCookies, Logger: e.log, Notify: no,
		Proxies: proxies, RequestLog: true, MetricsToken: metricsToken, WitnessLag: sf.ops.witnessLag})
	if err != nil {
		ln.Close()
		return err
	}
	others, err := sf.ops.listen(ln, acme, srv.Metrics)
	if err != nil {
		ln.Close()
		return err
	}
	main := api.NewHTTPServer(ln.Addr().String(), srv.Handler)
	main.TLSConfig = tlsConf
	defer srv.Start(e.ctx)()
	return runAll(e, append([]listener{{name: "main", ln: ln, srv: main, tls: tlsConf != nil}}, others...), func() {
		for _, l := range others {
			e.log.Info("listening", "for", l.name, "addr", l.ln.Addr().String())
		}
		ready(scheme + ln.Addr().String())
	})
}

// awaitPublished waits a little for the witnesses to cosign the newest
// checkpoint, so that a server that says it is ready serves one.
func awaitPublished(e *env, pub *witness.Publisher, size int64) {
	ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
	defer cancel()
	if _, err := pub.Wait(ctx, size); err != nil && e.ctx.Err() == nil {
		e.log.Warn("the witnesses have not cosigned the newest checkpoint yet; /log/checkpoint serves the last one they did", "size", size)
	}
}

func cmdKey(e *env, args []string) error {
	if len(args) == 0 || args[0] != "generate" {
		fmt.Fprintln(e.stderr, "usage: truce key generate --out FILE [--member ID]")
		return errUsage
	}
	fs := e.flags("key generate")
	out := fs.String("out", "", "file to write the private key to (must not exist)")
	member := fs.String("member", "", "member id the key belongs to (recorded in the file)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if err := required(fs, "out"); err != nil {
		return err
	}
	k, err := entry.GenerateKey(*member)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o700); err != nil {
		return err
	}
	if err := entry.WriteKeyFile(*out, k); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, k.PublicKey())
	return nil
}

func cmdToken(e *env, args []string) error {
	if len(args) == 0 || args[0] != "issue" {
		fmt.Fprintln(e.stderr, "usage: truce token issue --data DIR --member ID [--expires DURATION]")
		return errUsage
	}
	fs := e.flags("token issue")
	data := fs.String("data", "", "data directory")
	member := fs.String("member", "", "member id")
	expires := fs.String("expires", "", "lifetime, e.g. 30d (default: no expiry)")
	name := fs.String("name", "", "what the token is for")
	var scopes listFlag
	fs.Var(&scopes, "scopes", "read, write, manage (default read,write)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if err := required(fs, "data", "member"); err != nil {
		return err
	}
	var until time.Time
	now := time.Now()
	if *expires != "" {
		d, err := truce.ParseDuration(*expires)
		if err != nil {
			return err
		}
		until = now.Add(time.Duration(d))
	}
	for _, sc := range scopes {
		if !slices.Contains(policy.AllScopes, sc) {
			return fmt.Errorf("unknown scope %q: use read, write, manage", sc)
		}
	}
	// The store alone: tokens may be issued while the server runs.
	in, err := instance.OpenStore(e.ctx, *data)
	if err != nil {
		return err
	}
	defer in.Close()
	if _, err := in.Store.Record(e.ctx, "member", *member); err != nil {
		return fmt.Errorf("no member %q", *member)
	}
	tok, _, err := auth.IssueToken(e.ctx, in.Store, auth.TokenSpec{Member: *member, Name: *name, Scopes: scopes, Expires: until}, now)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, tok)
	return nil
}
