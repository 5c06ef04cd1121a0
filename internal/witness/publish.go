package witness

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/truce-mvm/truce/internal/tlog"
)

// Peer is a witness a log submits its checkpoints to.
type Peer struct {
	Name string `json:"name"`
	VKey string `json:"vkey"` // its tlog-cosignature/v1 verifier key
	URL  string `json:"url"`  // base URL: requests go to URL/add-checkpoint
}

// Policy is which witnesses a log uses and how many of them must cosign a
// checkpoint before it counts as published.
type Policy struct {
	Quorum int    `json:"quorum"`
	Peers  []Peer `json:"witnesses"`
}

// Check reports whether p is usable: keys parse, names match keys, names
// are distinct and the quorum can be met.
func (p Policy) Check() error {
	vs, err := p.Verifiers()
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, w := range p.Peers {
		if vs[i].Name() != w.Name {
			return fmt.Errorf("witness %q has a key named %q", w.Name, vs[i].Name())
		}
		if seen[w.Name] {
			return fmt.Errorf("witness %q is listed twice", w.Name)
		}
		seen[w.Name] = true
		if !strings.HasPrefix(w.URL, "http://") && !strings.HasPrefix(w.URL, "https://") {
			return fmt.Errorf("witness %q: URL %q is not http(s)", w.Name, w.URL)
		}
	}
	if p.Quorum < 0 || p.Quorum > len(p.Peers) {
		return fmt.Errorf("a quorum of %d out of %d witnesses", p.Quorum, len(p.Peers))
	}
	return nil
}

// Verifiers returns the cosignature verifiers of the policy's witnesses.
func (p Policy) Verifiers() ([]note.Verifier, error) {
	var out []note.Verifier
	for _, w := range p.Peers {
		v, err := fnote.NewVerifierForCosignatureV1(w.VKey)
		if err != nil {
			return nil, fmt.Errorf("witness %q: %w", w.Name, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// Latest is the newest checkpoint the log signed and a channel closed
// when a newer one exists.
type Latest func() (size int64, signed []byte, superseded <-chan struct{})

// CheckpointStore keeps cosigned checkpoints.
type CheckpointStore interface {
	Cosign(ctx context.Context, size int64, cosigned []byte) error
	Cosigned(ctx context.Context) ([]byte, int64, error)
}

// PublisherConfig is what a publisher works with.
type PublisherConfig struct {
	Policy Policy
	Latest Latest
	Tiles  tlog.TileReader // the log's own tiles, for consistency proofs
	Store  CheckpointStore
	Client *http.Client // default: 10s timeout
	Logger *slog.Logger
	// Retry is the first wait before asking witnesses again after a round
	// without a quorum. Default one second.
	Retry time.Duration
}

// Published is a checkpoint with a quorum of cosignatures.
type Published struct {
	Size int64
	Note []byte
}

// Publisher submits the log's checkpoints to its witnesses and publishes
// the newest that a quorum cosigned. Witnesses that are down or refuse
// hold back publication, never the log: entries keep being accepted and
// the next round catches up.
type Publisher struct {
	cfg       PublisherConfig
	peers     []*peer
	published atomic.Pointer[Published]
	changed   chan struct{} // closed and replaced on each publication
	mu        sync.Mutex    // guards changed and alarms
	alarms    []string
}

// peer is the publisher's view of one witness. Only one round runs at a
// time, and within it one goroutine per peer, so these need no lock.
type peer struct {
	Peer
	verifier note.Verifier
	size     int64 // the size the witness last cosigned, as far as we know
	backoff  time.Duration
	retryAt  time.Time
}

// NewPublisher returns a publisher, starting from the newest cosigned
// checkpoint in the store.
func NewPublisher(ctx context.Context, cfg PublisherConfig) (*Publisher, error) {
	if err := cfg.Policy.Check(); err != nil {
		return nil, err
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Retry <= 0 {
		cfg.Retry = time.Second
	}
	p := &Publisher{cfg: cfg, changed: make(chan struct{})}
	vs, _ := cfg.Policy.Verifiers()
	for i, w := range cfg.Policy.Peers {
		p.peers = append(p.peers, &peer{Peer: w, verifier: vs[i]})
	}
	signed, size, err := cfg.Store.Cosigned(ctx)
	if err != nil {
		return nil, err
	}
	if signed != nil {
		p.published.Store(&Published{Size: size, Note: signed})
	}
	return p, nil
}

// Policy is the witness policy the publisher follows.
func (p *Publisher) Policy() Policy { return p.cfg.Policy }

// Published returns the newest published checkpoint, nil before the first.
func (p *Publisher) Published() *Published { return p.published.Load() }

// Wait waits until a checkpoint covering at least size entries is
// published, or ctx ends.
func (p *Publisher) Wait(ctx context.Context, size int64) (*Published, error) {
	for {
		p.mu.Lock()
		changed := p.changed
		p.mu.Unlock()
		if pub := p.published.Load(); pub != nil && pub.Size >= size {
			return pub, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Alarms lists the misbehaviour witnesses reported: refused proofs, or a
// witness that has seen a larger tree of this log than the log has.
func (p *Publisher) Alarms() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.alarms...)
}

// Run publishes until ctx ends. After a round without a quorum it tries
// again on the next checkpoint, or after a wait that doubles, up to five
// seconds, while the log is quiet: a witness that comes back is used
// within seconds.
func (p *Publisher) Run(ctx context.Context) {
	wait := p.cfg.Retry
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	for {
		size, signed, superseded := p.cfg.Latest()
		pub := p.published.Load()
		switch {
		case signed == nil:
			retry.Reset(wait)
		case pub != nil && pub.Size >= size:
			wait = p.cfg.Retry
		case p.round(ctx, size, signed):
			wait = p.cfg.Retry
		default:
			retry.Reset(wait)
		}
		select {
		case <-ctx.Done():
			return
		case <-superseded:
		case <-retry.C:
			wait = min(2*wait, 5*time.Second)
		}
	}
}

// Start runs the publisher in the background until stop is called (or
// ctx ends); stop returns once it has.
func (p *Publisher) Start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	return func() { cancel(); <-done }
}

// round submits one checkpoint to the witnesses at once and publishes it
// if a quorum cosigns. It reports whether it published. Witnesses that
// failed recently sit out until their back-off ends, so one that is down
// slows the rounds only when it is retried — unless without it no quorum
// is possible.
func (p *Publisher) round(ctx context.Context, size int64, signed []byte) bool {
	now := time.Now()
	var ask []*peer
	for _, w := range p.peers {
		if !now.Before(w.retryAt) {
			ask = append(ask, w)
		}
	}
	if len(ask) < p.cfg.Policy.Quorum {
		ask = p.peers
	}
	sigs := make([][]byte, len(ask))
	var wg sync.WaitGroup
	for i, w := range ask {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sig, err := p.submit(ctx, w, size, signed)
			if err != nil {
				w.backoff = min(max(2*w.backoff, p.cfg.Retry), 30*time.Second)
				w.retryAt = time.Now().Add(w.backoff)
				p.cfg.Logger.Warn("witness did not cosign", "witness", w.Name, "size", size, "err", err, "retry_in", w.backoff)
				return
			}
			w.backoff, w.retryAt = 0, time.Time{}
			sigs[i] = sig
		}()
	}
	wg.Wait()
	cosigned := bytes.Clone(signed)
	n := 0
	for _, s := range sigs {
		if s != nil {
			cosigned = append(cosigned, s...)
			n++
		}
	}
	if n < p.cfg.Policy.Quorum {
		p.cfg.Logger.Warn("checkpoint not published: too few cosignatures", "size", size, "cosigned", n, "quorum", p.cfg.Policy.Quorum)
		return false
	}
	if err := p.cfg.Store.Cosign(ctx, size, cosigned); err != nil {
		p.cfg.Logger.Error("storing a cosigned checkpoint", "size", size, "err", err)
		return false
	}
	p.publish(size, cosigned)
	return true
}

func (p *Publisher) publish(size int64, cosigned []byte) {
	p.published.Store(&Published{Size: size, Note: cosigned})
	p.mu.Lock()
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

// Follow keeps the published checkpoint current from the store, every
// interval until ctx ends: on a standby, whose leader asks the witnesses
// and stores what a quorum cosigned.
func (p *Publisher) Follow(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		signed, size, err := p.cfg.Store.Cosigned(ctx)
		if pub := p.published.Load(); err == nil && signed != nil && (pub == nil || size > pub.Size) {
			p.publish(size, signed)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *Publisher) alarm(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	p.cfg.Logger.Error("ALARM: witness reports the log inconsistent", "detail", msg)
	p.mu.Lock()
	p.alarms = append(p.alarms, msg)
	p.mu.Unlock()
	return errors.New(msg)
}

// submit asks one witness to cosign and returns its signature line. On 409
// it adopts the size the witness reports and tries once more.
func (p *Publisher) submit(ctx context.Context, w *peer, size int64, signed []byte) ([]byte, error) {
	for attempt := 0; attempt < 2; attempt++ {
		body, err := p.request(ctx, w.size, size, signed)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(w.URL, "/")+"/add-checkpoint", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		resp, err := p.cfg.Client.Do(req)
		if err != nil {
			return nil, err
		}
		reply, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		switch resp.StatusCode {
		case http.StatusOK:
			if _, err := note.Open(append(bytes.Clone(signed), reply...), note.VerifierList(w.verifier)); err != nil {
				return nil, fmt.Errorf("its cosignature does not verify: %w", err)
			}
			w.size = size
			return sigLines(reply, w.Name), nil
		case http.StatusConflict:
			known, err := strconv.ParseInt(strings.TrimSpace(string(reply)), 10, 64)
			if err != nil || resp.Header.Get("Content-Type") != "text/x.tlog.size" {
				return nil, fmt.Errorf("409 without a size: %q", reply)
			}
			if known > size {
				return nil, p.alarm("witness %s cosigned size %d of this log, which has %d", w.Name, known, size)
			}
			w.size = known
		case http.StatusUnprocessableEntity:
			return nil, p.alarm("witness %s refused checkpoint %d from %d: %s", w.Name, size, w.size, bytes.TrimSpace(reply))
		default:
			return nil, fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(reply))
		}
	}
	return nil, errors.New("the witness's size kept changing")
}

// request builds an add-checkpoint body proving size extends old.
func (p *Publisher) request(ctx context.Context, old, size int64, signed []byte) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "old %d\n", old)
	if old > 0 && old < size {
		proof, err := tlog.ConsistencyProof(ctx, p.cfg.Tiles, old, size)
		if err != nil {
			return nil, err
		}
		for _, h := range proof {
			b.WriteString(base64.StdEncoding.EncodeToString(h[:]) + "\n")
		}
	}
	b.WriteString("\n")
	b.Write(signed)
	return b.Bytes(), nil
}

// sigLines keeps the signature lines named for the witness.
func sigLines(reply []byte, name string) []byte {
	var out []byte
	for _, l := range bytes.SplitAfter(reply, []byte("\n")) {
		if bytes.HasPrefix(l, []byte("— "+name+" ")) && bytes.HasSuffix(l, []byte("\n")) {
			out = append(out, l...)
		}
	}
	return out
}
