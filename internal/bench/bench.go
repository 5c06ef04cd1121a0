// Package bench measures the log the way the design states its targets:
// concurrent clients submitting client-signed allegations over HTTP to a
// fresh instance, each acknowledged only once durable; the time from
// acknowledgement to a published checkpoint — cosigned by two witnesses,
// as the demo runs them — that covers the entry; and an auditor checking
// the resulting log over HTTP from scratch.
package bench

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/api"
	"github.com/truce-mvm/truce/internal/audit"
	"github.com/truce-mvm/truce/internal/auth"
	"github.com/truce-mvm/truce/internal/demo"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/gate"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/sequencer"
	"github.com/truce-mvm/truce/internal/server"
	"github.com/truce-mvm/truce/internal/store/sqlite"
	"github.com/truce-mvm/truce/internal/witness"
)

// Targets for a 2-core machine (docs/performance.md): on SQLite, and on
// PostgreSQL running on the same machine.
var (
	targets   = map[int]float64{64: 5000, 512: 9000}
	pgTargets = map[int]float64{64: 3000}
)

const (
	checkpointTargetMs   = 250
	pgCheckpointTargetMs = 500
)

// Result is one run's figures, printed as one JSON line.
type Result struct {
	Clients            int     `json:"clients"`
	Store              string  `json:"store"`  // sqlite, or postgresql with the server's version and durability settings
	Sealed             bool    `json:"sealed"` // every filing kept within the mechanism: a sealed entry and its opening
	Entries            int     `json:"entries"`
	Seconds            float64 `json:"seconds"`
	EntriesPerS        float64 `json:"entries_per_s"`
	TargetEntriesPerS  float64 `json:"target_entries_per_s,omitempty"`
	AckP50Ms           float64 `json:"ack_p50_ms"`
	AckP99Ms           float64 `json:"ack_p99_ms"`
	CheckpointP99Ms    float64 `json:"checkpoint_p99_ms"` // to a checkpoint cosigned by every witness
	CheckpointTargetMs float64 `json:"checkpoint_target_ms"`
	Witnesses          int     `json:"witnesses"`
	// The auditor, from scratch over HTTP: every entry's signature, rules
	// and hashes, the server's tiles, and every record compared with the
	// API. The target is half the machine's Ed25519 verification bound.
	AuditEntriesPerS  float64 `json:"audit_entries_per_s"`
	AuditTargetPerS   float64 `json:"audit_target_entries_per_s"`
	AuditRecords      int     `json:"audit_records_compared"`
	Ed25519VerifyPerS float64 `json:"ed25519_verify_per_s_one_core"` // crypto/ed25519: the machine's bound
	FastVerifyPerS    float64 `json:"entry_verify_per_s_one_core"`   // what the server runs per entry
	// The write-ahead log's largest size after a commit during the run,
	// against the limit past which the writer folds it into the database.
	WALMaxMiB   float64 `json:"wal_max_mib"`
	WALLimitMiB float64 `json:"wal_limit_mib"`
	Cores       int     `json:"cores"`
	Errors      int     `json:"errors"`
	Peer        string  `json:"peer"`
}

// Options configure a run.
type Options struct {
	Clients int
	Entries int    // in all, split between the clients
	Dir     string // a fresh directory for the instance
	// Witnesses run on loopback and must all cosign (0: checkpoints are
	// published as soon as signed).
	Witnesses int
	// Sealed files every allegation for the mechanism only: each is a
	// sealed entry, sent with its opening, which the server checks and
	// keeps beside the log — the cost of confidentiality.
	Sealed bool
	// DB, if set, is a PostgreSQL database (postgres://…) to keep the log
	// in: the run makes a schema of its own there and drops it after.
	DB     string
	Logger *slog.Logger
}

// Run creates an instance in o.Dir, serves it on loopback, and drives it.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	res := &Result{Clients: o.Clients, Store: "sqlite", Sealed: o.Sealed, TargetEntriesPerS: targets[o.Clients], CheckpointTargetMs: checkpointTargetMs, Witnesses: o.Witnesses,
		Cores: runtime.GOMAXPROCS(0), Peer: "Tessera POSIX in-process here: ~3,500/s (64 writers), ~9,100/s (512, Ed25519 checks), checkpoint p99 0.12-0.16 s"}
	if o.DB != "" {
		db, server, drop, err := freshSchema(ctx, o.DB)
		if err != nil {
			return nil, err
		}
		defer drop()
		o.DB, res.Store = db, server
		res.TargetEntriesPerS, res.CheckpointTargetMs = pgTargets[o.Clients], pgCheckpointTargetMs
	}
	res.Ed25519VerifyPerS, res.FastVerifyPerS = ed25519Rate()
	rg, err := newRig(ctx, o)
	if err != nil {
		return nil, err
	}
	defer rg.close()
	in, base, tokens, published := rg.in, rg.base, rg.tokens, rg.published

	// Clients sign on their own machines: sign everything, and write the
	// requests out, before the clock starts.
	per := max(1, o.Entries/o.Clients)
	bodies := rg.sign(0, per, o.Sealed)
	var wg sync.WaitGroup

	tr := &http.Transport{MaxIdleConns: o.Clients + 8, MaxIdleConnsPerHost: o.Clients + 8, DisableCompression: true}
	hc := &http.Client{Transport: tr, Timeout: 2 * time.Minute}
	defer tr.CloseIdleConnections()

	// The checkpoint watcher: when each tree size was first seen published.
	type seen struct {
		at   time.Time
		size int64
	}
	var cps []seen
	stopWatch := make(chan struct{})
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		for {
			select {
			case <-stopWatch:
				return
			default:
			}
			if size, err := checkpointSize(hc, base); err == nil && (len(cps) == 0 || size > cps[len(cps)-1].size) {
				cps = append(cps, seen{time.Now(), size})
			}
			time.Sleep(time.Millisecond)
		}
	}()

	type ack struct {
		at      time.Time
		index   int64
		latency time.Duration
	}
	acks := make([][]ack, o.Clients)
	errs := make([]int, o.Clients)
	conns := make([]*conn, o.Clients)
	for c := range conns {
		if conns[c], err = dial(rg.addr); err != nil {
			return nil, err
		}
		defer conns[c].Close()
	}
	start := time.Now()
	for c := 0; c < o.Clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, req := range bodies[c] {
				t0 := time.Now()
				index, err := conns[c].post(req)
				if err != nil {
					errs[c]++
					continue
				}
				now := time.Now()
				acks[c] = append(acks[c], ack{now, index, now.Sub(t0)})
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	// Wait for the published checkpoint covering the last entry.
	deadline := time.Now().Add(5 * time.Second)
	var maxIndex int64
	for _, as := range acks {
		for _, a := range as {
			maxIndex = max(maxIndex, a.index)
		}
	}
	for published() <= maxIndex && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	close(stopWatch)
	<-watchDone

	var lat, cpLat []float64
	for c := range acks {
		res.Errors += errs[c]
		for _, a := range acks[c] {
			res.Entries++
			lat = append(lat, ms(a.latency))
			i, _ := slices.BinarySearchFunc(cps, a.index+1, func(s seen, size int64) int {
				return int(s.size - size)
			})
			if i == len(cps) {
				cpLat = append(cpLat, ms(5*time.Second)) // never seen: count it as very late
				continue
			}
			cpLat = append(cpLat, ms(max(0, cps[i].at.Sub(a.at))))
		}
	}
	res.Seconds = elapsed.Seconds()
	res.EntriesPerS = float64(res.Entries) / elapsed.Seconds()
	res.AckP50Ms, res.AckP99Ms = percentile(lat, 0.50), percentile(lat, 0.99)
	res.CheckpointP99Ms = percentile(cpLat, 0.99)
	if db, ok := in.Store.(interface{ WALMax() int64 }); ok {
		res.WALMaxMiB, res.WALLimitMiB = float64(db.WALMax())/(1<<20), float64(sqlite.DefaultWALLimit)/(1<<20)
	}

	// An auditor checks it all, from scratch, as a party would.
	res.AuditTargetPerS = 0.5 * res.Ed25519VerifyPerS * float64(res.Cores)
	t0 := time.Now()
	a, err := audit.NewAuditor(ctx, audit.AuditorConfig{URL: base, Token: tokens[0], LogKey: in.VKey, Quorum: -1})
	if err != nil {
		return nil, err
	}
	defer a.Close()
	r, err := a.Check(ctx)
	if err != nil {
		return nil, fmt.Errorf("the audit of the benchmark's log: %w", err)
	}
	res.AuditEntriesPerS = float64(r.Size) / time.Since(t0).Seconds()
	res.AuditRecords = r.Records
	return res, nil
}

// rig is a fresh instance served on loopback: members who file
// allegations, each with its key and a token, a party's liaison who reads,
// and the witnesses that cosign its checkpoints.
type rig struct {
	o       Options
	in      *instance.Instance
	addr    string // host:port
	base    string // http://host:port
	keys    []*entry.PrivateKey
	members []instance.Member
	tokens  []string
	liaison string // the token of a party's liaison, to read as a party does
	pub     *witness.Publisher
	closers []func()
}

const origin = "bench.truce.example/log"

// newRig creates the instance in o.Dir (its log in o.DB if set) with
// o.Clients filing members, and serves it.
func newRig(ctx context.Context, o Options) (_ *rig, err error) {
	r := &rig{o: o}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	ag, err := demo.Agreement()
	if err != nil {
		return nil, err
	}
	r.keys = make([]*entry.PrivateKey, o.Clients)
	for i := range r.keys {
		id := fmt.Sprintf("bench-%04d", i)
		if r.keys[i], err = entry.GenerateKey(id); err != nil {
			return nil, err
		}
		r.members = append(r.members, instance.Member{ID: id, Name: "Bench monitor " + id, Role: truce.RoleMonitor,
			Party: truce.Mechanism, PublicKeys: []string{r.keys[i].PublicKey()}})
	}
	lk, err := entry.GenerateKey("bench-liaison")
	if err != nil {
		return nil, err
	}
	liaison := instance.Member{ID: "bench-liaison", Name: "Bench liaison", Role: truce.RoleLiaison, Party: "PK", PublicKeys: []string{lk.PublicKey()}}
	if err := instance.Init(ctx, o.Dir, instance.InitOptions{Origin: origin, Name: "bench", Agreement: ag, Members: append(r.members, liaison), DB: o.DB}); err != nil {
		return nil, err
	}
	if r.in, err = instance.Open(ctx, o.Dir, instance.Options{Logger: o.Logger, DB: o.DB}); err != nil {
		return nil, err
	}
	r.closers = append(r.closers, func() { r.in.Close() })
	for _, m := range append(r.members, liaison) {
		tok, _, err := auth.IssueToken(ctx, r.in.Store, auth.TokenSpec{Member: m.ID, Name: "bench"}, time.Now())
		if err != nil {
			return nil, err
		}
		r.tokens = append(r.tokens, tok)
	}
	r.tokens, r.liaison = r.tokens[:len(r.members)], r.tokens[len(r.members)]
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	// One address and few members send everything: no rate limits here.
	limits := gate.DefaultLimits()
	limits.MemberRate, limits.AddressRate = 0, 0
	pub, stopWitnesses, err := startWitnesses(ctx, r.in, o)
	if err != nil {
		ln.Close()
		return nil, err
	}
	r.pub = pub
	r.closers = append(r.closers, stopWitnesses)
	served, err := server.New(r.in, server.Options{Witnesses: pub, Limits: limits, Logger: o.Logger})
	if err != nil {
		ln.Close()
		return nil, err
	}
	srv := api.NewHTTPServer("", served.Handler)
	go srv.Serve(ln)
	r.closers = append(r.closers, func() { srv.Close() })
	r.addr = ln.Addr().String()
	r.base = "http://" + r.addr
	return r, nil
}

// close stops what newRig started, the last first.
func (r *rig) close() {
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
	r.closers = nil
}

// published is the size of the newest published checkpoint: cosigned by
// every witness, if there are any.
func (r *rig) published() int64 {
	if r.pub != nil {
		if p := r.pub.Published(); p != nil {
			return p.Size
		}
		return 0
	}
	if cp := r.in.Seq.Checkpoint(); cp != nil {
		return cp.Size
	}
	return 0
}

// sign signs per allegations for each member, at the member's seqs after
// done, and writes out each one's request: a client signs on its own
// machine, so this is not part of what is measured.
func (r *rig) sign(done, per int, sealed bool) [][][]byte {
	bodies := make([][][]byte, len(r.members))
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := w; c < len(r.members); c += runtime.GOMAXPROCS(0) {
				for s := done + 1; s <= done+per; s++ {
					f := filing((s-1)*len(r.members) + c)
					if sealed {
						f.Visibility = truce.Internal
					}
					env, opening, err := sequencer.SignSealing(rules.KindAllegationFiled, origin, r.members[c].ID, uint64(s), time.Now(), f, r.keys[c], nothingYet)
					if err != nil {
						panic(err)
					}
					var b []byte
					if opening != nil {
						b, _ = json.Marshal(map[string]any{"envelope": env, "opening": opening})
					} else {
						b, _ = json.Marshal(env)
					}
					bodies[c] = append(bodies[c], request(r.base, r.tokens[c], b))
				}
			}
		}()
	}
	wg.Wait()
	return bodies
}

// nothingYet is a client's view of a fresh log: a filing is sealed or not
// by what it says.
func nothingYet(rules.Ref) (truce.Visibility, bool) { return "", false }

// startWitnesses runs o.Witnesses witnesses on loopback and a publisher
// that needs them all.
func startWitnesses(ctx context.Context, in *instance.Instance, o Options) (*witness.Publisher, func(), error) {
	if o.Witnesses == 0 {
		return nil, func() {}, nil
	}
	var ws []instance.LocalWitness
	for i := range o.Witnesses {
		ws = append(ws, instance.LocalWitness{Dir: strconv.Itoa(i), Name: fmt.Sprintf("witness-%d.bench.truce.example", i)})
	}
	stop, err := in.StartLocalWitnesses(ctx, ws, o.Logger)
	if err != nil {
		return nil, nil, err
	}
	pub, err := in.Publisher(ctx, o.Logger)
	if err != nil {
		stop()
		return nil, nil, err
	}
	stopPublishing := pub.Start(ctx)
	return pub, func() { stopPublishing(); stop() }, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	return xs[min(len(xs)-1, int(p*float64(len(xs))))]
}

// ed25519Rate measures one core's Ed25519 verifications per second, with
// crypto/ed25519 and with the entry verifier (DSSE over a precomputed key).
func ed25519Rate() (stdlib, entries float64) {
	k, _ := entry.GenerateKey("bench")
	env, _ := entry.Sign(entry.Payload{Kind: "k", Origin: "o", Author: "a", Seq: 1, Time: time.Now(),
		Body: json.RawMessage(`{"narrative":"` + strings.Repeat("x", 700) + `"}`)}, k)
	e, _ := entry.Open(env)
	pub, _ := entry.ParsePublicKey(k.PublicKey())
	msg := dsse.PAE(env.PayloadType, []byte(strings.Repeat("x", 800)))
	sig := ed25519.Sign(k.Key, msg)
	rate := func(verify func() bool) float64 {
		n := 0
		start := time.Now()
		for time.Since(start) < time.Second {
			for i := 0; i < 100; i++ {
				if !verify() {
					panic("bench: signature does not verify")
				}
			}
			n += 100
		}
		return float64(n) / time.Since(start).Seconds()
	}
	stdlib = rate(func() bool { return ed25519.Verify(k.Key.Public().(ed25519.PublicKey), msg, sig) })
	entries = rate(func() bool { return e.Verify(pub) == nil })
	return stdlib, entries
}

func filing(n int) truce.AllegationFiling {
	against := []string{"AF", "PK"}[n%2]
	return truce.AllegationFiling{
		Category: "shelling_artillery_missile",
		Occurred: truce.Occurred{From: time.Now().Add(-time.Duration(1+n%500) * time.Hour).UTC().Truncate(time.Minute), Precision: 1},
		Place: truce.Place{Lat: 31 + float64(n%400)/100, Lon: 66 + float64(n%600)/100, GeoPrecision: 2,
			Country: map[string]string{"AF": "PK", "PK": "AF"}[against], Admin1: "Border province", Location: "Border post " + strconv.Itoa(n%97)},
		Clauses:     []string{"no-cross-border-fire"},
		Perpetrator: truce.Perpetrator{Kind: truce.PerpParty, Party: against},
		Casualties:  truce.Casualties{Killed: n % 3, Injured: n % 7},
		Narrative:   "Benchmark allegation " + strconv.Itoa(n) + ": mortar rounds fired across the border at a post, reported by the monitoring team with the time and bearing of each impact.",
	}
}

// request writes out a POST of an envelope.
func request(base, token string, body []byte) []byte {
	host := strings.TrimPrefix(base, "http://")
	return fmt.Appendf(nil, "POST /api/v1/entries HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", host, token, len(body), body)
}

// conn is one client's keep-alive connection. A load generator should cost
// the machine as little as it can, so it writes prepared requests and
// reads answers with net/http's parser, without the http.Client machinery.
type conn struct {
	net.Conn
	r *bufio.Reader
}

func dial(addr string) (*conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &conn{Conn: c, r: bufio.NewReader(c)}, nil
}

// post sends one request and returns the acknowledged index.
func (c *conn) post(req []byte) (int64, error) {
	if _, err := c.Write(req); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return 0, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusCreated {
		return 0, fmt.Errorf("%s: %s", resp.Status, b)
	}
	var a struct {
		Index int64 `json:"index"`
	}
	err = json.Unmarshal(b, &a)
	return a.Index, err
}

func checkpointSize(hc *http.Client, base string) (int64, error) {
	resp, err := hc.Get(base + "/log/checkpoint")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		return 0, fmt.Errorf("checkpoint: %v %d", err, resp.StatusCode)
	}
	lines := strings.SplitN(string(b), "\n", 3)
	if len(lines) < 3 {
		return 0, fmt.Errorf("short checkpoint")
	}
	return strconv.ParseInt(lines[1], 10, 64)
}
